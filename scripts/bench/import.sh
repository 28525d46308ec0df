#!/usr/bin/env bash
# Benchmark `testr import` of a stestr repository against `stestr load` of
# the same streams. Prints a markdown report with both wall times and their
# ratio (target: import at least 20x faster).
#
#   scripts/bench/import.sh [--quick] [--reps N]
#
# Env: TESTR (our binary; default: `cargo build --release`, target/release/testr),
#      PYTHON_VENV (venv with python-subunit, stestr and testrepository;
#      default: target/bench-venv, created on first use; /tmp/venv works),
#      GEN_STREAM (default ../shared/bench/gen_stream.py beside the repository),
#      WORK (scratch dir; default: a mktemp -d, removed at the end unless
#      KEEP_WORK=1; a WORK you give is kept).
#
# What it does: gen_stream.py writes 4 subunit v2 streams of TESTS tests
# (different seeds, so the failing set moves from run to run). stestr 4.2.1
# loads them RUNS times in turn into a fresh .stestr/, each `stestr load <
# stream` timed; those loads also make the repository imported next, in
# stestr's own layout (run files in subunit v1, times.dbm). Then `testr
# import` of that .stestr/ into an empty project is timed REPS times (each
# into a fresh repository); the median is compared with the sum of the
# stestr loads. Timing is bash's $EPOCHREALTIME around each command, start-up
# included; peak RSS of one import comes from GNU /usr/bin/time when there.
#
# Sizes: RUNS=100 runs x TESTS=2000 tests, 3 reps (--quick: 10 runs, 1 rep).
# This is not a test: it asserts nothing and only prints.
set -euo pipefail
shopt -s inherit_errexit

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

usage() {
    sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

BENCH_NAME=import.sh
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$SCRIPT_DIR/common.sh"
parse_options "$@"

TESTS=2000
STREAMS=4
TARGET=20
if ((QUICK)); then
    RUNS=10
    : "${REPS:=1}"
else
    RUNS=100
    : "${REPS:=3}"
fi
GEN_STREAM="${GEN_STREAM:-$REPO_ROOT/../shared/bench/gen_stream.py}"
[[ -f "$GEN_STREAM" ]] || die "no gen_stream.py at $GEN_STREAM (set GEN_STREAM)"

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

main() {
    make_work_dir testr-import-bench
    if ((WORK_OWNED)) && [[ "${KEEP_WORK:-0}" != 1 ]]; then
        trap 'rm -rf "$WORK"' EXIT
    fi
    setup_venv
    setup_testr
    say "scratch dir: $WORK; $RUNS runs x $TESTS tests, $REPS reps of the import"

    local i streams=()
    for ((i = 0; i < STREAMS; i++)); do
        streams+=("$WORK/stream-$i.subunit")
        "$PY" "$GEN_STREAM" "${streams[i]}" --tests "$TESTS" --seed $((300 + i)) --fail-ratio 0.02
    done

    # stestr: one `stestr load` per run, as a project that moves to testr
    # made its history; this is also the repository imported below.
    local st="$WORK/stestr-project"
    rm -rf "$st" && mkdir -p "$st"
    printf '[DEFAULT]\ntest_path=.\n' >"$st/.stestr.conf"
    (cd "$st" && "$PY_STESTR" init >/dev/null)
    say "stestr: loading $RUNS runs"
    local start rc stestr_total=0 t
    for ((i = 0; i < RUNS; i++)); do
        start=$(now)
        rc=0
        (cd "$st" && "$PY_STESTR" load <"${streams[i % STREAMS]}" >/dev/null 2>&1) || rc=$?
        ((rc <= 1)) || die "stestr load failed (run $i, exit $rc)"
        t=$(elapsed "$start" "$(now)")
        stestr_total=$(awk -v s="$stestr_total" -v t="$t" 'BEGIN { printf "%.3f", s + t }')
    done
    local files
    files=$(find "$st/.stestr" -maxdepth 1 -regex '.*/[0-9]+' | wc -l)
    ((files == RUNS)) || die "stestr left $files run files, expected $RUNS"

    # Ours: `testr import` of that .stestr/ into a fresh project, REPS times.
    local ours="$WORK/ours" times=() out
    say "ours: importing $RUNS runs, $REPS times"
    for ((i = 0; i < REPS; i++)); do
        rm -rf "$ours" && mkdir -p "$ours"
        start=$(now)
        out=$("$TESTR" -d "$ours" import "$st/.stestr" 2>/dev/null) || die "testr import failed: $out"
        times+=("$(elapsed "$start" "$(now)")")
    done
    local expected="imported $RUNS runs ($((RUNS * TESTS)) tests) from $st/.stestr"
    [[ "$out" == "$expected" ]] || die "testr import said: $out (expected: $expected)"
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    local rss=n/a
    if [[ -x /usr/bin/time ]]; then
        rm -rf "$ours" && mkdir -p "$ours"
        /usr/bin/time -f '%M' -o "$WORK/rss" "$TESTR" -d "$ours" import "$st/.stestr" >/dev/null 2>&1
        rss="$(awk '{ printf "%.1f MB", $1 / 1024 }' "$WORK/rss")"
    fi

    local bytes
    bytes=$(du -sb "$st/.stestr" | cut -f1)
    echo "# testr import benchmark"
    echo
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || echo unknown)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- ours: $TESTR ($("$TESTR" --version 2>/dev/null | head -1 || true)); stestr: $("$PY_STESTR" --version 2>/dev/null | head -1); $("$PY" --version 2>&1)"
    echo "- data: $RUNS runs x $TESTS tests ($STREAMS generated streams in turn, 2% failures, 1% skips); the .stestr/ stestr made of them: $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
    echo "- timer: \$EPOCHREALTIME around each command, process start-up included$( ((QUICK)) && echo "; --quick sizes")"
    echo
    echo "| what | wall time (s) |"
    echo "|---|---|"
    echo "| stestr 4.2.1: $RUNS x \`stestr load < stream\` | $stestr_total ($(awk -v s="$stestr_total" -v n="$RUNS" 'BEGIN { printf "%.3f", s / n }') per run) |"
    echo "| ours: \`testr import .stestr\`, median of $REPS (${times[*]}) | $median |"
    echo
    echo "ratio stestr / ours: $(awk -v s="$stestr_total" -v o="$median" 'BEGIN { printf "%.1fx", s / o }') (target: at least ${TARGET}x)"
    echo
    echo "peak RSS of one import: $rss"
}

main

#!/usr/bin/env bash
# Benchmark our Rust `testr` against Python testrepository (`testr`) and stestr,
# side by side in one run, and print a markdown table of medians and ratios.
#
#   scripts/bench/query.sh [--quick]
#
# Env: TESTR (our binary; default: `cargo build --release`, target/release/testr),
#      PYTHON_VENV (venv with python-subunit, testrepository, stestr; default:
#      target/bench-venv, created on first use; PYTHON_VENV=/tmp/venv works too),
#      WORK (scratch dir; default: a mktemp -d, removed at the end),
#      BENCH_NO_HYPERFINE=1 (use the fallback timer even if hyperfine is installed),
#      KEEP_WORK=1 (keep the scratch dir for inspection).
#
# This is not a test: it asserts nothing about timings and only prints. The
# targets are in scripts/bench/README.md and in the table's notes.
set -euo pipefail
# A failing `$(measure ...)` must stop the script, not yield an empty cell.
shopt -s inherit_errexit

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "query.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

# Sizes. --quick divides everything by ~10 so a run stays under a minute.
if ((QUICK)); then
    LOAD_TESTS=2000          # case 1/2: one stream of this many tests
    HIST_RUNS=50             # case 3: runs stored in the history repository
    HIST_TESTS=2000          #         tests per run
    PY_HIST_RUNS=3           #         runs given to the Python tools (they are slow)
    BIG_BASE_TESTS=20000     # case 4: tests in the stream that is concatenated
    BIG_TARGET_MB=100        #         size of the concatenated stream
    PROF_ROUNDS=20           # case 5: rounds of 4 profile loads each
    PROF_TESTS=2000
    MAX_RUNS=5               # timing: at most this many runs per command
else
    LOAD_TESTS=20000
    HIST_RUNS=500
    HIST_TESTS=2000
    PY_HIST_RUNS=20
    BIG_BASE_TESTS=200000
    BIG_TARGET_MB=1000
    PROF_ROUNDS=200
    PROF_TESTS=2000
    MAX_RUNS=30
fi
MIN_RUNS=3       # at least this many timed runs, even for slow commands
TIME_BUDGET=3    # seconds: stop adding runs above MIN_RUNS after this long (hyperfine: built in, also 3 s)
HIST_STREAMS=4   # distinct streams reused for the history loads (generation is slower than our load)
GEN_STREAM="${GEN_STREAM:-$REPO_ROOT/../shared/bench/gen_stream.py}"
[[ -f "$GEN_STREAM" ]] || GEN_STREAM="$SCRIPT_DIR/gen_stream.py"

BENCH_NAME=query.sh
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$SCRIPT_DIR/common.sh"

# ---------------------------------------------------------------- setup ----

setup_work() {
    make_work_dir testr-bench
    trap cleanup EXIT
}

cleanup() {
    if ((WORK_OWNED)) && [[ "${KEEP_WORK:-0}" != 1 ]]; then
        rm -rf "$WORK"
    elif [[ -n "${WORK:-}" ]]; then
        say "scratch dir kept: $WORK"
    fi
}


# The fallback timer (no hyperfine) and the fallback peak-RSS probe (no GNU
# time) share one small Python helper: it runs shell commands like hyperfine
# does (prepare, then the command, output discarded) and prints the median.
write_helpers() {
    cat >"$WORK/timeit.py" <<'EOF'
import resource, statistics, subprocess, sys, time
mode = sys.argv[1]
if mode == "time":
    import shlex
    min_runs, max_runs, budget = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    shell, prepare, cmd = sys.argv[5] == "1", sys.argv[6], sys.argv[7]
    if not shell:
        cmd = shlex.split(cmd)
    times, start = [], time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < budget):
        if prepare:
            subprocess.run(prepare, shell=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.perf_counter()
        subprocess.run(cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    print("%.1f" % (statistics.median(times) * 1000))
elif mode == "rss":  # prints "<wall seconds> <peak RSS KiB>" of one shell command
    t = time.perf_counter()
    subprocess.run(sys.argv[2], shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    print("%.2f %d" % (wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
elif mode == "median":  # hyperfine JSON export -> median in ms
    import json
    print("%.1f" % (json.load(open(sys.argv[2]))["results"][0]["median"] * 1000))
EOF
}

# ---------------------------------------------------------------- timing ----

if [[ "${BENCH_NO_HYPERFINE:-0}" != 1 ]] && command -v hyperfine >/dev/null; then
    TIMER=hyperfine
else
    TIMER=python-loop
fi

# measure [--no-shell] PREPARE CMD -> prints the median wall time in ms, or
# err(N). Both are shell strings. Commands that need a shell (a redirect, or
# `cd` for the Python tools, which find their repository from the current
# directory) run through sh and hyperfine subtracts the shell's own start-up
# time; --no-shell execs CMD directly (word-split like sh), which is more
# precise for our millisecond queries.
#
# The command is run once first (after PREPARE) as a sanity check: exit 0 or
# 1 (1 = "the stream/repo has failures") is fine; anything else, or a Python
# traceback / "No repository" on stderr (stestr exits 1 for those too), means
# the command did not do its job, and timing an error message would give a
# meaningless number, so we report err(N) instead.
measure() {
    local shell=1
    if [[ "$1" == --no-shell ]]; then shell=0; shift; fi
    local prepare="$1" cmd="$2" rc=0
    if [[ -n "$prepare" ]]; then sh -c "$prepare" >/dev/null 2>&1 || die "prepare failed: $prepare"; fi
    sh -c "$cmd" >/dev/null 2>"$WORK/last-stderr" || rc=$?
    if ((rc > 1)) || grep -qE 'Traceback|No repository' "$WORK/last-stderr"; then
        say "  exit $rc from: $cmd"
        sed 's/^/    /' "$WORK/last-stderr" | tail -5 >&2
        echo "err($rc)"
        return 0
    fi
    if [[ $TIMER == hyperfine ]]; then
        local args=(--ignore-failure --min-runs "$MIN_RUNS" --max-runs "$MAX_RUNS"
            --export-json "$WORK/hf.json" --style basic)
        ((shell)) || args+=(--shell=none)
        [[ -n "$prepare" ]] && args+=(--prepare "$prepare")
        hyperfine "${args[@]}" "$cmd" >>"$WORK/hyperfine.log" 2>&1 ||
            die "hyperfine failed on: $cmd (see $WORK/hyperfine.log)"
        "$PY" "$WORK/timeit.py" median "$WORK/hf.json"
    else
        "$PY" "$WORK/timeit.py" time "$MIN_RUNS" "$MAX_RUNS" "$TIME_BUDGET" "$shell" "$prepare" "$cmd"
    fi
}

# Seconds since START (an $EPOCHREALTIME value), 1 decimal.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# Shell-quote a path for the command strings handed to sh/hyperfine.
q() { printf '%q' "$1"; }

# Run a loading command whose exit 1 only means "the stream has failures".
load_ok() {
    local rc=0
    "$@" >/dev/null 2>"$WORK/last-stderr" || rc=$?
    if ((rc > 1)); then
        say "exit $rc from: $*"
        head -5 "$WORK/last-stderr" >&2
        return 1
    fi
}

# ---------------------------------------------------------------- output ----

ROWS=()    # "case|ours|testr|stestr", printed as one table at the end
NOTES=()   # footnotes and single-value results (DB size, RSS)
row() { ROWS+=("$1|$2|$3|$4"); say "  $1: ours=$2 testr=$3 stestr=$4"; }
note() { NOTES+=("$*"); say "$*"; }

# ratio OTHER OURS -> "52.3x" when both are numbers, else blank.
ratio() {
    if [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else printf "-" }'
    fi
}

print_table() {
    echo
    echo "| case | ours (ms) | testr (ms) | stestr (ms) | testr/ours | stestr/ours |"
    echo "|---|---:|---:|---:|---:|---:|"
    local r c o t s
    for r in "${ROWS[@]}"; do
        IFS='|' read -r c o t s <<<"$r"
        echo "| $c | $o | $t | $s | $(ratio "$t" "$o") | $(ratio "$s" "$o") |"
    done
    echo
    local n
    for n in "${NOTES[@]}"; do echo "- $n"; done
}

print_machine() {
    echo "## testr query benchmark ($(date -u +%Y-%m-%dT%H:%MZ), mode: $( ((QUICK)) && echo quick || echo full))"
    echo
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || echo unknown)), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo 2>/dev/null)"
    echo "- ours: $TESTR ($("$TESTR" --version 2>/dev/null | head -1 || true))"
    echo "- testr: $("$PY_TESTR" --version 2>/dev/null | head -1) ; stestr: $("$PY_STESTR" --version 2>/dev/null | head -1) ; $("$PY" --version 2>&1)"
    local timer=$TIMER
    [[ $TIMER == hyperfine ]] && timer="hyperfine $(hyperfine --version | cut -d' ' -f2)"
    echo "- timer: $timer, median of ${MIN_RUNS}..${MAX_RUNS} runs (${TIME_BUDGET}s budget per command), shell spawn $( [[ $TIMER == hyperfine ]] && echo subtracted || echo included)"
}

# ---------------------------------------------------------------- repos ----

# Fresh empty repositories. Each tool gets its own project dir because the
# Python tools find their repository and config from the current directory.
ours_fresh() { rm -rf "$1" && mkdir -p "$1" && "$TESTR" -d "$1" init >/dev/null; }
testr_fresh() {
    rm -rf "$1" && mkdir -p "$1"
    printf '[DEFAULT]\ntest_command=true\n' >"$1/.testr.conf"
    (cd "$1" && "$PY_TESTR" init >/dev/null)
}
stestr_fresh() {
    rm -rf "$1" && mkdir -p "$1"
    printf '[DEFAULT]\ntest_path=.\n' >"$1/.stestr.conf"
    (cd "$1" && "$PY_STESTR" init >/dev/null)
}

# Shell strings for hyperfine's --prepare: wipe and re-init, keeping the config.
ours_reinit() { echo "rm -rf $(q "$1/.testrepository") && $(q "$TESTR") -d $(q "$1") init"; }
testr_reinit() { echo "cd $(q "$1") && rm -rf .testrepository && $(q "$PY_TESTR") init"; }
stestr_reinit() { echo "cd $(q "$1") && rm -rf .stestr && $(q "$PY_STESTR") init"; }

gen() { "$PY" "$GEN_STREAM" "$@"; }

# ---------------------------------------------------------------- cases ----

# Case 1: load one LOAD_TESTS-test stream into an empty repository. Every
# iteration needs a fresh repository, hence the wipe-and-init prepare step
# (not timed). Afterwards each repository holds exactly that one run, which
# case 2 queries.
case_load() {
    say "case 1: load a $LOAD_TESTS-test stream"
    STREAM="$WORK/load.subunit"
    gen "$STREAM" --tests "$LOAD_TESTS" --seed 1
    OURS_DIR="$WORK/ours"; TESTR_DIR="$WORK/testr"; STESTR_DIR="$WORK/stestr"
    ours_fresh "$OURS_DIR"; testr_fresh "$TESTR_DIR"; stestr_fresh "$STESTR_DIR"
    local s; s="$(q "$STREAM")"
    local o t st
    o="$(measure "$(ours_reinit "$OURS_DIR")" "$(q "$TESTR") -d $(q "$OURS_DIR") load < $s")"
    t="$(measure "$(testr_reinit "$TESTR_DIR")" "cd $(q "$TESTR_DIR") && $(q "$PY_TESTR") load < $s")"
    st="$(measure "$(stestr_reinit "$STESTR_DIR")" "cd $(q "$STESTR_DIR") && $(q "$PY_STESTR") load < $s")"
    row "load $LOAD_TESTS tests ($(du -h "$STREAM" | cut -f1) stream)" "$o" "$t" "$st"
    note "target: load at least 50x faster than stestr (stestr/ours >= 50x)"
}

# Case 2: read-only queries on the repositories case 1 left (one run each).
case_queries() {
    say "case 2: queries on the ${LOAD_TESTS}-test repository"
    local ours testr stestr sub
    ours="$(q "$TESTR") -d $(q "$OURS_DIR")"
    testr="cd $(q "$TESTR_DIR") && $(q "$PY_TESTR")"
    stestr="cd $(q "$STESTR_DIR") && $(q "$PY_STESTR")"
    for sub in last failing "failing --list" slowest stats; do
        local o t st=n/a
        o="$(measure --no-shell "" "$ours $sub")"
        t="$(measure "" "$testr $sub")"
        # stestr has no stats command.
        if [[ $sub != stats ]]; then st="$(measure "" "$stestr $sub")"; fi
        row "$sub (1 run of $LOAD_TESTS)" "$o" "$t" "$st"
    done
    note "target: every query of ours under 50 ms; stestr \`last\` is timed with its default subunit-trace output"
}

# Bytes on disk of the SQLite database(s) in a repository, with -wal/-shm:
# found by their header, so the file name need not be known here.
sqlite_bytes() {
    local f total=0
    while IFS= read -r -d '' f; do
        if [[ "$(head -c 15 "$f" 2>/dev/null | tr -d '\0')" == "SQLite format 3" ]]; then
            total=$((total + $(stat -c %s "$f")))
            [[ -f "$f-wal" ]] && total=$((total + $(stat -c %s "$f-wal")))
            [[ -f "$f-shm" ]] && total=$((total + $(stat -c %s "$f-shm")))
        fi
    done < <(find "$1" -type f -print0)
    echo "$total"
}

# Case 3: a long history. Loading is the slow part, so only our tool gets all
# HIST_RUNS runs; a few distinct streams (different seeds, so the failing set
# changes between runs) are reused. The Python tools get PY_HIST_RUNS runs:
# their `failing` and `last` read one or two runs, so the comparison still
# says something, but the row says so.
case_history() {
    say "case 3: history of $HIST_RUNS runs x $HIST_TESTS tests (Python tools: $PY_HIST_RUNS runs)"
    local i streams=()
    for ((i = 0; i < HIST_STREAMS; i++)); do
        streams+=("$WORK/hist-$i.subunit")
        gen "${streams[i]}" --tests "$HIST_TESTS" --seed $((100 + i))
    done
    local od="$WORK/ours-hist" td="$WORK/testr-hist" sd="$WORK/stestr-hist"
    ours_fresh "$od"; testr_fresh "$td"; stestr_fresh "$sd"
    local start=$EPOCHREALTIME
    for ((i = 0; i < HIST_RUNS; i++)); do
        load_ok "$TESTR" -d "$od" load <"${streams[i % HIST_STREAMS]}" || die "our load failed (run $i)"
    done
    local ours_build; ours_build="$(elapsed "$start")"
    for ((i = 0; i < PY_HIST_RUNS; i++)); do
        (cd "$td" && load_ok "$PY_TESTR" load <"${streams[i % HIST_STREAMS]}") || die "testr load failed"
        (cd "$sd" && load_ok "$PY_STESTR" load <"${streams[i % HIST_STREAMS]}") || die "stestr load failed"
    done
    local sub o t st
    for sub in failing "failing --list" last; do
        o="$(measure --no-shell "" "$(q "$TESTR") -d $(q "$od") $sub")"
        t="$(measure "" "cd $(q "$td") && $(q "$PY_TESTR") $sub")"
        st="$(measure "" "cd $(q "$sd") && $(q "$PY_STESTR") $sub")"
        row "$sub ($HIST_RUNS runs x $HIST_TESTS; py: $PY_HIST_RUNS runs)" "$o" "$t" "$st"
    done
    local results=$((HIST_RUNS * HIST_TESTS)) dir_b=0 db_b=0
    if [[ -d "$od/.testrepository" ]]; then
        dir_b="$(du -sb "$od/.testrepository" | cut -f1)"
        db_b="$(sqlite_bytes "$od/.testrepository")"
    else
        note "DB size: our testr left no $od/.testrepository (sizes below are 0)"
    fi
    note "history: building $HIST_RUNS runs x $HIST_TESTS tests took ${ours_build} s with ours ($(awk -v s="$ours_build" -v n="$HIST_RUNS" 'BEGIN { printf "%.1f", s * 1000 / n }') ms per load, incl. process start)"
    note "DB size: .testrepository $dir_b bytes = $(awk -v b="$dir_b" -v n="$results" 'BEGIN { printf "%.1f", b / n }') bytes per stored result; SQLite files incl. -wal/-shm $db_b bytes = $(awk -v b="$db_b" -v n="$results" 'BEGIN { printf "%.1f", b / n }') bytes per result ($results results; WAL not checkpointed)"
    note "for scale: testr's .testrepository after $PY_HIST_RUNS runs: $(du -sb "$td/.testrepository" | cut -f1) bytes, stestr's .stestr: $(du -sb "$sd/.stestr" | cut -f1) bytes"
}

# Case 4: memory bound of load. Subunit v2 is concatenable, so copies of one
# generated stream make a big stream quickly. The test ids repeat in every
# copy: the run holds BIG_BASE_TESTS distinct ids with many repeated results.
# Our tool only: the Python tools would take many minutes here.
case_big() {
    say "case 4: load a ~${BIG_TARGET_MB} MB stream"
    local base="$WORK/big-base.subunit" big="$WORK/big.subunit"
    local need_kb=$((BIG_TARGET_MB * 1024 * 2)) avail_kb
    avail_kb="$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')"
    if ((avail_kb < need_kb)); then
        note "big stream: skipped, ${avail_kb} KiB free in $WORK, need ~${need_kb} KiB"
        return
    fi
    gen "$base" --tests "$BIG_BASE_TESTS" --seed 7
    local size copies i
    size="$(stat -c %s "$base")"
    copies=$(((BIG_TARGET_MB * 1000000 + size - 1) / size))
    for ((i = 0; i < copies; i++)); do cat "$base"; done >"$big"
    rm -f "$base"
    local mb; mb="$(awk -v b="$(stat -c %s "$big")" 'BEGIN { printf "%.0f", b / 1e6 }')"
    local od="$WORK/ours-big"
    ours_fresh "$od"
    local wall kib rc=0
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%e %M' -o "$WORK/rss" "$TESTR" -d "$od" load <"$big" >/dev/null 2>&1 || rc=$?
        read -r wall kib <"$WORK/rss" || true
        # GNU time prepends "Command exited with non-zero status N" on failure.
        [[ "$wall" =~ ^[0-9.]+$ ]] || read -r wall kib < <(tail -1 "$WORK/rss")
    else
        read -r wall kib < <("$PY" "$WORK/timeit.py" rss "$(q "$TESTR") -d $(q "$od") load < $(q "$big")")
    fi
    rm -f "$big"
    if ((rc > 1)); then
        note "big stream: our load of $mb MB exited $rc"
    else
        note "peak RSS loading a $mb MB stream ($copies copies of $BIG_BASE_TESTS tests): $(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }') MB, wall ${wall} s (target: under 100 MB; Python tools not run here: too slow)"
    fi
}

# Case 5: profiles (one repository holding runs of several interpreter x
# database combinations). Only when our binary knows --json: the flags came
# later and the Python tools have no equivalent.
case_profiles() {
    # Capture first: with pipefail, grep -q closing the pipe early (or a
    # non-zero exit of --help) would read as "unsupported".
    local help
    help="$("$TESTR" failing --help 2>&1 || true)"
    if ! grep -q -- --json <<<"$help"; then
        note "profiles: skipped, our testr does not support \`failing --json\` yet"
        return
    fi
    say "case 5: profiles, $PROF_ROUNDS rounds x 4 profiles x $PROF_TESTS tests"
    local od="$WORK/ours-prof" py db i
    ours_fresh "$od"
    printf '[DEFAULT]\nprofile_tags = py311 py312 sqlite postgres\n' >"$od/.testr.conf"
    local streams=() seed=200
    for py in py311 py312; do
        for db in sqlite postgres; do
            # Two seeds per profile, so the failing set moves between rounds.
            for i in 0 1; do
                streams+=("$WORK/prof-$py-$db-$i.subunit")
                gen "${streams[-1]}" --tests "$PROF_TESTS" --tags "$py,$db" --seed $((seed++))
            done
        done
    done
    local start=$EPOCHREALTIME r p
    for ((r = 0; r < PROF_ROUNDS; r++)); do
        for ((p = 0; p < 4; p++)); do
            load_ok "$TESTR" -d "$od" load <"${streams[p * 2 + r % 2]}" || die "our profile load failed"
        done
    done
    note "profiles: loading $((PROF_ROUNDS * 4)) runs x $PROF_TESTS tests took $(elapsed "$start") s with ours"
    local ours; ours="$(q "$TESTR") -d $(q "$od")"
    local sub o
    for sub in "failing --json" "failing --profile py311,sqlite --list" "last --json"; do
        o="$(measure --no-shell "" "$ours $sub")"
        row "$sub ($((PROF_ROUNDS * 4)) runs, 4 profiles)" "$o" n/a n/a
    done
}

main() {
    setup_work
    setup_venv
    setup_testr
    write_helpers
    say "scratch dir: $WORK; timer: $TIMER"
    case_load
    case_queries
    case_history
    case_big
    case_profiles
    print_machine
    print_table
}

main

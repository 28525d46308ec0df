#!/usr/bin/env bash
# Benchmark a planned `testr run --plan` (docs/plans.md): a generated suite of
# sleeping tests split into an exclusive segment, a large parallel one and
# another exclusive one. Prints a markdown table: our planned run's wall time
# against the sum of the segments' ideal makespans (target: within 1.15×),
# next to the same split run as three separate invocations of stestr and of
# our testr.
#
#   scripts/bench/plan.sh [--quick] [--reps N]
#
# Env: TESTR (our binary; default: `cargo build --release`, target/release/testr),
#      PYTHON_VENV (venv with python-subunit and stestr; default:
#      target/bench-venv, created on first use; PYTHON_VENV=/tmp/venv works too),
#      GEN_SUITE (default ../shared/bench/gen_suite.py beside the repository),
#      WORK (scratch dir; default: a mktemp -d; its logs/ are always kept),
#      KEEP_WORK=1 (keep the generated suites and repositories too).
#
# --quick: 200-test suites, one repetition (a smoke run of about a minute).
# --reps N: timed runs of each tool per case (default 3, quick 1); medians.
#
# This is not a test: it asserts nothing and only prints. The target is in
# scripts/bench/README.md ("Plan benchmark") and in the table.
set -euo pipefail
shopt -s inherit_errexit

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
EXEC_HELPER="$SCRIPT_DIR/runner_bench.py"   # exec (timing), shortest, median
PLAN_HELPER="$SCRIPT_DIR/plan_bench.py"     # split, report

usage() {
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

BENCH_NAME=plan.sh
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$SCRIPT_DIR/common.sh"
parse_options "$@"

WORKERS=4                      # concurrency of the planned run and of the parallel segment
STARTUP_RUNS=5                 # runs of one near-zero test; the median is "startup"
TARGET=1.15                    # planned wall / (sum of segment ideals + startup)
DISTS=("skewed 1" "heavy 2")   # "dist seed" of each case
if ((QUICK)); then
    : "${REPS:=1}"
    TESTS=200
else
    : "${REPS:=3}"
    TESTS=400
fi
GEN_SUITE="${GEN_SUITE:-$REPO_ROOT/../shared/bench/gen_suite.py}"
[[ -f "$GEN_SUITE" ]] || GEN_SUITE="$SCRIPT_DIR/gen_suite.py"

# This environment may set it; writing no __pycache__ makes every Python
# start-up (each worker, each stestr invocation) recompile the suite.
unset PYTHONDONTWRITEBYTECODE
# Every run is phase a (gen_suite.py's normal durations).
export SYNTH_PHASE=a


# ---------------------------------------------------------------- setup ----

setup_work() {
    setup_suites_and_logs testr-plan-bench
    RESULTS="$LOGS/results.tsv"
    CASES="$LOGS/cases.tsv"
    printf 'kind\trep\tcase\ttool\tpart\twall\town\tchildren\trc\tran\tlog\n' >"$RESULTS"
    : >"$CASES"
}


check_plan_support() {
    "$TESTR" run --help 2>/dev/null | grep -q -- '--plan' ||
        die "our testr ($TESTR) has no \`run --plan\`: nothing to measure"
}

# ---------------------------------------------------------------- runs ----

# timed KIND REP CASE TOOL PART LOG CWD -- CMD...
# Runs CMD once through `runner_bench.py exec` and appends a row to
# results.tsv. Exit statuses are recorded, never fatal here.
timed() {
    local kind=$1 rep=$2 case=$3 tool=$4 part=$5 log=$6 cwd=$7
    shift 7
    if [[ "${1:-}" == -- ]]; then shift; fi
    local line wall own children rc ran
    line="$("$PY" "$EXEC_HELPER" exec --log "$log" --cwd "$cwd" -- "$@")"
    read -r wall own children rc ran <<<"$line"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$kind" "$rep" "$case" "$tool" "$part" "$wall" "$own" "$children" "$rc" "$ran" "$log" >>"$RESULTS"
    say "    $kind $tool $part: ${wall} s (exit $rc, ran $ran)"
    LAST_WALL=$wall LAST_RC=$rc LAST_RAN=$ran
}

# warmup CASE TOOL PART LOG CWD -- CMD...
# A warm-up run: timed and logged like the others (kind "warmup", left out of
# the report), but a failure stops the benchmark.
warmup() {
    local case=$1 tool=$2 part=$3 log=$4 cwd=$5
    shift 5
    timed warmup 0 "$case" "$tool" "$part" "$log" "$cwd" "$@"
    ((LAST_RC == 0)) || die "warm-up run exited $LAST_RC (see $log)"
}

setup_cmd() {
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && "$@") >>"$log" 2>&1 || die "setup failed in $dir: $* (see $log)"
}

# A copy of the generated suite (plan.json and seg*.txt included) for one tool.
fresh_copy() {
    local tool=$1 src=$2 dst=$3 log=$4
    rm -rf "$dst"
    cp -a "$src" "$dst"
    case $tool in
        ours)
            # $PYTHON_WORKER is substituted by testr itself, not the shell.
            # shellcheck disable=SC2016
            printf '%s\n' 'worker_command=python3 $PYTHON_WORKER --worker --start-dir synth --top-level-dir .' >>"$dst/.testr.conf"
            ;;
        stestr)
            setup_cmd "$dst" "$log" "$PY_STESTR" init
            ;;
    esac
}

STESTR_RUN=()
stestr_run() { STESTR_RUN=("$PY_STESTR" --test-path ./synth --top-dir ./ run "$@"); }

# The concurrency of segment K as a separate invocation: 1 for the
# exclusive segments 0 and 2, WORKERS for the parallel segment 1.
seg_workers() { if (($1 == 1)); then echo "$WORKERS"; else echo 1; fi; }

# ---------------------------------------------------------------- cases ----

# Our fixed cost per run, as runner.sh measures it: the median wall time of
# STARTUP_RUNS runs of our testr running one of the shortest tests of the
# suite at concurrency 1, minus that test's duration (process start, the
# worker's start-up, discovering and listing the suite, storing the run).
measure_startup() {
    local case=$1 src=$2 slug=$3
    local dir="$SUITES/$slug-startup" log="$LOGS/$slug/startup.log"
    local regex dur i walls=() median
    read -r regex dur < <("$PY" "$EXEC_HELPER" shortest "$src/durations.json" a)
    say "  startup: $STARTUP_RUNS runs of one test ($regex, ${dur} s) at concurrency 1"
    fresh_copy ours "$src" "$dir" "$log"
    warmup "$case" ours startup "$log" "$dir" -- "$TESTR" run --force-init --concurrency 1 "$regex"
    for ((i = 1; i <= STARTUP_RUNS; i++)); do
        timed startup "$i" "$case" ours startup "$log" "$dir" -- "$TESTR" run --concurrency 1 "$regex"
        ((LAST_RC == 0)) || die "a startup run exited $LAST_RC (see $log)"
        [[ "$LAST_RAN" == 1 ]] || die "a startup run ran $LAST_RAN tests, not 1 (see $log)"
        walls+=("$LAST_WALL")
    done
    median="$("$PY" "$EXEC_HELPER" median "${walls[@]}")"
    STARTUP="$(awk -v m="$median" -v d="$dur" 'BEGIN { s = m - d; printf "%.3f", s < 0 ? 0 : s }')"
    STARTUP_NOTES+=("$case: startup ${STARTUP} s = median of ${walls[*]} s (\`testr run --concurrency 1 '$regex'\`) minus the test's ${dur} s")
    say "  startup: $STARTUP s"
}

case_plan() {
    local dist=$1 seed=$2
    local case="$dist s$seed" slug="$dist-$seed"
    local src="$SUITES/gen-$slug" caselogs="$LOGS/$dist-$seed"
    mkdir -p "$caselogs"
    say "case $case: generating $src ($TESTS tests)"
    "$PY" "$GEN_SUITE" "$src" --tests "$TESTS" --dist "$dist" --seed "$seed" >>"$LOGS/gen.log"
    local summary
    summary="$("$PY" "$PLAN_HELPER" split "$src" --workers "$WORKERS")"
    say "  split: $summary"
    printf '%s: %s\n' "$case" "$summary" >>"$LOGS/split.txt"

    measure_startup "$case" "$src" "$slug"
    printf '%s\t%s\t%s\n' "$case" "$src" "$STARTUP" >>"$CASES"

    local plan_dir="$SUITES/$slug-ours-plan" ours3_dir="$SUITES/$slug-ours-3" stestr_dir="$SUITES/$slug-stestr-3"
    fresh_copy ours "$src" "$plan_dir" "$caselogs/ours-plan.warmup.log"
    fresh_copy ours "$src" "$ours3_dir" "$caselogs/ours-3.log"
    fresh_copy stestr "$src" "$stestr_dir" "$caselogs/stestr-3.log"

    # Warm-ups, untimed in the report: the timing history each tool schedules
    # by, and every copy's __pycache__.
    say "  warm-up runs"
    warmup "$case" ours-plan plan "$caselogs/ours-plan.warmup.log" "$plan_dir" -- \
        "$TESTR" run --force-init --concurrency "$WORKERS" --plan plan.json
    local k init
    for k in 0 1 2; do
        init=()
        if ((k == 0)); then init=(--force-init); fi
        warmup "$case" ours-3 "seg$k" "$caselogs/ours-3.log" "$ours3_dir" -- \
            "$TESTR" run "${init[@]}" --concurrency "$(seg_workers $k)" --load-list "seg$k.txt"
        stestr_run --concurrency "$(seg_workers $k)" --load-list "seg$k.txt"
        warmup "$case" stestr-3 "seg$k" "$caselogs/stestr-3.log" "$stestr_dir" -- "${STESTR_RUN[@]}"
    done

    local rep
    for ((rep = 1; rep <= REPS; rep++)); do
        say "  rep $rep"
        timed timed "$rep" "$case" ours-plan plan "$caselogs/ours-plan.rep$rep.log" "$plan_dir" -- \
            "$TESTR" run --concurrency "$WORKERS" --plan plan.json
        for k in 0 1 2; do
            timed timed "$rep" "$case" ours-3 "seg$k" "$caselogs/ours-3.log" "$ours3_dir" -- \
                "$TESTR" run --concurrency "$(seg_workers $k)" --load-list "seg$k.txt"
        done
        for k in 0 1 2; do
            stestr_run --concurrency "$(seg_workers $k)" --load-list "seg$k.txt"
            timed timed "$rep" "$case" stestr-3 "seg$k" "$caselogs/stestr-3.log" "$stestr_dir" -- "${STESTR_RUN[@]}"
        done
    done
}

# ---------------------------------------------------------------- output ----

print_report() {
    echo "## testr plan benchmark ($(date -u +%Y-%m-%dT%H:%MZ), mode: $( ((QUICK)) && echo quick || echo full), $REPS rep(s))"
    echo
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || echo unknown)), kernel $(uname -r)"
    echo "- ours: $TESTR ($("$TESTR" --version 2>/dev/null | head -1 || true)); stestr: $("$PY_STESTR" --version 2>/dev/null | head -1 || true); $("$PY" --version 2>&1)"
    local d dist seed gens=()
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        gens+=("\`--dist $dist --seed $seed\`")
    done
    echo "- suites: gen_suite.py --tests $TESTS with ${gens[*]}, phase a; plan: segment 0 exclusive (4 tests), segment 1 parallel (the rest), segment 2 exclusive (4 tests); the split is in $LOGS/split.txt"
    echo "- ours planned: \`testr run --concurrency $WORKERS --plan plan.json\`; 3 invocations: \`run --concurrency 1 --load-list seg0.txt\`, \`--concurrency $WORKERS --load-list seg1.txt\`, \`--concurrency 1 --load-list seg2.txt\` (ours: \`testr run\`; stestr: \`stestr --test-path ./synth --top-dir ./ run\`), their wall times added; each tool warmed by one untimed run (of the plan, or of the three invocations) in its own copy; cells are medians of $REPS rep(s)"
    echo "- ideal of a segment: exclusive = the sum of its durations; parallel = max(sum / $WORKERS, longest); Σ ideals is the bar no plan can beat (docs/plans.md)"
    echo "- the target (≤ $TARGET) is judged on planned / (Σ ideals + startup): a planned run pays start-up once, and no runner avoids it; planned / Σ ideals is printed too"
    local n
    for n in "${STARTUP_NOTES[@]}"; do
        echo "- $n"
    done
    echo "- logs: $LOGS"
    echo
    "$PY" "$PLAN_HELPER" report "$RESULTS" "$CASES" --workers "$WORKERS" --target "$TARGET"
}

main() {
    setup_work
    setup_venv
    use_venv_python
    setup_testr
    check_plan_support
    say "scratch dir: $WORK (logs: $LOGS)"
    STARTUP_NOTES=()
    local d dist seed
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        case_plan "$dist" "$seed"
    done
    print_report
}

main

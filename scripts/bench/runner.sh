#!/usr/bin/env bash
# Benchmark `testr run` (ours) against stestr and the Python testr on the same
# generated suites of sleeping tests, and print a markdown table of medians,
# ratios and the gap to the ideal makespan.
#
#   scripts/bench/runner.sh [--quick] [--reps N]
#
# Env: TESTR (our binary; default: `cargo build --release`, target/release/testr),
#      PYTHON_VENV (venv with python-subunit, testrepository, stestr; default:
#      target/bench-venv, created on first use; PYTHON_VENV=/tmp/venv works too),
#      GEN_SUITE (default ../shared/bench/gen_suite.py beside the repository),
#      WORK (scratch dir; default: a mktemp -d; its logs/ are always kept),
#      KEEP_WORK=1 (keep the generated suites and repositories too).
#
# --quick: one repetition, 200-test suites, 2,000 trivial tests in the
# overhead case (a smoke run of about a minute). --reps N: repeat the phase
# sequence N times (default 3, quick 1) and report medians.
#
# This is not a test: it asserts nothing and only prints. The targets are in
# scripts/bench/README.md and in the table.
set -euo pipefail
shopt -s inherit_errexit

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
HELPER="$SCRIPT_DIR/runner_bench.py"

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

BENCH_NAME=runner.sh
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$SCRIPT_DIR/common.sh"
parse_options "$@"

WORKERS=4                  # concurrency of the phase cases
OVERHEAD_WORKERS=2         # concurrency of the overhead case
STARTUP_RUNS=5             # runs of one near-zero test; the median is "startup"
DISTS=("heavy 2" "skewed 1")   # "dist seed" of each phase case
if ((QUICK)); then
    : "${REPS:=1}"
    TESTS=200
    OVERHEAD_TESTS=2000
else
    : "${REPS:=3}"
    TESTS=400
    OVERHEAD_TESTS=20000
fi
PHASES=(a-cold a-warm b a-after c)   # one sequence, each run on the same copy
TOOLS=(ours stestr testr)
GEN_SUITE="${GEN_SUITE:-$REPO_ROOT/../shared/bench/gen_suite.py}"
[[ -f "$GEN_SUITE" ]] || GEN_SUITE="$SCRIPT_DIR/gen_suite.py"


# ---------------------------------------------------------------- setup ----

setup_work() {
    setup_suites_and_logs testr-runner-bench
    RESULTS="$LOGS/results.tsv"
    printf 'kind\trep\tcase\tphase\ttool\twall\town_cpu\tchildren_cpu\trc\tran\n' >"$RESULTS"
}


# The runner is newer than the rest: without it, the Python tools are
# still measured and our columns say n/a.
check_runner() {
    if "$TESTR" run --help >/dev/null 2>&1; then
        HAVE_RUN=1
    else
        HAVE_RUN=0
        say "our testr has no \`run\` command: its columns will be n/a"
    fi
}

# ---------------------------------------------------------------- runs ----

# timed KIND REP CASE PHASE TOOL LOG CWD [--env K=V | --stdout-null]... -- CMD...
# Runs CMD once and appends a row to results.tsv. Exit statuses are recorded,
# never fatal: phase b fails tests on purpose (exit 1).
timed() {
    local kind=$1 rep=$2 case=$3 phase=$4 tool=$5 log=$6 cwd=$7
    shift 7
    local line
    line="$("$PY" "$HELPER" exec --log "$log" --cwd "$cwd" "$@")"
    local wall own children rc ran
    read -r wall own children rc ran <<<"$line"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$kind" "$rep" "$case" "$phase" "$tool" "$wall" "$own" "$children" "$rc" "$ran" >>"$RESULTS"
    say "    $tool $phase: ${wall} s (exit $rc, ran $ran)"
    LAST_WALL=$wall LAST_RC=$rc LAST_RAN=$ran
}

# Run a setup command (init) in DIR; its failure is fatal.
setup_cmd() {
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && "$@") >>"$log" 2>&1 || die "setup failed in $dir: $* (see $log)"
}

# A fresh copy of a generated suite, configured for one tool. Our
# .testrepository/ and the Python testr's are not compatible, and each
# sequence must start from an empty repository, so every tool gets its own.
fresh_copy() {
    local tool=$1 src=$2 dst=$3 workers=$4 log=$5
    rm -rf "$dst"
    cp -a "$src" "$dst"
    case $tool in
        ours)
            # $PYTHON_WORKER is substituted by testr itself, not the shell.
            # shellcheck disable=SC2016
            printf '%s\n' 'worker_command=python3 $PYTHON_WORKER --worker --start-dir synth --top-level-dir .' >>"$dst/.testr.conf"
            ;;
        ours-shared)
            # The workers of a profile import the suite once (docs/worker-protocol.md).
            # shellcheck disable=SC2016
            printf '%s\n' 'worker_command=python3 $PYTHON_WORKER --worker --share-discovery --start-dir synth --top-level-dir .' >>"$dst/.testr.conf"
            ;;
        testr)
            printf 'test_run_concurrency=echo %d\n' "$workers" >>"$dst/.testr.conf"
            setup_cmd "$dst" "$log" "$PY_TESTR" init
            ;;
        stestr)
            setup_cmd "$dst" "$log" "$PY_STESTR" init
            ;;
    esac
}

# The command line of one tool's run; $1 = concurrency, $2 = 1 on the first
# run of a fresh copy.
run_cmd() {
    local tool=$1 workers=$2 first=$3
    case $tool in
        ours | ours-shared)
            RUN=("$TESTR" run --concurrency "$workers")
            if ((first)); then RUN+=(--force-init); fi
            ;;
        stestr) RUN=("$PY_STESTR" --test-path ./synth --top-dir ./ run --concurrency "$workers") ;;
        testr) RUN=("$PY_TESTR" run --parallel) ;;
    esac
}

gen_suite() {
    local dir=$1
    shift
    say "generating $dir ($*)"
    "$PY" "$GEN_SUITE" "$dir" "$@" >>"$LOGS/gen.log"
}

# ---------------------------------------------------------------- cases ----

# Our fixed cost per run: the median wall time of our testr running one test
# of near-zero duration at concurrency 1, minus that test's duration. It
# covers process start, opening the repository, starting the worker, its
# discovery and listing of the whole suite, storing the run. Added to every
# ideal: no runner can avoid starting Python and importing the suite.
measure_startup() {
    STARTUP=0
    if ((!HAVE_RUN)); then
        STARTUP_NOTE="startup: not measured (our testr has no \`run\`); the ideals exclude it"
        return
    fi
    local src="$SUITES/gen-${DISTS[0]// /-}" dir="$SUITES/startup" log="$LOGS/startup.log"
    local regex dur i walls=() ran_note=""
    read -r regex dur < <("$PY" "$HELPER" shortest "$src/durations.json" a)
    say "startup: $STARTUP_RUNS runs of one test ($regex, ${dur} s) at concurrency 1"
    fresh_copy ours "$src" "$dir" 1 "$log"
    # First run: creates the repository and the modules' __pycache__; untimed.
    timed startup 0 startup warmup ours "$log" "$dir" --env SYNTH_PHASE=a -- \
        "$TESTR" run --force-init --concurrency 1 "$regex"
    for ((i = 1; i <= STARTUP_RUNS; i++)); do
        timed startup "$i" startup a ours "$log" "$dir" --env SYNTH_PHASE=a -- \
            "$TESTR" run --concurrency 1 "$regex"
        ((LAST_RC == 0)) || die "the startup run exited $LAST_RC (see $log)"
        if [[ "$LAST_RAN" != 1 ]]; then
            say "  warning: the startup run ran $LAST_RAN tests, not 1 (see $log)"
            ran_note=" (WARNING: a run reported ran=$LAST_RAN, not 1 test)"
        fi
        walls+=("$LAST_WALL")
    done
    local median
    median="$("$PY" "$HELPER" median "${walls[@]}")"
    STARTUP="$(awk -v m="$median" -v d="$dur" 'BEGIN { s = m - d; printf "%.3f", s < 0 ? 0 : s }')"
    STARTUP_NOTE="startup: ${STARTUP} s = median wall of $STARTUP_RUNS runs of our \`testr run --concurrency 1 '$regex'\` (${median} s, one test of the $TESTS-test suite) minus that test's ${dur} s; runs: ${walls[*]}$ran_note"
    say "$STARTUP_NOTE"
}

# The phase sequence for one tool on a fresh copy: a cold (empty
# repository), a warm, b (the slowest tenth fail at once), a after the bug,
# c (the slowest and fastest tenth swap durations).
phase_sequence() {
    local rep=$1 case=$2 src=$3 tool=$4
    local dir="$SUITES/r$rep-${case// /-}-$tool" log="$LOGS/rep$rep/${case// /-}/$tool.log"
    mkdir -p "$(dirname "$log")"
    say "  rep $rep, $case, $tool"
    fresh_copy "$tool" "$src" "$dir" "$WORKERS" "$log"
    local key first=1
    for key in "${PHASES[@]}"; do
        run_cmd "$tool" "$WORKERS" "$first"
        timed phase "$rep" "$case" "$key" "$tool" "$log" "$dir" --env "SYNTH_PHASE=${key:0:1}" -- "${RUN[@]}"
        first=0
    done
    if [[ $tool == ours ]]; then
        grep -h '^Worker balance:' "$log" | sed "s/^/rep $rep, $case: /" >>"$LOGS/worker-balance.txt" || true
    fi
}

case_phases() {
    local d dist seed rep tool
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        gen_suite "$SUITES/gen-$dist-$seed" --tests "$TESTS" --dist "$dist" --seed "$seed"
    done
    measure_startup
    for ((rep = 1; rep <= REPS; rep++)); do
        for d in "${DISTS[@]}"; do
            read -r dist seed <<<"$d"
            for tool in "${TOOLS[@]}"; do
                if [[ $tool == ours ]] && ((!HAVE_RUN)); then continue; fi
                phase_sequence "$rep" "$dist s$seed" "$SUITES/gen-$dist-$seed" "$tool"
            done
        done
    done
}

# Per-run overhead on trivial tests: python-subunit's own runner, serial, is
# the bar (the least any runner of these tests can cost); then ours and
# stestr, cold (fresh copy: empty repository, no __pycache__) and warm.
case_overhead() {
    local generated="$SUITES/gen-trivial" patched_src="$SUITES/gen-trivial-patched"
    gen_suite "$generated" --tests "$OVERHEAD_TESTS" --trivial
    # Every generated module parses the whole durations.json when imported:
    # ~20 ms a module for 20,000 tests, most of what the bar takes, paid
    # again by every worker that imports the suite. The suite is measured
    # as generated, and patched with a table of zeros instead (the
    # durations are all 0 here), which measures the runners themselves.
    cp -a "$generated" "$patched_src"
    local modules patched
    modules="$(find "$patched_src/synth" -name 'test_m*.py' | wc -l)"
    sed -i "s|^_D = json.load(.*|_D = {p: __import__('collections').defaultdict(float) for p in 'abc'}  # runner.sh: trivial, no durations.json|" \
        "$patched_src"/synth/test_m*.py
    patched="$(grep -l '^_D = {p: __import__' "$patched_src"/synth/test_m*.py | wc -l)"
    ((patched == modules)) || die "patched $patched of $modules trivial modules: has gen_suite.py changed?"
    local rep suite src tool
    for ((rep = 1; rep <= REPS; rep++)); do
        for suite in trivial generated; do
            if [[ $suite == trivial ]]; then src="$patched_src"; else src="$generated"; fi
            say "  overhead ($suite), rep $rep"
            local logdir="$LOGS/rep$rep/overhead-$suite"
            mkdir -p "$logdir"
            local bar="$SUITES/r$rep-$suite-bar"
            rm -rf "$bar" && cp -a "$src" "$bar"
            # Once untimed, to write __pycache__: the bar is the warm case.
            (cd "$bar" && "$PY" -m subunit.run discover -t . synth) >/dev/null 2>>"$logdir/subunit.run.log" ||
                true
            timed overhead "$rep" "$suite" serial subunit.run "$logdir/subunit.run.log" "$bar" --stdout-null -- \
                "$PY" -m subunit.run discover -t . synth
            for tool in ours ours-shared stestr; do
                if [[ $tool == ours* ]] && ((!HAVE_RUN)); then continue; fi
                local dir="$SUITES/r$rep-$suite-$tool"
                fresh_copy "$tool" "$src" "$dir" "$OVERHEAD_WORKERS" "$logdir/$tool.log"
                run_cmd "$tool" "$OVERHEAD_WORKERS" 1
                timed overhead "$rep" "$suite" cold "$tool" "$logdir/$tool.log" "$dir" -- "${RUN[@]}"
                run_cmd "$tool" "$OVERHEAD_WORKERS" 0
                timed overhead "$rep" "$suite" warm "$tool" "$logdir/$tool.log" "$dir" -- "${RUN[@]}"
                rm -rf "$dir"
            done
            rm -rf "$bar"
        done
    done
}

# ---------------------------------------------------------------- output ----

print_report() {
    echo "## testr runner benchmark ($(date -u +%Y-%m-%dT%H:%MZ), mode: $( ((QUICK)) && echo quick || echo full), $REPS rep(s))"
    echo
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || echo unknown)), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo 2>/dev/null)"
    echo "- ours: $TESTR ($("$TESTR" --version 2>/dev/null | head -1 || true))"
    echo "- testr: $("$PY_TESTR" --version 2>/dev/null | head -1 || true) ; stestr: $("$PY_STESTR" --version 2>/dev/null | head -1 || true) ; $("$PY" --version 2>&1)"
    local d dist seed gens=()
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        gens+=("\`--dist $dist --seed $seed\`")
    done
    echo "- suites: gen_suite.py --tests $TESTS with ${gens[*]}; concurrency $WORKERS; every cell is the median of $REPS run(s) of the phase sequence, each tool on its own fresh copy"
    echo "- overhead: gen_suite.py --tests $OVERHEAD_TESTS --trivial, as generated and with its modules patched not to parse durations.json on import; concurrency $OVERHEAD_WORKERS; own CPU = user+system time of our testr process (all threads, not its workers), resolution 10 ms = $(awk -v n="$OVERHEAD_TESTS" 'BEGIN { printf "%.1f", 10000 / n }') µs/test"
    echo "- ideal = max(sum of the phase's durations / $WORKERS, longest duration) + startup"
    echo "- $STARTUP_NOTE"
    echo "- own-CPU check (runner_bench.py verify-cpu): $CPU_CHECK"
    echo "- logs: $LOGS"
    echo
    local suites=()
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        suites+=(--suite "$dist s$seed=$SUITES/gen-$dist-$seed")
    done
    "$PY" "$HELPER" report "$RESULTS" --workers "$WORKERS" --startup "$STARTUP" --tests "$TESTS" \
        --overhead-tests "$OVERHEAD_TESTS" --overhead-workers "$OVERHEAD_WORKERS" "${suites[@]}"
    if [[ -s "$LOGS/worker-balance.txt" ]]; then
        echo
        echo "Our \`Worker balance:\` lines ($LOGS/worker-balance.txt):"
        echo
        sed 's/^/    /' "$LOGS/worker-balance.txt"
    fi
}

main() {
    setup_work
    setup_venv
    use_venv_python
    setup_testr
    check_runner
    say "scratch dir: $WORK (logs: $LOGS)"
    CPU_CHECK="$("$PY" "$HELPER" verify-cpu || true)"
    say "own-CPU check: $CPU_CHECK"
    case_phases
    case_overhead
    print_report
}

main

#!/usr/bin/env bash
# Benchmark `testr run` (ours) against stestr, the Python testr and pytest on
# the same projects, and print markdown tables: medians, ratios, the gap to
# the ideal makespan, and "met" or "NOT met" for each target.
#
#   scripts/bench/runner.sh [--quick] [--reps N] [--cases LIST]
#
# Env: TESTR (our binary; default: `cargo build --release`, target/release/testr),
#      PYTHON_VENV (venv with python-subunit, testrepository, stestr, and for
#      the pytest case pytest and pytest-xdist; default: target/bench-venv,
#      created on first use; PYTHON_VENV=/tmp/venv works too),
#      GEN_SUITE (default ../shared/bench/gen_suite.py beside the repository),
#      SDISTS (where the oslo.utils sdist is kept; default target/bench-cache/sdists),
#      OSLO_FILTER (regex selecting oslo.utils' tests; README says why),
#      WORK (scratch dir; default: a mktemp -d; its logs/ are always kept),
#      KEEP_WORK=1 (keep the generated suites and repositories too).
#
# --cases LIST, comma-separated (default: all):
#   phases   our streaming worker on the heavy and skewed suites: phases
#            a cold, a warm, b, a after the bug, c
#   classic  classic .testr.conf forms and a .stestr.conf project, heavy and
#            skewed suites
#   trivial  20,000 trivial tests: our own overhead, and the classic forms
#   pytest   our pytest worker beside pytest-xdist and plain pytest
#   oslo     oslo.utils' own tests from its sdist, beside stestr
#   pyreal   a real pytest suite (toolz's own tests, from its sdist), beside
#            pytest -n 2 and plain pytest
#   repeats  `run --isolated` and `run --until-failure` on a small trivial
#            suite (.stestr.conf), ours beside stestr: the cost of a test
#            in a fresh process, and of one more run
# --quick: one repetition, small suites (every row, in a few minutes).
# --reps N: repeat every measurement N times (default 3); cells are medians.
#
# This is not a test: it asserts nothing and only prints. The targets are in
# scripts/bench/README.md and in the tables.
set -euo pipefail
shopt -s inherit_errexit

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
HELPER="$SCRIPT_DIR/runner_bench.py"   # exec (timing), shortest, median, project set-up
REPORT="$SCRIPT_DIR/runner_report.py"  # the tables

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

BENCH_NAME=runner.sh
BENCH_CASES="phases classic trivial pytest oslo pyreal repeats"
BENCH_VENV_EXTRA="pytest pytest-xdist"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$SCRIPT_DIR/common.sh"
parse_options "$@"

WORKERS=4                  # concurrency on the heavy and skewed suites
TRIVIAL_WORKERS=2          # concurrency on the trivial suite
OSLO_WORKERS=2             # concurrency on oslo.utils
PYREAL_WORKERS=2           # concurrency on the real pytest suite
PYREAL_SDIST="${PYREAL_SDIST:-toolz}"   # its PyPI name; tests under the package
STARTUP_RUNS=5             # runs of one near-zero test; the median is "startup"
DISTS=("heavy 2" "skewed 1")   # "dist seed" of each synthetic case
if ((QUICK)); then
    : "${REPS:=1}"
    TESTS=200
    TRIVIAL_TESTS=2000
    REPEAT_TESTS=10        # trivial tests of the repeats case (one more fails on cue)
    UNTIL_RUNS=3           # runs of its --until-failure (the last fails)
else
    : "${REPS:=3}"
    TESTS=400
    TRIVIAL_TESTS=20000
    REPEAT_TESTS=40
    UNTIL_RUNS=10
fi
PHASES=(a-cold a-warm b a-after c)   # one sequence, each run on the same copy
PHASE_TOOLS=(ours stestr testr)
# Classic rows: ours in four project forms, each Python tool in the forms
# it reads (stestr reads only .stestr.conf).
CLASSIC_TOOLS=(ours-script testr-script ours-openstack ours-nostream ours-stestr testr stestr)
GEN_SUITE="${GEN_SUITE:-$REPO_ROOT/../shared/bench/gen_suite.py}"
[[ -f "$GEN_SUITE" ]] || GEN_SUITE="$SCRIPT_DIR/gen_suite.py"
SDISTS="${SDISTS:-$REPO_ROOT/target/bench-cache/sdists}"

NOTES=()                   # printed under the report's header
ELAPSED=()                 # "case seconds"
declare -A STARTUP=()      # suite kind (synthetic, trivial) -> seconds
declare -A STARTUP_NOTE=()

note() { NOTES+=("$*"); say "note: $*"; }

# ---------------------------------------------------------------- setup ----

setup_work() {
    setup_suites_and_logs testr-runner-bench
    RESULTS="$LOGS/results.tsv"
    printf 'kind\trep\tcase\tphase\ttool\twall\town_cpu\tchildren_cpu\trc\tran\tprocs\n' >"$RESULTS"
}

# The runner is newer than the rest: without it, the Python tools are
# still measured and our columns say n/a.
check_runner() {
    if "$TESTR" run --help >/dev/null 2>&1; then
        HAVE_RUN=1
    else
        HAVE_RUN=0
        note "our testr has no \`run\` command: its columns are n/a"
    fi
}

# An interpreter that counts its starts: the classic rows run with
# PYTHON pointing at it, so the processes each tool starts are counted
# (`runner_bench.py exec --count-procs`). One `sh` exec, about 1 ms.
write_counting_python() {
    COUNTING_PY="$SUITES/bin/python"
    mkdir -p "$SUITES/bin"
    cat >"$COUNTING_PY" <<EOF
#!/bin/sh
# runner.sh: count this start, then become the venv's interpreter.
if [ -n "\${BENCH_PROC_COUNT:-}" ]; then echo "\$\$" >>"\$BENCH_PROC_COUNT"; fi
exec '$PY' "\$@"
EOF
    chmod +x "$COUNTING_PY"
}

# ---------------------------------------------------------------- runs ----

# timed KIND REP CASE PHASE TOOL LOG CWD [exec option]... -- CMD...
# Runs CMD once and appends a row to results.tsv. Exit statuses are recorded,
# never fatal: phase b fails tests on purpose (exit 1).
timed() {
    local kind=$1 rep=$2 case=$3 phase=$4 tool=$5 log=$6 cwd=$7
    shift 7
    local line wall own children rc ran procs
    line="$("$PY" "$HELPER" exec --log "$log" --cwd "$cwd" "$@")"
    read -r wall own children rc ran procs <<<"$line"
    : "${procs:=-}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$kind" "$rep" "$case" "$phase" "$tool" "$wall" "$own" "$children" "$rc" "$ran" "$procs" >>"$RESULTS"
    local counted=""
    [[ $procs == - ]] || counted=", $procs processes"
    say "    $tool $phase: ${wall} s (exit $rc, ran $ran$counted)"
    LAST_WALL=$wall LAST_RC=$rc LAST_RAN=$ran
}

# Run a setup command (init) in DIR; its failure is fatal.
setup_cmd() {
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && "$@") >>"$log" 2>&1 || die "setup failed in $dir: $* (see $log)"
}

# A classic project whose test command is its own shell script: testr sees
# a script name, not the Python runner behind it.
write_script_project() {
    local dir=$1
    cat >"$dir/run-tests.sh" <<'EOF'
#!/bin/sh
# The project's own test script; testr sees only its name.
exec ${PYTHON:-python3} -m subunit.run discover -t . synth "$@"
EOF
    chmod +x "$dir/run-tests.sh"
    # $LISTOPT and friends are the test runner's, not the shell's.
    # shellcheck disable=SC2016
    printf '%s\n' '[DEFAULT]' 'test_command=./run-tests.sh $LISTOPT $IDOPTION' \
        'test_id_option=--load-list $IDFILE' 'test_list_option=--list' >"$dir/.testr.conf"
}

# A fresh copy of a project, configured for one tool. Our .testrepository/
# and the Python testr's are not compatible, and each sequence must start
# from an empty repository, so every tool gets its own.
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
        ours-openstack) ;;   # the .testr.conf gen_suite.py writes, as it is
        ours-nostream) printf 'stream = no\n' >>"$dst/.testr.conf" ;;
        ours-script) write_script_project "$dst" ;;
        ours-stestr) rm -f "$dst/.testr.conf" ;;
        ours-pytest)
            rm -f "$dst/.testr.conf" "$dst/.stestr.conf"
            setup_cmd "$dst" "$log" "$TESTR" init --pytest
            ;;
        testr | testr-script)
            if [[ $tool == testr-script ]]; then
                write_script_project "$dst"
            elif [[ ! -f "$dst/.testr.conf" ]]; then
                # A .stestr.conf project: the Python testr runs the same tests
                # through the OpenStack form of .testr.conf.
                "$PY" "$HELPER" testr-conf "$dst" >>"$log"
            fi
            printf 'test_run_concurrency=echo %d\n' "$workers" >>"$dst/.testr.conf"
            setup_cmd "$dst" "$log" "$PY_TESTR" init
            ;;
        stestr) setup_cmd "$dst" "$log" "$PY_STESTR" init ;;
        pytest | xdist) ;;
        *) die "fresh_copy: unknown tool $tool" ;;
    esac
}

# The command line of one tool's run in RUN; $2 = concurrency, $3 = 1 on the
# first run of a fresh copy. FILTERS (an array, may be empty) are appended.
run_cmd() {
    local tool=$1 workers=$2 first=$3
    case $tool in
        ours*)
            RUN=("$TESTR" run --concurrency "$workers")
            if ((first)); then RUN+=(--force-init); fi
            ;;
        stestr) RUN=("$PY_STESTR" run --concurrency "$workers") ;;
        testr | testr-script) RUN=("$PY_TESTR" run --parallel) ;;
        xdist) RUN=("$PYTHON_VENV/bin/pytest" -n "$workers") ;;
        pytest) RUN=("$PYTHON_VENV/bin/pytest") ;;
        *) die "run_cmd: unknown tool $tool" ;;
    esac
    RUN+=("${FILTERS[@]}")
}
FILTERS=()

# The `runner_bench.py exec` options of one tool's runs in RUN_OPTS: the
# classic forms run with the counting interpreter as PYTHON. EXTRA_ENV (an
# array of --env K=V) is added to all.
run_opts() {
    case $1 in
        ours-script | ours-openstack | ours-nostream | ours-stestr | testr | testr-script | stestr)
            RUN_OPTS=(--env "PYTHON=$COUNTING_PY" --count-procs) ;;
        *) RUN_OPTS=() ;;
    esac
    RUN_OPTS+=("${EXTRA_ENV[@]}")
}
EXTRA_ENV=()
WARM_ONCE=

gen_suite() {
    local dir=$1
    shift
    say "generating $dir ($*)"
    "$PY" "$GEN_SUITE" "$dir" "$@" >>"$LOGS/gen.log"
}

# ---------------------------------------------------------------- start-up ----

# measure_startup NAME SRC TESTS: our fixed cost per run on suite SRC, the median
# wall time of our testr running one test of near-zero duration at
# concurrency 1, minus that test's duration. It covers process start,
# opening the repository, starting the worker, its discovery and listing of
# the whole suite, storing the run. Added to every ideal: no runner can avoid
# starting Python and importing the suite. Sets STARTUP[NAME] and
# STARTUP_NOTE[NAME].
measure_startup() {
    local name=$1 src=$2 tests=$3
    STARTUP[$name]=0
    if ((!HAVE_RUN)); then
        STARTUP_NOTE[$name]="startup ($name): not measured (our testr has no \`run\`); the ideals exclude it"
        return
    fi
    local dir="$SUITES/startup-$name" log="$LOGS/startup-$name.log"
    local regex dur i walls=() ran_note=""
    read -r regex dur < <("$PY" "$HELPER" shortest "$src/durations.json" a)
    say "startup ($name): $STARTUP_RUNS runs of one test ($regex, ${dur} s) at concurrency 1"
    fresh_copy ours "$src" "$dir" 1 "$log"
    # First run: creates the repository and the modules' __pycache__; untimed.
    timed startup 0 "$name" warmup ours "$log" "$dir" --env SYNTH_PHASE=a -- \
        "$TESTR" run --force-init --concurrency 1 "$regex"
    for ((i = 1; i <= STARTUP_RUNS; i++)); do
        timed startup "$i" "$name" a ours "$log" "$dir" --env SYNTH_PHASE=a -- \
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
    STARTUP[$name]="$(awk -v m="$median" -v d="$dur" 'BEGIN { s = m - d; printf "%.3f", s < 0 ? 0 : s }')"
    STARTUP_NOTE[$name]="startup ($name): ${STARTUP[$name]} s = median wall of $STARTUP_RUNS runs of our \`testr run --concurrency 1 '$regex'\` (${median} s, one test of the $tests-test suite, our streaming worker) minus that test's ${dur} s; runs: ${walls[*]}$ran_note"
    say "${STARTUP_NOTE[$name]}"
    rm -rf "$dir"
}

# ---------------------------------------------------------------- sequences ----

# phase_sequence KIND REP CASE SRC TOOL: the five phases on one fresh copy:
# a cold (empty repository), a warm, b (the slowest tenth fail at once), a
# after the bug, c (the slowest and fastest tenth swap durations). Sets
# SEQUENCE_DIR to the copy.
phase_sequence() {
    local kind=$1 rep=$2 case=$3 src=$4 tool=$5
    local dir="$SUITES/r$rep-$kind-${case// /-}-$tool" log="$LOGS/rep$rep/$kind-${case// /-}/$tool.log"
    mkdir -p "$(dirname "$log")"
    say "  rep $rep, $kind, $case, $tool"
    fresh_copy "$tool" "$src" "$dir" "$WORKERS" "$log"
    local key first=1
    for key in "${PHASES[@]}"; do
        run_cmd "$tool" "$WORKERS" "$first"
        timed "$kind" "$rep" "$case" "$key" "$tool" "$log" "$dir" --env "SYNTH_PHASE=${key:0:1}" -- "${RUN[@]}"
        first=0
    done
    if [[ $tool == ours* ]]; then
        grep -h '^Worker balance:' "$log" | sed "s/^/rep $rep, $kind, $case, $tool: /" >>"$LOGS/worker-balance.txt" || true
    fi
    SEQUENCE_DIR=$dir
}

# warm_rows KIND CASE SRC WORKERS TOOL...: every tool on its own fresh copy
# of SRC, one cold run each (recorded as phase "cold"; pytest and xdist,
# which keep no history, get an untimed `--collect-only` instead, for their
# cached modules), then REPS passes over the tools, one warm run each, so
# that a slow moment of the machine spreads over all of them (a tool named
# in WARM_ONCE gets one warm run only). Every run is phase a. The copies are left for the caller (read the repositories) in
# $SUITES/KIND-CASE-TOOL.
warm_rows() {
    local kind=$1 case=$2 src=$3 workers=$4
    shift 4
    local tools=("$@") tool rep slug="$kind-${case// /-}"
    local logdir="$LOGS/$slug"
    mkdir -p "$logdir"
    for tool in "${tools[@]}"; do
        local dir="$SUITES/$slug-$tool" log="$logdir/$tool.log"
        say "  $kind, $case, $tool: fresh copy, cold run"
        fresh_copy "$tool" "$src" "$dir" "$workers" "$log"
        if [[ $tool == pytest || $tool == xdist ]]; then
            setup_cmd "$dir" "$log" "$PYTHON_VENV/bin/pytest" --collect-only -q
            continue
        fi
        run_cmd "$tool" "$workers" 1
        run_opts "$tool"
        timed "$kind" 0 "$case" cold "$tool" "$log" "$dir" --env SYNTH_PHASE=a "${RUN_OPTS[@]}" -- "${RUN[@]}"
    done
    for ((rep = 1; rep <= REPS; rep++)); do
        say "  $kind, $case: warm runs, rep $rep"
        for tool in "${tools[@]}"; do
            if ((rep > 1)) && [[ " $WARM_ONCE " == *" $tool "* ]]; then continue; fi
            run_cmd "$tool" "$workers" 0
            run_opts "$tool"
            timed "$kind" "$rep" "$case" warm "$tool" "$logdir/$tool.log" "$SUITES/$slug-$tool" \
                --env SYNTH_PHASE=a "${RUN_OPTS[@]}" -- "${RUN[@]}"
        done
    done
    for tool in "${tools[@]}"; do
        if [[ $tool == ours* ]]; then
            grep -h '^Worker balance:' "$logdir/$tool.log" | sed "s/^/$kind, $case, $tool: /" >>"$LOGS/worker-balance.txt" || true
        fi
    done
}

# Our tools only when our testr has `run`.
available_tools() {
    local tool
    AVAILABLE=()
    for tool in "$@"; do
        if [[ $tool == ours* ]] && ((!HAVE_RUN)); then continue; fi
        AVAILABLE+=("$tool")
    done
}

# ---------------------------------------------------------------- cases ----

generate_synthetic() {
    local d dist seed
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        [[ -d "$SUITES/gen-$dist-$seed" ]] ||
            gen_suite "$SUITES/gen-$dist-$seed" --tests "$TESTS" --dist "$dist" --seed "$seed"
    done
    [[ -n "${STARTUP[synthetic]:-}" ]] || measure_startup synthetic "$SUITES/gen-${DISTS[0]// /-}" "$TESTS"
}

# Our streaming worker (`testr init --unittest`'s worker_command) beside
# stestr and the Python testr, each tool through the phase sequence.
case_phases() {
    local d dist seed rep tool
    generate_synthetic
    available_tools "${PHASE_TOOLS[@]}"
    for ((rep = 1; rep <= REPS; rep++)); do
        for d in "${DISTS[@]}"; do
            read -r dist seed <<<"$d"
            for tool in "${AVAILABLE[@]}"; do
                phase_sequence phase "$rep" "$dist s$seed" "$SUITES/gen-$dist-$seed" "$tool"
            done
        done
    done
}

# The project forms users have, warm: a test script testr cannot look
# into, the OpenStack .testr.conf (streamed by default), the same with
# `stream = no`, a .stestr.conf project.
case_classic() {
    local d dist seed
    generate_synthetic
    available_tools "${CLASSIC_TOOLS[@]}"
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        warm_rows classic "$dist s$seed" "$SUITES/gen-$dist-$seed" "$WORKERS" "${AVAILABLE[@]}"
    done
}

# 20,000 tests that do nothing: python-subunit's own runner, serial, is the
# bar (the least any runner of these tests can cost); then our streaming
# worker (with and without --share-discovery) and the classic forms.
case_trivial() {
    local src="$SUITES/gen-trivial" bar="$SUITES/trivial-bar" log="$LOGS/trivial-subunit.run.log" rep
    gen_suite "$src" --tests "$TRIVIAL_TESTS" --trivial
    measure_startup trivial "$src" "$TRIVIAL_TESTS"
    rm -rf "$bar" && cp -a "$src" "$bar"
    # Once untimed, to write __pycache__: the bar is the warm case.
    (cd "$bar" && "$PY" -m subunit.run discover -t . synth) >/dev/null 2>>"$log" || true
    for ((rep = 1; rep <= REPS; rep++)); do
        timed bar "$rep" trivial serial subunit.run "$log" "$bar" --stdout-null -- \
            "$PY" -m subunit.run discover -t . synth
    done
    rm -rf "$bar"
    available_tools ours ours-shared "${CLASSIC_TOOLS[@]}"
    warm_rows classic trivial "$src" "$TRIVIAL_WORKERS" "${AVAILABLE[@]}"
}

# Whether our testr writes a pytest configuration for pytest suite SRC;
# sets HAVE_PYTEST_WORKER.
probe_pytest_worker() {
    local src=$1 dir="$SUITES/pytest-probe" out
    HAVE_PYTEST_WORKER=0
    ((HAVE_RUN)) || return 0
    rm -rf "$dir" && cp -a "$src" "$dir"
    rm -f "$dir/.testr.conf" "$dir/.stestr.conf"
    if out="$(cd "$dir" && "$TESTR" init --pytest 2>&1)"; then
        HAVE_PYTEST_WORKER=1
    else
        note "our pytest worker: not measured: \`testr init --pytest\` failed: $(printf '%s\n' "$out" | grep -m1 . || true)"
    fi
    rm -rf "$dir"
}

# gen_suite.py --pytest suites: our pytest worker through the phase sequence
# beside pytest-xdist (`pytest -n 4`, its default load distribution), plain
# pytest once per repetition (phase a, warm); 20,000 trivial tests at
# concurrency 2 beside plain pytest and `pytest -n 2`.
case_pytest() {
    if ! "$PY" -c 'import pytest, xdist' 2>/dev/null; then
        note "pytest case skipped: $PY cannot import pytest and xdist (pip install pytest pytest-xdist)"
        return 0
    fi
    local d dist seed rep tool tools=(xdist)
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        gen_suite "$SUITES/pgen-$dist-$seed" --tests "$TESTS" --dist "$dist" --seed "$seed" --pytest
    done
    gen_suite "$SUITES/pgen-trivial" --tests "$TRIVIAL_TESTS" --trivial --pytest
    probe_pytest_worker "$SUITES/pgen-${DISTS[0]// /-}"
    if ((HAVE_PYTEST_WORKER)); then tools=(ours-pytest xdist); fi
    for ((rep = 1; rep <= REPS; rep++)); do
        for d in "${DISTS[@]}"; do
            read -r dist seed <<<"$d"
            for tool in "${tools[@]}"; do
                phase_sequence pytest-phase "$rep" "$dist s$seed" "$SUITES/pgen-$dist-$seed" "$tool"
            done
            # Plain pytest keeps no history: one run, on xdist's copy (its
            # cached modules written), stands for every phase-a row.
            timed pytest-phase "$rep" "$dist s$seed" a-warm pytest "$LOGS/rep$rep/pytest-phase-$dist-s$seed/pytest.log" \
                "$SEQUENCE_DIR" --env SYNTH_PHASE=a -- "$PYTHON_VENV/bin/pytest"
        done
    done
    tools=(pytest xdist)
    if ((HAVE_PYTEST_WORKER)); then tools=(ours-pytest pytest xdist); fi
    # No target compares with xdist here, and on 20,000 trivial tests it
    # takes about twice plain pytest's time: one warm run.
    WARM_ONCE=xdist
    warm_rows pytest trivial "$SUITES/pgen-trivial" "$TRIVIAL_WORKERS" "${tools[@]}"
    WARM_ONCE=
}

# The oslo.utils sdist in SDISTS (downloaded there when missing); prints
# its path, or fails.
oslo_sdist() {
    local log=$1 found
    mkdir -p "$SDISTS"
    found="$(find "$SDISTS" -maxdepth 1 -name 'oslo[._]utils-*.tar.gz' | sort -V | tail -1)"
    if [[ -z $found ]]; then
        say "downloading the oslo.utils sdist into $SDISTS"
        "$PY" -m pip download --no-binary :all: --no-deps oslo.utils -d "$SDISTS" >>"$log" 2>&1 || return 1
        found="$(find "$SDISTS" -maxdepth 1 -name 'oslo[._]utils-*.tar.gz' | sort -V | tail -1)"
    fi
    [[ -n $found ]] && echo "$found"
}

# A real suite: oslo.utils' own tests, run with its own .stestr.conf by
# stestr and by us, and by the Python testr through an OpenStack-form
# .testr.conf; counts compared with stestr's.
case_oslo() {
    local log="$LOGS/oslo-setup.log" sdist src="$SUITES/oslo-src" reqs=()
    if ! sdist="$(oslo_sdist "$log")"; then
        note "oslo.utils skipped: no sdist in $SDISTS and \`pip download\` failed: $(tail -1 "$log")"
        return 0
    fi
    say "oslo.utils: $sdist"
    rm -rf "$src" && mkdir -p "$src"
    tar -xzf "$sdist" -C "$src" --strip-components=1
    mapfile -t reqs < <("$PY" "$HELPER" sdist-requirements "$src")
    say "oslo.utils: installing its test requirements into $PYTHON_VENV"
    if ! "$PY" -m pip install --quiet "${reqs[@]}" >>"$log" 2>&1; then
        note "oslo.utils skipped: installing its requirements (${reqs[*]}) failed: $(grep -m1 -i error "$log" || tail -1 "$log")"
        return 0
    fi
    rm -f "$src/.testr.conf"   # ours reads the .stestr.conf
    OSLO_SDIST=$sdist
    if [[ -z ${OSLO_FILTER+set} ]]; then
        if ((QUICK)); then
            # Every top-level test module but test_strutils (17,720 scenarios).
            local mods
            mods="$(find "$src/oslo_utils/tests" -maxdepth 1 -name 'test*.py' ! -name test_strutils.py -printf '%f\n' |
                sed 's/\.py$//' | sort | paste -sd'|')"
            OSLO_FILTER="^oslo_utils\\.tests\\.($mods)\\."
        else
            # Every top-level test module; imageutils' disk-image tests take
            # most of a minute by themselves (README).
            OSLO_FILTER='^oslo_utils\.tests\.tests?_'
        fi
    fi
    FILTERS=()
    [[ -z $OSLO_FILTER ]] || FILTERS=("$OSLO_FILTER")
    EXTRA_ENV=(--env PYTHONPATH=.)
    available_tools ours-stestr stestr testr
    warm_rows real oslo.utils "$src" "$OSLO_WORKERS" "${AVAILABLE[@]}"
    FILTERS=() EXTRA_ENV=()
WARM_ONCE=
    # Counts from each tool's last run, by python-subunit's subunit-stats.
    local tool dir last
    for tool in "${AVAILABLE[@]}"; do
        dir="$SUITES/real-oslo.utils-$tool"
        case $tool in
            ours-stestr) last="$TESTR" ;;
            stestr) last="$PY_STESTR" ;;
            testr) last="$PY_TESTR" ;;
        esac
        (cd "$dir" && "$last" last --subunit 2>>"$LOGS/real-oslo.utils/$tool.log" |
            "$PYTHON_VENV/bin/subunit-stats") >"$LOGS/real-oslo.utils/counts-$tool.txt" 2>&1 || true
    done
}

# A real pytest suite no one here wrote: PYREAL_SDIST's own tests from its
# sdist (SDISTS; downloaded there when missing), run by our pytest worker
# (`testr init --pytest`), `pytest -n 2` and plain pytest, in the project
# directory with PYTHONPATH=. (the project is not installed). Counts: ours
# from `testr last --subunit | subunit-stats`, pytest's from its summary line.
case_pyreal() {
    local log="$LOGS/pyreal-setup.log" sdist src="$SUITES/pyreal-src"
    if ! "$PY" -c 'import pytest, xdist' 2>/dev/null; then
        note "real pytest suite skipped: $PY cannot import pytest and xdist"
        return 0
    fi
    mkdir -p "$SDISTS"
    sdist="$(find "$SDISTS" -maxdepth 1 -name "$PYREAL_SDIST-*.tar.gz" | sort -V | tail -1)"
    if [[ -z $sdist ]]; then
        say "downloading the $PYREAL_SDIST sdist into $SDISTS"
        "$PY" -m pip download --no-binary :all: --no-deps "$PYREAL_SDIST" -d "$SDISTS" >>"$log" 2>&1 || true
        sdist="$(find "$SDISTS" -maxdepth 1 -name "$PYREAL_SDIST-*.tar.gz" | sort -V | tail -1)"
    fi
    if [[ -z $sdist ]]; then
        note "real pytest suite skipped: no $PYREAL_SDIST sdist in $SDISTS and \`pip download\` failed: $(tail -1 "$log")"
        return 0
    fi
    say "real pytest suite: $sdist"
    rm -rf "$src" && mkdir -p "$src"
    tar -xzf "$sdist" -C "$src" --strip-components=1
    PYREAL_NAME="$(basename "$sdist" .tar.gz)"
    probe_pytest_worker "$src"
    local tools=(pytest xdist)
    if ((HAVE_PYTEST_WORKER)); then tools=(ours-pytest pytest xdist); fi
    EXTRA_ENV=(--env PYTHONPATH=.)
    warm_rows pyreal "$PYREAL_NAME" "$src" "$PYREAL_WORKERS" "${tools[@]}"
    EXTRA_ENV=()
    local tool dir logdir="$LOGS/pyreal-$PYREAL_NAME"
    for tool in "${tools[@]}"; do
        dir="$SUITES/pyreal-$PYREAL_NAME-$tool"
        if [[ $tool == ours-pytest ]]; then
            (cd "$dir" && "$TESTR" last --subunit 2>>"$logdir/$tool.log" |
                "$PYTHON_VENV/bin/subunit-stats") >"$logdir/counts-$tool.txt" 2>&1 || true
        else
            # pytest's summary line of its last run, e.g. "192 passed, 1 skipped in 1.2s".
            grep -E '^=* ?[0-9]+ (passed|failed)' "$logdir/$tool.log" | tail -1 >"$logdir/counts-$tool.txt" || true
        fi
    done
}

# A test beside SRC's trivial ones that fails on the BENCH_UNTIL_RUNS-th
# run counted in the file BENCH_UNTIL_COUNTER, and passes without them:
# what ends an --until-failure after a known number of runs.
write_until_test() {
    cat >"$1/synth/test_until.py" <<'EOF'
"""runner.sh's repeats case: fails on the BENCH_UNTIL_RUNS-th run."""
import os
import unittest


class UntilTest(unittest.TestCase):
    def test_until(self):
        path = os.environ.get("BENCH_UNTIL_COUNTER")
        if not path:
            return
        count = 1
        if os.path.exists(path):
            with open(path) as f:
                count += int(f.read())
        with open(path, "w") as f:
            f.write(str(count))
        if count >= int(os.environ["BENCH_UNTIL_RUNS"]):
            self.fail("run %d" % count)
EOF
}

# --isolated and --until-failure, ours (its .stestr.conf) beside stestr,
# warm: a plain run, an isolated pass over every test, and an
# --until-failure that fails on run UNTIL_RUNS.
case_repeats() {
    local src="$SUITES/gen-repeats" tool rep dir log counter
    gen_suite "$src" --tests "$REPEAT_TESTS" --trivial
    write_until_test "$src"
    available_tools ours-stestr stestr
    mkdir -p "$LOGS/repeats"
    for tool in "${AVAILABLE[@]}"; do
        dir="$SUITES/repeats-$tool" log="$LOGS/repeats/$tool.log"
        say "  repeats, $tool: fresh copy, cold run"
        fresh_copy "$tool" "$src" "$dir" "$TRIVIAL_WORKERS" "$log"
        run_cmd "$tool" "$TRIVIAL_WORKERS" 1
        timed repeats 0 repeats cold "$tool" "$log" "$dir" -- "${RUN[@]}"
    done
    for ((rep = 1; rep <= REPS; rep++)); do
        for tool in "${AVAILABLE[@]}"; do
            dir="$SUITES/repeats-$tool" log="$LOGS/repeats/$tool.log" counter="$dir/until-count"
            say "  repeats, $tool: rep $rep"
            run_cmd "$tool" "$TRIVIAL_WORKERS" 0
            timed repeats "$rep" repeats run "$tool" "$log" "$dir" -- "${RUN[@]}"
            timed repeats "$rep" repeats isolated "$tool" "$log" "$dir" -- "${RUN[@]}" --isolated
            rm -f "$counter"
            timed repeats "$rep" repeats until-failure "$tool" "$log" "$dir" \
                --env "BENCH_UNTIL_COUNTER=$counter" --env "BENCH_UNTIL_RUNS=$UNTIL_RUNS" -- \
                "${RUN[@]}" --until-failure
        done
    done
}

# ---------------------------------------------------------------- output ----

print_report() {
    echo "## testr runner benchmark ($(date -u +%Y-%m-%dT%H:%MZ), mode: $( ((QUICK)) && echo quick || echo full), $REPS rep(s), cases: $SELECTED_CASES)"
    echo
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //' || echo unknown)), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo 2>/dev/null), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- ours: $TESTR ($("$TESTR" --version 2>/dev/null | head -1 || true))"
    echo "- testr: $("$PY_TESTR" --version 2>/dev/null | head -1 || true) ; stestr: $("$PY_STESTR" --version 2>/dev/null | head -1 || true) ; $("$PY" --version 2>&1) ; $("$PYTHON_VENV/bin/pytest" --version 2>&1 | head -1 || echo 'no pytest')"
    local d dist seed gens=()
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        gens+=("\`--dist $dist --seed $seed\`")
    done
    echo "- suites: gen_suite.py --tests $TESTS with ${gens[*]}, concurrency $WORKERS; --tests $TRIVIAL_TESTS --trivial, concurrency $TRIVIAL_WORKERS; the same with --pytest"
    if [[ -n ${OSLO_SDIST:-} ]]; then
        echo "- oslo.utils: $(basename "$OSLO_SDIST"), its .stestr.conf, concurrency $OSLO_WORKERS, tests matching \`${OSLO_FILTER:-(all)}\`"
    fi
    echo "- own CPU = user+system time of our testr process (all threads, not its workers), resolution 10 ms; own-CPU check (runner_bench.py verify-cpu): $CPU_CHECK"
    local name
    for name in synthetic trivial; do
        [[ -z ${STARTUP_NOTE[$name]:-} ]] || echo "- ${STARTUP_NOTE[$name]}"
    done
    local n
    for n in "${NOTES[@]}"; do echo "- $n"; done
    local taken
    printf -v taken '%s, ' "${ELAPSED[@]}"
    echo "- time taken: ${taken%, }; $((SECONDS / 60)) min $((SECONDS % 60)) s in all"
    echo "- logs: $LOGS"
    echo
    local suites=()
    for d in "${DISTS[@]}"; do
        read -r dist seed <<<"$d"
        suites+=(--suite "$dist s$seed=$SUITES/gen-$dist-$seed")
    done
    "$PY" "$REPORT" "$RESULTS" --reps "$REPS" --workers "$WORKERS" --tests "$TESTS" \
        --startup "${STARTUP[synthetic]:-0}" "${suites[@]}" \
        --trivial-tests "$TRIVIAL_TESTS" --trivial-workers "$TRIVIAL_WORKERS" \
        --trivial-startup "${STARTUP[trivial]:-0}" \
        --oslo-workers "$OSLO_WORKERS" --oslo-counts "$LOGS/real-oslo.utils" \
        --pyreal "${PYREAL_NAME:-}" --pyreal-workers "$PYREAL_WORKERS" --logs "$LOGS" \
        --repeat-tests "$((REPEAT_TESTS + 1))" --until-runs "$UNTIL_RUNS"
    if [[ -s "$LOGS/worker-balance.txt" ]]; then
        echo
        echo "Our \`Worker balance:\` lines ($LOGS/worker-balance.txt):"
        echo
        sed 's/^/    /' "$LOGS/worker-balance.txt"
    fi
}

# run_case NAME FUNCTION: FUNCTION when NAME was selected, timed.
run_case() {
    local name=$1 t0=$SECONDS
    selected "$name" || return 0
    say "case $name"
    "$2"
    ELAPSED+=("$name $((SECONDS - t0)) s")
}

main() {
    setup_work
    setup_venv
    use_venv_python
    # This environment may set it; writing no __pycache__ makes every Python
    # start-up (each worker, each batch) recompile the suite.
    unset PYTHONDONTWRITEBYTECODE
    setup_testr
    check_runner
    write_counting_python
    say "scratch dir: $WORK (logs: $LOGS)"
    CPU_CHECK="$("$PY" "$HELPER" verify-cpu || true)"
    say "own-CPU check: $CPU_CHECK"
    run_case phases case_phases
    run_case classic case_classic
    run_case trivial case_trivial
    run_case pytest case_pytest
    run_case oslo case_oslo
    run_case pyreal case_pyreal
    run_case repeats case_repeats
    print_report
}

main

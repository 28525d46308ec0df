# shellcheck shell=bash disable=SC2034  # what it sets is read by the scripts that source it
# Shared by the benchmark scripts (sourced, not run): messages, the Python
# venv with the tools we compare against, and our testr binary.
# The sourcing script sets BENCH_NAME and REPO_ROOT first.

say() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; exit 3; }

# --quick, --reps N (or --reps=N), --cases A,B (only for a script that sets
# BENCH_CASES, its case names), and -h/--help through the sourcing script's
# `usage`; sets QUICK (0 or 1), REPS (empty unless given) and SELECTED_CASES
# (the selected names, space-separated; all of BENCH_CASES unless given).
parse_options() {
    QUICK=0
    REPS=
    SELECTED_CASES=${BENCH_CASES:-}
    local list
    while (($#)); do
        case "$1" in
            --quick) QUICK=1 ;;
            --reps)
                [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "$BENCH_NAME: --reps needs a positive number" >&2; exit 2; }
                REPS=$2; shift ;;
            --reps=*)
                REPS=${1#--reps=}
                [[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "$BENCH_NAME: --reps needs a positive number" >&2; exit 2; }
                ;;
            --cases | --cases=*)
                [[ -n "${BENCH_CASES:-}" ]] || { echo "$BENCH_NAME: unknown argument: $1" >&2; usage >&2; exit 2; }
                if [[ $1 == --cases ]]; then list=${2:-}; shift; else list=${1#--cases=}; fi
                SELECTED_CASES="$(select_cases "$list")" || exit 2
                ;;
            -h | --help) usage; exit 0 ;;
            *) echo "$BENCH_NAME: unknown argument: $1" >&2; usage >&2; exit 2 ;;
        esac
        shift
    done
}

# The names of a comma-separated LIST, each checked against BENCH_CASES.
select_cases() {
    local name names=()
    IFS=, read -r -a names <<<"$1"
    ((${#names[@]})) || { echo "$BENCH_NAME: --cases needs one or more of: $BENCH_CASES" >&2; return 1; }
    for name in "${names[@]}"; do
        [[ " $BENCH_CASES " == *" $name "* ]] ||
            { echo "$BENCH_NAME: unknown case '$name' (known: $BENCH_CASES)" >&2; return 1; }
    done
    echo "${names[*]}"
}

# Whether case NAME was selected (--cases, or all by default).
selected() { [[ " $SELECTED_CASES " == *" $1 "* ]]; }

# A venv is usable when it has python-subunit and both Python tools.
venv_usable() {
    [[ -x "$1/bin/python" && -x "$1/bin/testr" && -x "$1/bin/stestr" ]] &&
        "$1/bin/python" -c 'import subunit' 2>/dev/null
}

# PYTHON_VENV (checked), or target/bench-venv (created when missing, with
# the packages of BENCH_VENV_EXTRA too); sets PY, PY_TESTR and PY_STESTR.
setup_venv() {
    if [[ -n "${PYTHON_VENV:-}" ]]; then
        venv_usable "$PYTHON_VENV" ||
            die "PYTHON_VENV=$PYTHON_VENV lacks python-subunit, testr or stestr"
    else
        PYTHON_VENV="$REPO_ROOT/target/bench-venv"
        if ! venv_usable "$PYTHON_VENV"; then
            say "creating $PYTHON_VENV (python-subunit, testrepository, stestr ${BENCH_VENV_EXTRA:-})"
            python3 -m venv "$PYTHON_VENV"
            # shellcheck disable=SC2086  # BENCH_VENV_EXTRA is a list of names
            "$PYTHON_VENV/bin/pip" install --quiet python-subunit testrepository stestr ${BENCH_VENV_EXTRA:-}
        fi
    fi
    PYTHON_VENV="$(cd "$PYTHON_VENV" && pwd)"
    PY="$PYTHON_VENV/bin/python"
    PY_TESTR="$PYTHON_VENV/bin/testr"
    PY_STESTR="$PYTHON_VENV/bin/stestr"
}

# One interpreter for every tool: the Python tools' test commands use
# ${PYTHON:-python3} and need python-subunit; our worker_command says
# `python3`, which the venv's bin/ provides first on PATH.
use_venv_python() {
    export PYTHON="$PY"
    export PATH="$PYTHON_VENV/bin:$PATH"
}

# TESTR as an absolute path; built with cargo when unset.
setup_testr() {
    if [[ -z "${TESTR:-}" ]]; then
        say "building our testr (cargo build --release)"
        (cd "$REPO_ROOT" && cargo build --release --quiet)
        TESTR="$REPO_ROOT/target/release/testr"
    fi
    if [[ "$TESTR" == */* ]]; then
        TESTR="$(cd "$(dirname "$TESTR")" && pwd)/$(basename "$TESTR")"
    else
        TESTR="$(command -v "$TESTR")" || die "TESTR is not on PATH"
    fi
    [[ -x "$TESTR" ]] || die "TESTR=$TESTR is not executable"
}

# The scratch directory: $WORK when set (created if missing, never removed),
# else a new PREFIX.XXXXXX under $TMPDIR. Sets WORK (absolute) and
# WORK_OWNED (1 when made here: the caller's exit trap may remove it).
make_work_dir() {
    local prefix=$1
    if [[ -n "${WORK:-}" ]]; then
        mkdir -p "$WORK"
        WORK_OWNED=0
    else
        WORK="$(mktemp -d "${TMPDIR:-/tmp}/$prefix.XXXXXX")"
        WORK_OWNED=1
    fi
    WORK="$(cd "$WORK" && pwd)"
}

# make_work_dir, then SUITES (generated suites and each tool's copies,
# removed at exit unless WORK was given or KEEP_WORK=1) and LOGS (every
# run's output, always kept), both emptied first.
setup_suites_and_logs() {
    make_work_dir "$1"
    SUITES="$WORK/suites"
    LOGS="$WORK/logs"
    rm -rf "$SUITES" "$LOGS"
    mkdir -p "$SUITES" "$LOGS"
    trap remove_suites EXIT
}

remove_suites() {
    if ((WORK_OWNED)) && [[ "${KEEP_WORK:-0}" != 1 ]]; then
        rm -rf "$SUITES"
    fi
    say "logs: $LOGS"
}

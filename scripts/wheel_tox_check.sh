#!/usr/bin/env bash
# The Python wheel, as a tox user gets it: build it with maturin, check that
# it holds the binary and nothing else, install it into a fresh venv, and
# run a tox environment whose `deps =` installs it and whose command is
# `testr run`, on a copy of the unittest fixture project. Checks each run's
# exit status and what it stored (`testr last --json`, through jq).
#
# Needs a Python with maturin and tox in TESTR_TEST_PYTHON (or python3 on
# PATH), and jq; `.ci/run` sets them up. The wheel is built with
# `maturin build --release`: the one build of the release profile in the
# suite (under a minute on two cores; a rerun only packages it).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${TESTR_TEST_PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
    echo "wheel_tox_check: $*" >&2
    exit 1
}

# The wheel: the binary as its one script, and nothing else. The Python
# workers are inside the binary (include_str!), which writes them out
# itself; a copy in the wheel would shadow or go stale.
"$python" -m maturin build --release --locked --out "$work/wheels" >"$work/maturin.log" 2>&1 \
    || { cat "$work/maturin.log" >&2; fail "maturin could not build the wheel"; }
wheels=("$work"/wheels/testr_rs-*.whl)
[ "${#wheels[@]}" -eq 1 ] || fail "expected one testr_rs wheel, got: ${wheels[*]}"
wheel="${wheels[0]}"
contents="$("$python" -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$wheel")"
payload="$(grep -v '\.dist-info/' <<<"$contents")"
[ "$payload" = "testr_rs-$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1).data/scripts/testr" ] \
    || fail "the wheel should hold only the testr binary, it holds:"$'\n'"$payload"

# A fresh venv with the wheel: its `testr` is the binary.
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
testr="$work/venv/bin/testr"
[ "$("$testr" --version)" = "testr $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)" ] \
    || fail "the venv's testr is not this testr: $("$testr" --version)"

# The project, with a .testr.conf written by the installed testr, and a
# tox environment that gets testr from `deps =`, the wheel being found
# through pip's own settings (as a wheel house or a private index would be).
project="$work/project"
cp -r tests/fixtures/unittest_project "$project"
(cd "$project" && "$testr" init --unittest . >/dev/null)
cat >"$project/tox.ini" <<'EOF'
[tox]
env_list = unit

[testenv:unit]
skip_install = true
deps = testr-rs
commands = testr run {posargs}
EOF
run_tox() {
    (cd "$project" && PIP_NO_INDEX=1 PIP_FIND_LINKS="$work/wheels" "$python" -m tox run -q -e unit -- "$@") \
        >"$work/tox.log" 2>&1
}
expect_status() {
    local expected="$1" actual="$2"
    [ "$actual" -eq "$expected" ] || { cat "$work/tox.log" >&2; fail "tox exited $actual, expected $expected"; }
}
last_statuses() {
    "$testr" -d "$project" last --json | jq -c '[.tests[].status] | group_by(.) | map({(.[0]): length}) | add'
}

# A passing selection: exit status 0, three passing tests stored.
status=0; run_tox test_plain || status=$?
expect_status 0 "$status"
[ -x "$project/.tox/unit/bin/testr" ] || fail "tox's deps did not install testr"
[ "$(last_statuses)" = '{"success":3}' ] || fail "stored after test_plain: $(last_statuses)"

# The whole project, with its failure on purpose: testr's exit status 1
# fails the tox environment, and every result is stored.
status=0; run_tox || status=$?
expect_status 1 "$status"
grep -qF 'FAILED (id=1, failures=1 (+1), skips=1)' "$work/tox.log" || { cat "$work/tox.log" >&2; fail "no FAILED summary"; }
[ "$(last_statuses)" = '{"fail":1,"skip":1,"success":7,"xfail":1}' ] \
    || fail "stored after the whole run: $(last_statuses)"
[ "$("$testr" -d "$project" failing --list)" = "fixtureproj.tests.test_statuses.StatusTest.test_fails" ] \
    || fail "failing: $("$testr" -d "$project" failing --list)"

echo "wheel_tox_check: $(basename "$wheel") installs testr; tox ran it: ok"

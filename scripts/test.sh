#!/usr/bin/env bash
# The whole test suite: formatting, lints, docs, the Rust tests and the
# Python worker's tests. Needs a Python with python-subunit in
# TESTR_TEST_PYTHON (or on PATH as python3): `.ci/run` sets one up.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet
cargo test --locked
if [ -d python ]; then
    "${TESTR_TEST_PYTHON:-python3}" -m unittest discover -s python -p 'test_*.py'
fi

#!/usr/bin/env bash
# The Python package's tests: build the wheel (dev profile, reusing `cargo build`'s
# artifacts), install it with --no-index into a fresh venv beside pinned pytest, pandas
# and pyarrow from PyPI, and run python/tests against the debug CLI and the shared sample.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
cargo clippy --locked -p knnpref-python --features test-hooks -- -D warnings   # the root's clippy covers the root crate only
WHEEL="$(bash scripts/build_wheel.sh --dev | tail -n 1)"
VENV="$TARGET/pytest-venv"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r python/tests/requirements.txt
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-index --no-deps "$WHEEL"
KNNPREF_BIN="$(realpath "$TARGET/debug/knnpref")" \
KNNPREF_SAMPLE="$(realpath ../shared/data/arena-sample)" \
KNNPREF_WHEEL="$(realpath "$WHEEL")" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests

#!/usr/bin/env bash
# Build the knnpref Python wheel (abi3: one wheel for CPython >= 3.9 on this platform)
# with maturin, pinned, from PyPI into a private venv. The wheel lands in
# ${CARGO_TARGET_DIR:-target}/wheels; its path is the last line printed.
#
#   scripts/build_wheel.sh           # release build (what to attach to a notebook)
#   scripts/build_wheel.sh --dev     # dev profile with the test hooks: reuses `cargo build`'s
#                                    # artifacts (scripts/test_python.sh; never ship it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MATURIN_VERSION=1.16.0
PROFILE=(--release)
if [[ "${1:-}" == "--dev" ]]; then
    PROFILE=(--profile dev --features test-hooks)
fi
TARGET="${CARGO_TARGET_DIR:-target}"
VENV="$TARGET/maturin-venv"
if [[ "$("$VENV/bin/maturin" --version 2>/dev/null)" != "maturin $MATURIN_VERSION" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi
OUT="$TARGET/wheels"
rm -f "$OUT"/knnpref-*.whl
"$VENV/bin/maturin" build --quiet --locked "${PROFILE[@]}" --manifest-path python/Cargo.toml --out "$OUT" >&2
ls "$OUT"/knnpref-*.whl

#!/usr/bin/env bash
# Run every check: provisioning, formatting, clippy -D warnings, the library docs, and all tests.
# The tests read the real sample from ../shared/data/arena-sample.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The tests' build turns on the test hooks (stage pauses, a full disk, a panic: src/fsio/hooks.rs);
# the release binary and the wheel users install are built without them.
cargo build --locked --features test-hooks
KNNPREF_BIN="${CARGO_TARGET_DIR:-target}/debug/knnpref" bash scripts/setup.sh
bash scripts/test_setup.sh   # setup refuses a corrupted file, names it and what to delete
cargo fmt --all -- --check
cargo clippy --all-targets --locked --features test-hooks -- -D warnings
cargo clippy --all-targets --locked -- -D warnings   # and the build without the hooks
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --lib --locked   # missing_docs is denied in src/lib.rs
cargo test --locked --features test-hooks -- --test-threads=2
bash scripts/test_python.sh   # the Python package: wheel, fresh venv, pytest (python/tests)

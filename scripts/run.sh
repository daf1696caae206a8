#!/usr/bin/env bash
# One command on a fresh machine: provision the runtime and model, build
# knnpref, index the default training data and write submission.csv.
#   scripts/run.sh [TRAIN_CSV [TEST_CSV [OUT_CSV]]]
# Defaults: ../shared/data/arena-sample/{train,test}.csv and ./submission.csv.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sample="$root/../shared/data/arena-sample"
train="${1:-$sample/train.csv}"
test="${2:-$sample/test.csv}"
out="${3:-submission.csv}"
if [ ! -f "$train" ] || [ ! -f "$test" ]; then
  echo "run: no training/test data at $train and $test." >&2
  echo "run: the default is the Kaggle sample in ../shared/data/arena-sample; to use your own data run" >&2
  echo "       scripts/run.sh path/to/train.csv path/to/test.csv [submission.csv]" >&2
  exit 1
fi
cargo build --release --locked
bin="${CARGO_TARGET_DIR:-$root/target}/release/knnpref"
KNNPREF_BIN="$bin" bash scripts/setup.sh
index="$root/indexes/$(basename "$(dirname "$train")")"
"$bin" index --train "$train" --out "$index" --seed 0
"$bin" predict --index "$index" --test "$test" --out "$out"
echo "run: wrote $out from index $index"

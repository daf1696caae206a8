#!/usr/bin/env bash
# README's encoder table: for each encoder, a cold `index --no-cache` of the shared sample (timed,
# with its embedding line) and nested CV (`evaluate --folds 5 --seed 0 --repeats 3 --json`), then
# one line per encoder with knnpref, no-knn, knnpref - no-knn and the fold-paired difference against
# the MiniLM transformer.
#
#   scripts/encoder_table.sh [OUT_DIR]      # default target/encoder-table; the mpnet rows need
#                                           # scripts/setup.sh --mpnet first (skipped otherwise)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${KNNPREF_BIN:-target/release/knnpref}"
OUT="${1:-target/encoder-table}"
S=../shared/data/arena-sample
M="${KNNPREF_HOME:-$HOME/.cache/knnpref}/models"
[[ -x "$BIN" ]] || cargo build --release --locked
run() {
    local name=$1; shift
    local o="$OUT/$name"
    rm -rf "$o"; mkdir -p "$o"
    export KNNPREF_CACHE="$o/cache"
    /usr/bin/time -f "cold index wall %e s, max RSS %M KB" "$BIN" index --train $S/train.csv --out "$o/idx" \
        --seed 0 --no-cache "$@" > "$o/index.out" 2> "$o/index.err"
    "$BIN" --quiet evaluate --train $S/train.csv --folds 5 --seed 0 --repeats 3 --json "$@" > "$o/eval.json"
}
run minilm --transformer
run int8 --quantized
run static --static
if [[ -f "$M/all-mpnet-base-v2/model.onnx" ]]; then run mpnet --model "$M/all-mpnet-base-v2"; fi
if [[ -f "$M/all-mpnet-base-v2-static/model.safetensors" ]]; then run mpnet-static --model "$M/all-mpnet-base-v2-static"; fi
python3 - "$OUT" <<'PY'
import json, os, statistics as st, sys
out = sys.argv[1]
def load(name):
    d = json.load(open(os.path.join(out, name, "eval.json")))
    return {m["name"]: m for m in d["models"]}
base = load("minilm")["knnpref"]["fold_log_loss"]
for name in ["minilm", "int8", "static", "mpnet", "mpnet-static"]:
    if not os.path.exists(os.path.join(out, name, "eval.json")):
        continue
    m = load(name)
    gap = m["no-knn"]["knnpref_vs"]
    diff = [a - b for a, b in zip(m["knnpref"]["fold_log_loss"], base)]
    mean, se = st.mean(diff), st.stdev(diff) / len(diff) ** 0.5
    embed = open(os.path.join(out, name, "index.err")).readline().strip()
    print(f"{name}: knnpref {m['knnpref']['log_loss']:.4f} no-knn {m['no-knn']['log_loss']:.4f} "
          f"knnpref-no-knn {gap['mean']:+.4f} [{gap['low']:+.4f}, {gap['high']:+.4f}] "
          f"vs minilm {mean:+.4f} [{mean - 2.145 * se:+.4f}, {mean + 2.145 * se:+.4f}] | {embed}")
PY

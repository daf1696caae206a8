#!/usr/bin/env bash
# The scale benchmark (issue 29): for each size of synthetic battles, `knnpref index` (wall, its
# parts, peak RSS), `predict` of 25,000 battles, and the neighbour self-search of the fit done by
# knnpref (benches/neighbours.rs), faiss and hnswlib on the same static vectors and thread count,
# with recall@20 against exact search on 2,000 sampled queries. Never in CI: it takes minutes to
# hours, and the peers live in a private venv.
#   scripts/bench_scale.sh                 # 57k and 200k
#   scripts/bench_scale.sh 500000 1000000  # on request
# Env: BENCH_DIR (default target/bench-scale), BENCH_THREADS (default 2).
# Synthetic data: speed only, never accuracy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(57000 200000)
dir=${BENCH_DIR:-target/bench-scale}
threads=${BENCH_THREADS:-2}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

cargo build --release --locked --quiet
knnpref="$PWD/target/release/knnpref"
cargo bench --locked --bench neighbours --no-run --quiet 2>/dev/null
neighbours=$(ls -t target/release/deps/neighbours-* | grep -v '\.d$' | head -n 1)

venv="$dir/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet faiss-cpu==1.15.1 hnswlib==0.8.0 numpy==2.2.6 pyarrow==21.0.0
fi

timed() { # timed LOG CMD...: run, keep GNU time's report in LOG
  local log=$1; shift
  /usr/bin/time -v -o "$log.time" "$@" >"$log" 2>&1
}
field() { grep -m1 "$2" "$1" | sed 's/.*: //'; }
seconds() { # h:mm:ss or m:ss.ss to seconds
  awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

test_csv="$dir/test25k.csv"
[ -f "$test_csv" ] || "$knnpref" --quiet synth --rows 25000 --seed 1 --out "$test_csv" >/dev/null
echo "machine: $(nproc) cores, threads $threads; knnpref $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"
for n in "${sizes[@]}"; do
  train="$dir/train$n.csv" idx="$dir/idx$n" vectors="$dir/vectors$n.parquet"
  [ -f "$train" ] || "$knnpref" --quiet synth --rows "$n" --seed 0 --out "$train" >/dev/null
  rm -rf "$idx"
  timed "$dir/index$n.log" "$knnpref" index --threads "$threads" --static --train "$train" --out "$idx"
  timed "$dir/predict$n.log" "$knnpref" predict --threads "$threads" --index "$idx" --test "$test_csv" \
    --out "$dir/sub$n.csv"
  [ -f "$vectors" ] || "$knnpref" --quiet embed --threads "$threads" --static --in "$train" --out "$vectors" >/dev/null
  NB_BATTLES="$train" NB_VECTORS="$vectors" NB_THREADS="$threads" "$neighbours" >"$dir/neighbours$n.log"
  "$venv/bin/python" scripts/ann_peers.py "$vectors" --threads "$threads" >"$dir/peers$n.json"

  echo
  echo "## $n battles"
  echo "index: $(seconds "$(field "$dir/index$n.log.time" 'Elapsed')") s wall, peak RSS $(($(field "$dir/index$n.log.time" 'Maximum resident') / 1024)) MiB"
  grep -E '^(time|fit):' "$dir/index$n.log" | sed 's/^/  /'
  echo "predict 25k: $(seconds "$(field "$dir/predict$n.log.time" 'Elapsed')") s wall, peak RSS $(($(field "$dir/predict$n.log.time" 'Maximum resident') / 1024)) MiB"
  "$venv/bin/python" - "$dir/neighbours$n.log" "$dir/peers$n.json" <<'PY'
import json, re, sys
ours = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+): (\d+) vectors, build ([\d.]+) s, search ([\d.]+) s, recall@20 ([\d.]+)", line)
    if m:
        ours[m[1]] = dict(build=float(m[3]), search=float(m[4]), recall=float(m[5]))
peers = json.load(open(sys.argv[2]))
print("| self-search | knnpref | faiss HNSW | hnswlib |")
print("|---|---|---|---|")
total = {"knnpref": 0.0, "faiss": 0.0, "hnswlib": 0.0}
for part in ["prompts", "responses"]:
    o, p = ours[part], peers[part]
    cells = [f"{o['build']:.1f} + {o['search']:.1f} s, recall {o['recall']:.3f}"]
    total["knnpref"] += o["build"] + o["search"]
    for lib in ["faiss", "hnswlib"]:
        b, s, r = p[f"{lib}_build"], p[f"{lib}_search"], p[f"{lib}_recall"]
        cells.append(f"{b:.1f} + {s:.1f} s, recall {r:.3f}")
        total[lib] += b + s
    print(f"| {part} ({p['n']}) | " + " | ".join(cells) + " |")
best = min(total["faiss"], total["hnswlib"])
print(f"| total | {total['knnpref']:.1f} s | {total['faiss']:.1f} s | {total['hnswlib']:.1f} s |")
print(f"knnpref / best peer: {total['knnpref'] / best:.2f}x (build + search, k {peers['k']}, ef {peers['ef']}, {peers['threads']} threads)")
PY
done

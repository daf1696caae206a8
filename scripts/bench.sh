#!/usr/bin/env bash
# Speed and memory benchmark (synthetic battles: speed only, never accuracy).
#
#   scripts/bench.sh [--static] [--predict-rows N] [SIZE[@TOKENS] ...]      default: 2000
#
# --static embeds with the provisioned static model (and skips step 1, which
# measures the transformer); --predict-rows sets the synthetic test size of
# step 2 (default 1,000).
#
# 1. Embedding throughput: knnpref against raw ONNX Runtime on the same token
#    batches, at the default sessions and batch size (benches/throughput.rs).
# 2. For each size: `knnpref index` with an empty embedding cache and again
#    with a warm one (wall time, peak RSS, tokens/s, padding; the ratio is the
#    cache speed-up), then `predict` of 1,000 synthetic battles (cold).
#    SIZE@TOKENS builds with --max-tokens TOKENS, so that large sizes finish
#    in reasonable time; the embedding part then scales with tokens (see 3).
# 3. A power-law fit of warm-cache index time (everything but the model)
#    against battles, and the cold time that follows at 256 tokens:
#    tokens/s from step 1 applied to the tokens a full-length run embeds.
#
# Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
static=(); predict_rows=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --static) static=(--static); shift ;;
    --predict-rows) predict_rows="${2:?--predict-rows needs a number}"; shift 2 ;;
    *) break ;;
  esac
done
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(2000)
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
cargo build --release --locked
bin="${CARGO_TARGET_DIR:-$root/target}/release/knnpref"
KNNPREF_BIN="$bin" bash scripts/setup.sh
home="${KNNPREF_HOME:-$HOME/.cache/knnpref}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# A private home that shares the runtime and models but starts with an empty cache.
mkdir -p "$work/home"; ln -s "$home/lib" "$work/home/lib"; ln -s "$home/models" "$work/home/models"

if [ ${#static[@]} -eq 0 ]; then
  echo "== embedding throughput: knnpref against raw ONNX Runtime on the same batches"
  THROUGHPUT_TEXTS="${THROUGHPUT_TEXTS:-768}" THROUGHPUT_BATCHES="${THROUGHPUT_BATCHES:-4}" \
    THROUGHPUT_SESSIONS="${THROUGHPUT_SESSIONS:-2}" cargo bench --locked --bench throughput 2>/dev/null \
    | grep -v '^ *\(Compiling\|Finished\|Running\)'
fi

measure() { # command... ; prints "seconds peak_MiB" and keeps stderr in $work/err
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  awk '{printf "%.1f %.0f\n", $1, $2/1024}' "$work/t"
}
# From knnpref's line "embedding: N texts, T tokens in S s (R tokens/s), padding P%; ..."
embed_field() { awk -v f="$1" '/^embedding: /{print $f}' "$work/err" | tr -d '(%;,'; }

echo
echo "== index and predict on synthetic battles"
"$bin" --quiet synth --rows "$predict_rows" --seed 99 --out "$work/test.csv" > /dev/null
echo "model: ${static[*]:-transformer}; predict: $predict_rows synthetic battles, cold"
printf '%-8s %6s %9s %8s %8s %6s %9s %8s %8s %8s %8s\n' battles tokens "cold s" "peak MiB" "tok/s" "pad %" \
  "warm s" "peak MiB" speed-up "pred s" "pred MiB"
: > "$work/fit"
for spec in "${sizes[@]}"; do
  n="${spec%@*}"; tokens=256; [ "$spec" = "$n" ] || tokens="${spec#*@}"
  rm -rf "$work/home/cache" "$work/idx"
  "$bin" --quiet synth --rows "$n" --seed 1 --out "$work/train.csv" > /dev/null
  args=(index --train "$work/train.csv" --out "$work/idx" --max-tokens "$tokens" "${static[@]}")
  read -r cold cold_mem < <(KNNPREF_HOME="$work/home" measure "$bin" "${args[@]}")
  tps=$(embed_field 9); pad=$(embed_field 12); ntok=$(embed_field 4)
  read -r warm warm_mem < <(KNNPREF_HOME="$work/home" measure "$bin" "${args[@]}")
  read -r pred pred_mem < <(KNNPREF_HOME="$work/home" measure "$bin" predict --index "$work/idx" \
    --test "$work/test.csv" --out "$work/sub.csv" --no-cache "${static[@]}")
  speed=$(awk -v a="$cold" -v b="$warm" 'BEGIN{printf "%.1fx", a/b}')
  printf '%-8s %6s %9s %8s %8s %6s %9s %8s %8s %8s %8s\n' "$n" "$tokens" "$cold" "$cold_mem" "$tps" "$pad" \
    "$warm" "$warm_mem" "$speed" "$pred" "$pred_mem"
  echo "$n $tokens $cold $warm $ntok" >> "$work/fit"
done

# The scaling model needs a cache that saves the embedding time (a
# transformer); a static model keeps no cache, so cold and warm match.
[ ${#static[@]} -eq 0 ] || exit 0
echo
echo "== scaling"
awk '
  { n[NR]=$1; warm[NR]=$4; if ($2 == 256) { full_n=$1; full_tok=$5; full_cold=$3; full_warm=$4 } }
  END {
    if (NR >= 2) {
      for (i = 1; i <= NR; i++) { x = log(n[i]); y = log(warm[i]); sx += x; sy += y; sxx += x*x; sxy += x*y }
      b = (NR*sxy - sx*sy) / (NR*sxx - sx*sx); a = exp((sy - b*sx) / NR)
      printf "warm-cache index time (all but the model) ~ %.3g * N^%.2f s\n", a, b
      for (i = 1; i <= NR; i++) printf "  N=%-7d measured %8.1f s, fit %8.1f s\n", n[i], warm[i], a*n[i]^b
    }
    if (full_n) {
      per = full_tok / full_n; tps = (full_cold - full_warm) > 0 ? full_tok / (full_cold - full_warm) : 0
      printf "256-token runs embed %.0f tokens per battle; cold index at %.0f end-to-end tokens/s:\n", per, tps
      for (N = 5000; N <= 60000; N *= 2) printf "  N=%-6d ~%6.0f min\n", N, (N*per/tps + a*N^b) / 60
      printf "  N=57000  ~%6.0f min\n", (57000*per/tps + a*57000^b) / 60
    }
  }' "$work/fit"

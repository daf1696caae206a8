#!/usr/bin/env bash
# What growing an index (`index --base`) costs against a rebuild, on this machine:
#   1. the shared sample with the transformer and an empty cache: rows 0..999 indexed, then
#      1000..1492 added with --base, against one index of all 1,493 (the submissions must match);
#   2. N synthetic battles with the static model (default 57000): the first 7/8 indexed, the last
#      1/8 added with --base, against one index of all.
#   scripts/growth_cost.sh [BIN] [N]         (BIN: default target/release/knnpref)
# Prints each run's wall seconds, peak memory and knnpref's stage times. Synthetic battles are for
# speed only, never accuracy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$(realpath "${1:-$here/../target/release/knnpref}")"
n="${2:-57000}"
sample="$here/../../shared/data/arena-sample/train.csv"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export KNNPREF_CACHE="$work/cache"

timed() {  # label, then the command; prints wall seconds, peak MiB and the stage line
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err"
  read -r secs kb < "$work/time"
  printf '%-44s %8.1f s %6d MiB   %s | %s\n' "$label" "$secs" $((kb / 1024)) \
    "$(grep -m1 '^embedding:' "$work/err" | cut -c1-60)" "$(grep -m1 '^time:' "$work/err")"
}

split() {  # file, first-rows, out-a, out-b
  python3 - "$@" <<'PY'
import csv, sys
csv.field_size_limit(1 << 30)
src, k, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(src, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
for path, part in [(a, rows[1:k + 1]), (b, rows[k + 1:])]:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f); w.writerow(rows[0]); w.writerows(part)
PY
}

split "$sample" 1000 "$work/a.csv" "$work/b.csv"
t=(--transformer --no-cache)
timed "sample, transformer: index of all 1,493" "$bin" index --train "$sample" --out "$work/full" "${t[@]}"
timed "sample, transformer: index of rows 0..999" "$bin" index --train "$work/a.csv" --out "$work/grown" "${t[@]}"
timed "sample, transformer: --base + 1000..1492" "$bin" index --base "$work/grown" --train "$work/b.csv" --out "$work/grown" "${t[@]}"
"$bin" -q predict --index "$work/full" --test "$sample" --out "$work/s1.csv" 2>/dev/null
"$bin" -q predict --index "$work/grown" --test "$sample" --out "$work/s2.csv" 2>/dev/null
cmp -s "$work/s1.csv" "$work/s2.csv" && echo "  submissions byte-identical" || { echo "  submissions DIFFER"; exit 1; }

"$bin" -q synth --rows "$n" --seed 0 --out "$work/synth.csv"
split "$work/synth.csv" $((n * 7 / 8)) "$work/sa.csv" "$work/sb.csv"
timed "synthetic, static: index of all $n" "$bin" index --static --train "$work/synth.csv" --out "$work/sfull"
timed "synthetic, static: index of the first 7/8" "$bin" index --static --train "$work/sa.csv" --out "$work/sgrown"
timed "synthetic, static: --base + the last 1/8" "$bin" index --static --base "$work/sgrown" --train "$work/sb.csv" --out "$work/sgrown"

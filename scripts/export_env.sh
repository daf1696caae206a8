#!/usr/bin/env bash
# Opt-in: the private venv for scripts/export_onnx.py and scripts/golden_pooling.py, at
# $KNNPREF_HOME/export-venv (default ~/.cache/knnpref), with the exact pins of
# scripts/export_requirements.txt (torch, transformers, sentence-transformers, onnx, onnxruntime 1.31.1,
# ...; about 6 GB installed, most of it the NVIDIA wheels PyPI's Linux torch pulls in).
# Not run by setup.sh, test.sh or CI.
#
#   scripts/export_env.sh                          create or update the venv, print its python
#   scripts/export_env.sh python scripts/export_onnx.py SRC OUT   run a command inside it
#
# Idempotent: the venv records the sha256 of the requirements it was installed from and is
# reinstalled only when they change.
set -euo pipefail

KNNPREF_HOME="${KNNPREF_HOME:-$HOME/.cache/knnpref}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/export_requirements.txt"
venv="$KNNPREF_HOME/export-venv"
stamp="$venv/.requirements.sha256"

say() { printf 'export-env: %s\n' "$*" >&2; }
die() { printf 'export-env: error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 with venv and pip is required (apt-get install python3 python3-venv)"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    python3 -m venv "$venv" || die "could not create $venv; delete it and run again"
  fi
  say "installing the pinned export packages into $venv (several GB the first time)"
  # Wheels only: nothing is built from source, so the set is what the pins say.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$req" >&2 \
    || die "pip could not install $req into $venv; delete $venv and run again"
  printf '%s\n' "$want" > "$stamp"
fi

# Everything the scripts read is a local folder: the Hugging Face libraries must never reach a hub.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
if [ "$#" -eq 0 ]; then printf '%s\n' "$venv/bin/python"; exit 0; fi
PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" exec "$@"

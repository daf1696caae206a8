#!/usr/bin/env bash
# Check, inside real Jupyter kernels, what README's "Python package" section says about
# progress and interruption. Installs the built wheel beside pinned Jupyter packages from
# PyPI into a private venv under a temporary folder, then, on the first 60 rows of the
# shared sample (max_tokens 32, embedding cache off so that the embedding stage runs):
#   (a) executes a generated notebook with nbclient (tqdm installed): the build cell shows a
#       tqdm widget for the `embedding train` and `fitting` stages, and no text lines;
#   (b) executes it again with tqdm hidden (`sys.modules["tqdm"] = None`): the build cell's
#       stderr stream has the text lines (`knnpref: embedding train ...`, `... done ...`);
#   (c) with jupyter_client, starts a build paused inside the fit (KNNPREF_TEST_PAUSE_AT=
#       fit-select), interrupts the kernel, and checks that the cell ends with
#       KeyboardInterrupt before the fit's end, that no index folder or temporary file is left,
#       and that the same kernel then builds an index; then interrupts a build of the whole
#       sample while it embeds (no pause) and checks the same, and that the kernel still
#       predicts.
# Prints what it saw; exits non-zero with a message naming each failed check.
#
#   scripts/check_notebook.sh [WHEEL]   # default: the wheel in ${CARGO_TARGET_DIR:-target}/wheels
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WHEEL="${1:-$(ls "${CARGO_TARGET_DIR:-target}"/wheels/knnpref-*.whl 2>/dev/null | tail -n 1 || true)}"
if [[ -z "$WHEEL" || ! -f "$WHEEL" ]]; then
    echo "check_notebook: no wheel found; run scripts/build_wheel.sh or pass the wheel's path" >&2
    exit 2
fi
SAMPLE="$(realpath ../shared/data/arena-sample)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/knnpref-notebook.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check \
    jupyter_client==8.10.0 nbclient==0.11.0 nbformat==5.11.1 ipykernel==7.4.0 \
    tqdm==4.70.1 ipywidgets==8.1.9
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check --no-index --no-deps "$WHEEL"
echo "check_notebook: wheel $(basename "$WHEEL"); $("$WORK/venv/bin/python" -m pip list --disable-pip-version-check 2>/dev/null \
    | awk '$1 ~ /^(jupyter_client|nbclient|nbformat|ipykernel|tqdm|ipywidgets|knnpref)$/ {printf "%s %s; ", $1, $2}')"
# Jupyter's own folders inside $WORK: no kernelspec or config of this machine's user is used.
export JUPYTER_DATA_DIR="$WORK/jupyter/data" JUPYTER_CONFIG_DIR="$WORK/jupyter/config"
export JUPYTER_RUNTIME_DIR="$WORK/jupyter/runtime" JUPYTER_PLATFORM_DIRS=1 IPYTHONDIR="$WORK/ipython"
"$WORK/venv/bin/python" - "$WORK" "$SAMPLE" <<'PY'
import csv
import json
import os
import queue
import sys
import time

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

WORK, SAMPLE = sys.argv[1], sys.argv[2]
ROWS, WIDGET = 60, "application/vnd.jupyter.widget-view+json"
failures = []


def check(ok, what, seen):
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        print("       saw: " + str(seen).replace("\n", "\n            "))
        failures.append(what)


# The first ROWS battles of the shared sample, as a CSV of their own.
csv.field_size_limit(1 << 30)
train = os.path.join(WORK, "train.csv")
with open(os.path.join(SAMPLE, "train.csv"), newline="", encoding="utf-8") as src:
    rows = list(zip(range(ROWS + 1), csv.reader(src)))
with open(train, "w", newline="", encoding="utf-8") as dst:
    csv.writer(dst).writerows(row for _, row in rows)

SETUP = f"import sys\nprint(sys.executable)\nTRAIN, TEST, WORK = {train!r}, {os.path.join(SAMPLE, 'test.csv')!r}, {WORK!r}"
BUILD = (
    "import os, knnpref\n"
    "index = knnpref.build_index(TRAIN, os.path.join(WORK, NAME), seed=0, folds=3, max_tokens=32, cache=False)\n"
    "print(index.summary['rows'], 'rows')"
)
PREDICT = (
    "sub = index.predict(TEST, out=os.path.join(WORK, NAME + '-submission.csv'))\n"
    "print(open(os.path.join(WORK, NAME + '-submission.csv')).read())"
)


def stream(outputs, name):
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == name)


def run_notebook(name, hide_tqdm):
    cells = [nbformat.v4.new_code_cell(SETUP + f"\nNAME = {name!r}")]
    if hide_tqdm:
        cells.append(nbformat.v4.new_code_cell("sys.modules['tqdm'] = sys.modules['tqdm.auto'] = None  # tqdm hidden"))
    cells += [nbformat.v4.new_code_cell(BUILD), nbformat.v4.new_code_cell(PREDICT)]
    nb = nbformat.v4.new_notebook(cells=cells)
    started = time.monotonic()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": WORK}}).execute()
    nbformat.write(nb, os.path.join(WORK, f"{name}.ipynb"))
    print(f"notebook {name}: executed in {time.monotonic() - started:.1f}s")
    kernel_python = stream(nb.cells[0].outputs, "stdout").strip()
    check(kernel_python == os.path.join(WORK, "venv", "bin", "python"), "the kernel runs the private venv's Python", kernel_python)
    build, predict = nb.cells[-2].outputs, nb.cells[-1].outputs
    check(stream(build, "stdout").strip() == f"{ROWS} rows", f"the build cell printed '{ROWS} rows'", build)
    submission = stream(predict, "stdout").strip().splitlines()
    check(
        submission[:1] == ["id,winner_model_a,winner_model_b,winner_tie"] and len(submission) == 4,
        "the submission has its header and the 3 test rows", submission,
    )
    return nb, build


def widget_descs(nb, outputs):
    """The stage (tqdm's desc) of each tqdm widget displayed in `outputs`, with its bar's value and max."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    found = []
    for out in outputs:
        model_id = out.get("data", {}).get(WIDGET, {}).get("model_id")
        if model_id is None:
            continue
        children = [c.split("IPY_MODEL_")[-1] for c in state.get(model_id, {}).get("state", {}).get("children", [])]
        parts = [state.get(c, {}) for c in children]
        # tqdm writes "DESC: NN%" into the bar's first HTML part, with U+2007 for spaces.
        left = next((p["state"].get("value", "") for p in parts if p.get("model_name") == "HTMLModel"), "")
        desc = left.replace("\u2007", " ").split(":")[0]
        bar = next((p["state"] for p in parts if p.get("model_name") == "FloatProgressModel"), {})
        found.append((desc, bar.get("value"), bar.get("max")))
    return found


print("(a) default progress with tqdm installed")
nb, build = run_notebook("with-tqdm", hide_tqdm=False)
bars = widget_descs(nb, build)
print(f"  build cell: {len(build)} outputs, mime types {sorted({m for o in build for m in o.get('data', {})})}; bars {bars}")
descs = [d for d, _, _ in bars]
check(any(o.get("data", {}).get(WIDGET) for o in build), f"the build cell has {WIDGET} output", build)
check(descs == ["embedding train", "fitting"], "one tqdm widget for `embedding train`, then one for `fitting`", bars)
check(bool(bars) and bars[0][1] is not None and bars[0][1] == bars[0][2], "the embedding bar ends full", bars)
check("knnpref:" not in stream(build, "stderr"), "no text progress lines beside the widgets", stream(build, "stderr"))
predict_bars = widget_descs(nb, nb.cells[-1].outputs)
print(f"  predict cell: bars {predict_bars}")
check([d for d, _, _ in predict_bars] == ["embedding test"], "the predict cell shows one tqdm widget, `embedding test`", predict_bars)

print("(b) default progress with tqdm hidden")
nb, build = run_notebook("without-tqdm", hide_tqdm=True)
lines = stream(build, "stderr").splitlines()
print("  build cell stderr:\n    " + "\n    ".join(lines))
check(not any(o.get("data", {}).get(WIDGET) for o in build), "no widget output", build)
for want in ("knnpref: embedding train ...", "knnpref: embedding train done ", "knnpref: fitting ...", "knnpref: fitting done in "):
    check(any(line.startswith(want) for line in lines), f"a stderr line starting {want!r}", lines)

print("(c) interrupting a build paused inside the fit")
km = KernelManager(kernel_name="python3")
km.start_kernel(cwd=WORK, env=dict(os.environ, KNNPREF_TEST_PAUSE_AT="fit-select,fit-done", KNNPREF_TEST_PAUSE_SECS="120"))
kc = km.client()
kc.start_channels()
try:
    kc.wait_for_ready(timeout=120)

    def execute(code, on_output=None, reply_timeout=300):
        """Run `code`; the reply and the text of its streams. `on_output(text)` sees them as they come."""
        msg_id = kc.execute(code)
        text, deadline = [], time.monotonic() + reply_timeout
        while True:
            try:
                msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                return None, "".join(text)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text.append(msg["content"]["text"])
                if on_output:
                    on_output("".join(text))
            elif msg["msg_type"] == "error":
                text.append(f"[error {msg['content']['ename']}]")
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return kc.get_shell_msg(timeout=30)["content"], "".join(text)

    execute(SETUP + "\nNAME = 'interrupted'")
    paused = {}

    def interrupt_at_pause(text):
        if "knnpref test pause: fit-select" in text and not paused:
            paused["at"] = time.monotonic()
            km.interrupt_kernel()

    before = sorted(os.listdir(WORK))
    reply, text = execute(BUILD, on_output=interrupt_at_pause, reply_timeout=300)
    print("  interrupted cell's streams:\n    " + text.strip().replace("\n", "\n    "))
    check(bool(paused), "the build reached the `fit-select` pause (its line came on the cell's stream)", text)
    if paused and reply is not None:
        print(f"  reply {time.monotonic() - paused['at']:.2f}s after the interrupt")
    check(reply is not None and reply.get("ename") == "KeyboardInterrupt", "the cell ended with KeyboardInterrupt", reply)
    check("knnpref test pause: fit-done" not in text, "the fit stopped before its end", text)
    check(sorted(os.listdir(WORK)) == before, "no index folder or temporary file was left", sorted(os.listdir(WORK)))
    check(km.is_alive(), "the kernel is still alive", km.is_alive())
    reply, text = execute(
        "del os.environ['KNNPREF_TEST_PAUSE_AT']\nNAME = 'after-interrupt'\n" + BUILD + "\nprint(os.listdir(index.path))"
    )
    print("  next cell's streams:\n    " + text.strip().replace("\n", "\n    "))
    check(reply is not None and reply.get("status") == "ok", "the same kernel then ran another build", reply)
    check(os.path.isfile(os.path.join(WORK, "after-interrupt", "manifest.json")), "that build wrote its index", os.listdir(WORK))

    print("(c2) interrupting a build while it embeds (all rows of the sample, no pause, tqdm hidden)")
    started = {}

    def interrupt_when_embedding(text):
        if "knnpref: embedding train ..." in text and not started:
            started["at"] = time.monotonic()
            km.interrupt_kernel()

    full = os.path.join(WORK, "interrupted-embedding")
    before = sorted(os.listdir(WORK))
    reply, text = execute(
        "sys.modules['tqdm'] = sys.modules['tqdm.auto'] = None\n"
        f"knnpref.build_index({os.path.join(SAMPLE, 'train.csv')!r}, {full!r}, seed=0, folds=3, max_tokens=32, cache=False)",
        on_output=interrupt_when_embedding,
    )
    print("  interrupted cell's streams:\n    " + text.strip().replace("\n", "\n    "))
    if started and reply is not None:
        print(f"  reply {time.monotonic() - started['at']:.2f}s after the interrupt")
    check(bool(started), "the embedding stage started (its text line came on the cell's stream)", text)
    check(reply is not None and reply.get("ename") == "KeyboardInterrupt", "the cell ended with KeyboardInterrupt", reply)
    check("embedding train done" not in text, "embedding stopped before its end", text)
    check(sorted(os.listdir(WORK)) == before, "no index folder or temporary file was left", sorted(os.listdir(WORK)))
    reply, text = execute("print(knnpref.Index.load(index.path).predict(TEST)['id'])")
    print("  next cell's streams:\n    " + text.strip().replace("\n", "\n    "))
    check(reply is not None and reply.get("status") == "ok" and "136060" in text, "the same kernel then loaded and used an index", (reply, text))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)

if failures:
    print(f"check_notebook: {len(failures)} check(s) failed:\n  " + "\n  ".join(failures), file=sys.stderr)
    sys.exit(1)
print("check_notebook: all checks passed")
PY

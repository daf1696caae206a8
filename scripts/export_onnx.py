#!/usr/bin/env python3
"""Export a sentence-transformers folder that ships only safetensors to an ONNX folder for knnpref.

    export_onnx.py SRC OUT [--texts 64] [--data train.csv] [--tolerance 1e-4] [--opset 18]

SRC is a sentence-transformers folder (modules.json, config.json, tokenizer files, model.safetensors,
1_Pooling/config.json, ...). OUT (new or empty) receives:
  model.onnx   the Transformer module only, exported by torch.onnx.export (the torch.export-based
               exporter): int64 inputs input_ids, attention_mask (and token_type_ids when both the
               architecture and the tokenizer use them), float32 output last_hidden_state
               [batch, sequence, hidden], batch and sequence dynamic, weights inside the file,
               the exporter's metadata (stack traces with local paths) stripped so that the bytes
               depend only on the weights and the pinned packages
  every other file of SRC that describes the model (tokenizer, configs, 1_Pooling/, 2_Normalize/, the
  model card), but no weights.

Then it verifies the export: SRC is encoded by sentence-transformers (PyTorch) and OUT by onnxruntime,
tokenized from OUT/tokenizer.json with the `tokenizers` library and pooled in numpy as
OUT/1_Pooling/config.json and OUT/modules.json say, as knnpref does. It checks that both tokenize the
--texts real texts alike and that the sentence vectors agree to --tolerance (max |delta|), and exits
1 otherwise. Only the Transformer, Pooling and Normalize modules are supported.

Run it in the private venv that scripts/export_env.sh creates (pinned torch, transformers,
sentence-transformers, onnx, onnxruntime 1.31.1): `scripts/export_env.sh python scripts/export_onnx.py ...`.
"""

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "arena-sample" / "train.csv"
# Weight files never copied (the graph carries the weights), and junk some uploads carry.
SKIP_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack", ".ckpt", ".onnx", ".onnx_data")
SKIP_NAMES = {"model.safetensors.index.json", "pytorch_model.bin.index.json", "desktop.ini", ".DS_Store"}
SKIP_DIRS = {"onnx", "openvino", ".git", ".cache"}


def say(msg):
    print(f"export_onnx: {msg}", file=sys.stderr, flush=True)


def die(msg):
    say(f"error: {msg}")
    sys.exit(1)


def module_kinds(folder):
    """Module kinds in modules.json order ("Transformer", "Pooling", "Normalize"), with their paths."""
    modules = json.loads((folder / "modules.json").read_text())
    # The type is e.g. sentence_transformers.models.Pooling (older) or a longer path (newer releases):
    # only its last component says what the module does.
    return [(m["type"].rsplit(".", 1)[-1], m.get("path", "")) for m in modules]


def pooling_config(folder, kinds):
    """(modes, include_prompt) from the Pooling module's config, in either format sentence-transformers reads."""
    path = next(p for k, p in kinds if k == "Pooling")
    cfg = json.loads((folder / path / "config.json").read_text())
    if "pooling_mode" in cfg:  # the newer format: one mode name or a list of them
        modes = cfg["pooling_mode"]
        modes = [modes] if isinstance(modes, str) else list(modes)
    else:  # legacy booleans; several true modes are concatenated in this fixed order, none means mean
        legacy = [("pooling_mode_cls_token", "cls"), ("pooling_mode_max_tokens", "max"),
                  ("pooling_mode_mean_tokens", "mean"), ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"),
                  ("pooling_mode_weightedmean_tokens", "weightedmean"), ("pooling_mode_lasttoken", "lasttoken")]
        modes = [mode for key, mode in legacy if cfg.get(key, False)] or ["mean"]
    return modes, cfg.get("include_prompt", True)


def pool(hidden, mask, modes, prompt_length=0):
    """Numpy twin of sentence-transformers' Pooling on right-padded batches (float64 accumulation)."""
    h = hidden.astype(np.float64)
    m = mask.astype(np.float64)
    if prompt_length:  # excluded prompt tokens leave the mask, but weightedmean keeps their positions
        m = m.copy()
        m[:, :prompt_length] = 0
    out = []
    for mode in modes:
        if mode == "cls":  # the first unmasked token (the first token unless a prompt is excluded)
            out.append(h[np.arange(len(h)), m.argmax(axis=1)])
        elif mode == "max":
            out.append(np.where(m[:, :, None] > 0, h, -np.inf).max(axis=1))
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            count = np.maximum(m.sum(axis=1, keepdims=True), 1e-9)
            total = (h * m[:, :, None]).sum(axis=1)
            out.append(total / (count if mode == "mean" else np.sqrt(count)))
        elif mode == "weightedmean":  # weights 1, 2, 3, ... by position
            w = m * np.arange(1, h.shape[1] + 1)[None, :]
            out.append((h * w[:, :, None]).sum(axis=1) / np.maximum(w.sum(axis=1, keepdims=True), 1e-9))
        elif mode == "lasttoken":  # the last unmasked token; none: a zero vector
            last = h.shape[1] - 1 - m[:, ::-1].argmax(axis=1)
            v = h[np.arange(len(h)), last] * m[np.arange(len(h)), last][:, None]
            out.append(v)
        else:
            die(f"unsupported pooling mode {mode!r}")
    return np.concatenate(out, axis=1)


def normalize(v):
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)  # torch's F.normalize


def sample_texts(path, n):
    """n real texts: every prompt and response of the file (turns joined by a blank line), distinct,
    sorted by length, taken at evenly spaced ranks so both the shortest and the longest (truncated) are in."""
    csv.field_size_limit(1 << 30)
    texts = set()
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for col in ("prompt", "response_a", "response_b"):
                turns = json.loads(row[col])
                texts.add("\n\n".join(t for t in turns if t is not None))
    texts = sorted(texts, key=lambda t: (len(t), t))
    if len(texts) < n:
        die(f"{path} has only {len(texts)} distinct texts, fewer than --texts {n}")
    return [texts[round(i * (len(texts) - 1) / max(n - 1, 1))] for i in range(n)]


def copy_side_files(src, out):
    copied = []
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if not p.is_file() or p.name in SKIP_NAMES or p.name.endswith(SKIP_SUFFIXES) or set(rel.parts[:-1]) & SKIP_DIRS:
            continue
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, out / rel)
        copied.append(str(rel))
    # A Normalize module has no files, so a folder may list 2_Normalize without shipping it; sentence-
    # transformers loads it all the same, so the exported folder keeps it as it is.
    return copied


def export(st, out_path, opset):
    import torch

    hf = st[0].auto_model.eval()
    names = ["input_ids", "attention_mask"]
    fwd = __import__("inspect").signature(hf.forward).parameters
    # token_type_ids only where the model takes them and the tokenizer makes them (BERT yes, MPNet no).
    if "token_type_ids" in fwd and "token_type_ids" in st.tokenizer.model_input_names:
        names.append("token_type_ids")

    class Encoder(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state

    # Example inputs of size > 1 on both axes (torch.export specialises dimensions of size 0 and 1),
    # with one padded row so the mask path is traced as it runs.
    feats = st.tokenizer(["an example sentence to trace the encoder with", "a short one"],
                         padding=True, return_tensors="pt")
    args = tuple(feats[n] for n in names)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    dynamic = {n: {0: batch, 1: seq} for n in names}
    with torch.no_grad():
        program = torch.onnx.export(Encoder(hf).eval(), args, dynamo=True, input_names=names,
                                    output_names=["last_hidden_state"], dynamic_shapes=dynamic,
                                    opset_version=opset, optimize=True, verbose=False)
    # One file: the weights stay inside (both MiniLM and mpnet are far below protobuf's 2 GB limit).
    program.save(str(out_path), external_data=False)
    strip_metadata(out_path)
    return names


def strip_metadata(path):
    """Drop the exporter's per-node and per-value metadata (stack traces naming this script's path and
    line and the venv's site-packages, FX node dumps, name scopes), which nothing reads at run time:
    without it the file depends only on the weights and the pinned packages, not on where the
    checkout or the venv lives, so its sha256 can be pinned. Shapes (value_info) are kept."""
    import onnx

    def graph(g):
        for coll in (g.node, g.input, g.output, g.value_info, g.initializer, g.sparse_initializer):
            for x in coll:
                del x.metadata_props[:]
        for n in g.node:
            n.doc_string = ""
            for a in n.attribute:
                if a.HasField("g"):
                    graph(a.g)
                for sub in a.graphs:
                    graph(sub)
        del g.metadata_props[:]

    model = onnx.load(str(path))
    graph(model.graph)
    for f in model.functions:
        for n in f.node:
            del n.metadata_props[:]
        del f.metadata_props[:]
    onnx.save(model, str(path))


def describe(path):
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model)

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    def dtype(v):
        return onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type).lower()

    ins = [(v.name, dtype(v), dims(v)) for v in model.graph.input]
    outs = [(v.name, dtype(v), dims(v)) for v in model.graph.output]
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    return ins, outs, opset


def verify(st, out, texts, tolerance):
    import onnxruntime as ort
    from tokenizers import Tokenizer

    kinds = module_kinds(out)
    modes, _ = pooling_config(out, kinds)
    normalized = any(k == "Normalize" for k, _ in kinds)
    max_len = st.max_seq_length

    t0 = time.time()
    st.default_prompt_name = None  # the check compares the modules, not a folder's default prompt
    reference = st.encode(texts, batch_size=16, convert_to_numpy=True, normalize_embeddings=False)
    t_torch = time.time() - t0

    # Tokenize as knnpref does: from tokenizer.json alone, truncated at max_seq_length and padded to the
    # longest of each batch (tokenizer.json's own truncation/padding sections are overridden; the mpnet
    # one says 128 fixed).
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    tok.enable_truncation(max_len)
    pad_id = st.tokenizer.pad_token_id
    tok.enable_padding(pad_id=pad_id, pad_token=st.tokenizer.pad_token)
    differ = 0
    for text in texts:
        ours = tok.encode(text).ids
        theirs = st.tokenizer(text, truncation=True, max_length=max_len)["input_ids"]
        differ += ours != theirs
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    t0 = time.time()
    # Each batch spans short and long texts (every nb-th one), so most rows are padded: the check
    # covers the mask, which sentence-transformers' length-sorted batches hardly exercise.
    nb = -(-len(texts) // 16)
    order = [i for j in range(nb) for i in range(j, len(texts), nb)]
    got = np.zeros_like(reference, dtype=np.float64)
    for start in range(0, len(order), 16):
        rows = order[start : start + 16]
        enc = tok.encode_batch([texts[i] for i in rows])
        feed = {
            "input_ids": np.array([e.ids for e in enc], np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], np.int64),
        }
        (hidden,) = session.run(["last_hidden_state"], {n: feed[n] for n in names})
        got[rows] = pool(hidden, feed["attention_mask"], modes)
    if normalized:
        got = normalize(got)
    t_onnx = time.time() - t0
    delta = float(np.abs(got - reference.astype(np.float64)).max())
    lengths = [len(tok.encode(t).ids) for t in texts]
    print(f"verify: {len(texts)} texts ({min(lengths)}..{max(lengths)} tokens, {sum(n == max_len for n in lengths)} "
          f"truncated at {max_len}); pooling {'+'.join(modes)}{' + normalize' if normalized else ''}; "
          f"torch {t_torch:.1f}s, onnxruntime {ort.__version__} {t_onnx:.1f}s")
    print(f"verify: token ids differ for {differ} of {len(texts)} texts (tokenizer.json vs sentence-transformers)")
    print(f"verify: max |delta| = {delta:.3e} (tolerance {tolerance:g})")
    ok = differ == 0 and delta <= tolerance and np.isfinite(got).all()
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--texts", type=int, default=64)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--opset", type=int, default=18)  # torch's ONNX function library is written at 18
    a = ap.parse_args()

    if not (a.src / "modules.json").is_file():
        die(f"{a.src} is not a sentence-transformers folder (no modules.json)")
    kinds = module_kinds(a.src)
    unsupported = [k for k, _ in kinds if k not in ("Transformer", "Pooling", "Normalize")]
    if unsupported or kinds[0][0] != "Transformer" or not any(k == "Pooling" for k, _ in kinds):
        die(f"{a.src}/modules.json lists {[k for k, _ in kinds]}; only Transformer, Pooling[, Normalize] is supported")
    if kinds[0][1] not in ("", "."):
        die(f"the Transformer module lives in {kinds[0][1]!r}; only a Transformer at the folder's top is supported")
    if a.out.exists() and any(a.out.iterdir()):
        die(f"{a.out} exists and is not empty; delete it first")
    texts = sample_texts(a.data, a.texts)  # before the slow part, so a missing file fails fast

    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    t0 = time.time()
    st = SentenceTransformer(str(a.src), device="cpu")
    st.eval()
    a.out.mkdir(parents=True, exist_ok=True)
    names = export(st, a.out / "model.onnx", a.opset)
    copied = copy_side_files(a.src, a.out)
    ins, outs, opset = describe(a.out / "model.onnx")
    say(f"exported {a.out / 'model.onnx'} in {time.time() - t0:.1f}s (opset {opset}); copied {', '.join(copied)}")
    for kind, vals in (("input", ins), ("output", outs)):
        for name, dtype, dims in vals:
            print(f"onnx {kind}: {name} {dtype} {dims}")
    if [n for n, _, _ in ins] != names or [n for n, _, _ in outs] != ["last_hidden_state"]:
        die(f"unexpected graph signature {ins} -> {outs}")
    if not verify(st, a.out, texts, a.tolerance):
        die(f"verification failed; {a.out} is not usable")
    say("verified")


if __name__ == "__main__":
    main()

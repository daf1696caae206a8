"""knnpref.embed and vectors= against the CLI: vectors computed in Python (by
knnpref.embed, or by hand as a sentence-transformers user would write them)
give the same predictions as the model run inside knnpref."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import knnpref

SAMPLE = Path(os.environ["KNNPREF_SAMPLE"])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("vectors")
    full = pd.read_csv(SAMPLE / "train.csv")
    full.head(150).to_csv(d / "train.csv", index=False)
    full.iloc[150:180][["id", "prompt", "response_a", "response_b"]].to_csv(d / "test.csv", index=False)
    return d


def test_embed_returns_the_vectors_and_their_producer(files):
    table = knnpref.embed(str(files / "test.csv"), static=True, progress=False)
    assert table.column_names == ["id", "prompt", "response_a", "response_b"]
    assert table.num_rows == 30
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta["knnpref.producer"].startswith("all-MiniLM-L6-v2-static@")
    assert meta["knnpref.dim"] == "256"
    prompt = np.asarray(table.column("prompt").to_pylist(), dtype=np.float32)
    assert prompt.shape == (30, 256)
    assert np.allclose(np.linalg.norm(prompt, axis=1), 1.0, atol=1e-5)


def test_vectors_from_python_predict_as_the_model_does(files, tmp_path):
    in_process = knnpref.build_index(str(files / "train.csv"), tmp_path / "model", static=True, progress=False)
    expected = in_process.predict(str(files / "test.csv"))

    train = knnpref.embed(str(files / "train.csv"), static=True, progress=False)
    test = knnpref.embed(str(files / "test.csv"), static=True, progress=False)
    by_table = knnpref.build_index(str(files / "train.csv"), tmp_path / "vec", vectors=train, progress=False)
    assert by_table.manifest["source"]["kind"] == "vectors"
    got = by_table.predict(str(files / "test.csv"), vectors=test)
    cols = ["winner_model_a", "winner_model_b", "winner_tie"]
    assert (got["id"] == expected["id"]).all()
    assert np.abs(got[cols].to_numpy() - expected[cols].to_numpy()).max() <= 1e-6

    # As a sentence-transformers user would hand them over: numpy arrays and a producer name.
    def arrays(t):
        return {
            "id": t.column("id").to_pylist(),
            **{c: np.asarray(t.column(c).to_pylist(), dtype=np.float32) for c in ["prompt", "response_a", "response_b"]},
        }

    producer = {k.decode(): v.decode() for k, v in train.schema.metadata.items()}["knnpref.producer"]
    frame = pd.DataFrame({"id": train.column("id").to_pylist()})
    for c in ["prompt", "response_a", "response_b"]:
        frame[c] = list(np.asarray(train.column(c).to_pylist(), dtype=np.float64))
    frame.attrs["knnpref.producer"] = producer
    by_frame = knnpref.build_index(str(files / "train.csv"), tmp_path / "frame", vectors=frame, progress=False)
    got = by_frame.predict(str(files / "test.csv"), vectors=dict(arrays(test), producer=producer))
    assert np.abs(got[cols].to_numpy() - expected[cols].to_numpy()).max() <= 1e-6
    # And as a Parquet file written by pyarrow, the way a cluster job writes its parts.
    path = tmp_path / "parts"
    path.mkdir()
    pq.write_table(test.slice(0, 10), path / "part-0.parquet")
    pq.write_table(test.slice(10), path / "part-1.parquet")
    got = by_frame.predict(str(files / "test.csv"), vectors=str(path))
    assert np.abs(got[cols].to_numpy() - expected[cols].to_numpy()).max() <= 1e-6


def test_vectors_are_checked(files, tmp_path):
    train = knnpref.embed(str(files / "train.csv"), static=True, progress=False)
    index = knnpref.build_index(str(files / "train.csv"), tmp_path / "vec", vectors=train, progress=False)
    test = knnpref.embed(str(files / "test.csv"), static=True, progress=False, producer="someone-else")
    with pytest.raises(knnpref.IndexRefused, match="someone-else"):
        index.predict(str(files / "test.csv"), vectors=test)
    with pytest.raises(knnpref.IndexRefused, match="pass --vectors"):
        index.predict(str(files / "test.csv"))
    short = train.slice(0, 100)
    with pytest.raises(knnpref.DataError, match="has no vectors for battle"):
        knnpref.build_index(str(files / "train.csv"), tmp_path / "short", vectors=short, progress=False)

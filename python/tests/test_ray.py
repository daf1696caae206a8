"""knnpref.ray in Ray's local mode (two CPUs, two actors): vectors embedded across actors equal
a single-process `knnpref embed` bit for bit, an index built from them predicts the same
submission, and scoring across actors equals a single-process predict."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray

import knnpref
import knnpref.ray

SAMPLE = Path(os.environ["KNNPREF_SAMPLE"])
BIN = os.environ["KNNPREF_BIN"]
BATTLE = ["id", "prompt", "response_a", "response_b"]


def cli(*args):
    subprocess.run([BIN, "-q", *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    d = tmp_path_factory.mktemp("ray")
    full = pd.read_csv(SAMPLE / "train.csv", dtype=str, keep_default_na=False)
    full.head(200).to_csv(d / "train.csv", index=False)
    full.iloc[200:260].to_csv(d / "test.csv", index=False)
    return d


def blocks(df, n=4):
    """Four blocks, so that both actors get work (a repartition would need a CPU the actors hold)."""
    step = -(-len(df) // n)
    return [df.iloc[i : i + step] for i in range(0, len(df), step)]


def vectors_by_id(path):
    t = pq.read_table(path) if Path(path).is_file() else pa.concat_tables(
        [pq.read_table(p) for p in sorted(Path(path).glob("*.parquet"))]
    )
    ids = t.column("id").to_pylist()
    return {c: dict(zip(ids, np.asarray(t.column(c).to_pylist(), dtype=np.float32))) for c in BATTLE[1:]}, t.schema


def test_vectors_embedded_on_two_actors_equal_knnpref_embed_bit_for_bit(local_ray, rows, tmp_path):
    flags = ["--transformer", "--max-tokens", "64", "--no-cache"]
    for part in ["train", "test"]:
        df = pd.read_csv(rows / f"{part}.csv", dtype=str, keep_default_na=False)
        ds = ray.data.from_pandas(blocks(df))
        got = knnpref.ray.embed_dataset(
            ds, tmp_path / f"{part}-ray", transformer=True, max_tokens=64, concurrency=2, batch_size=40
        )
        assert got["rows"] == len(df) and len(got["parts"]) >= 2, got
        with pytest.raises(FileExistsError, match="already holds Parquet parts"):
            knnpref.ray.embed_dataset(ds, tmp_path / f"{part}-ray", static=True)
        cli("embed", "--in", rows / f"{part}.csv", "--out", tmp_path / f"{part}.parquet", *flags)
        ray_vectors, ray_schema = vectors_by_id(tmp_path / f"{part}-ray")
        one_vectors, one_schema = vectors_by_id(tmp_path / f"{part}.parquet")
        assert ray_schema.metadata[b"knnpref.producer"] == one_schema.metadata[b"knnpref.producer"]
        for c in BATTLE[1:]:
            assert ray_vectors[c].keys() == one_vectors[c].keys()
            for i, v in one_vectors[c].items():
                assert ray_vectors[c][i].tobytes() == v.tobytes(), (part, c, i)
    # An index of the parts predicts what an index of the single file does, byte for byte.
    for name, train_vectors in [("ray", tmp_path / "train-ray"), ("one", tmp_path / "train.parquet")]:
        cli("index", "--train", rows / "train.csv", "--vectors", train_vectors, "--out", tmp_path / f"idx-{name}")
        cli("predict", "--index", tmp_path / f"idx-{name}", "--test", rows / "test.csv",
            "--vectors", tmp_path / "test.parquet", "--out", tmp_path / f"sub-{name}.csv")
    assert (tmp_path / "sub-ray.csv").read_bytes() == (tmp_path / "sub-one.csv").read_bytes()


def test_scoring_on_two_actors_equals_a_single_predict(local_ray, rows, tmp_path):
    cli("index", "--static", "--train", rows / "train.csv", "--out", tmp_path / "idx")
    test = pd.read_csv(rows / "test.csv", dtype=str, keep_default_na=False)[BATTLE]
    ds = ray.data.from_pandas(blocks(test))
    scored = knnpref.ray.predict_dataset(ds, tmp_path / "idx", concurrency=2, batch_size=15)
    got = scored.to_pandas()
    # Ray hands columns back with pyarrow dtypes: the same values as plain numpy ones.
    got = got.astype({"id": object, "winner_model_a": float, "winner_model_b": float, "winner_tie": float})
    got = got.set_index("id").sort_index()
    assert len(got) == len(test)
    want = knnpref.Index.load(tmp_path / "idx", progress=False).predict(test).set_index("id").sort_index()
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_a_held_predictor_refuses_what_predict_refuses(rows, tmp_path):
    with pytest.raises(knnpref.IndexRefused):
        knnpref.Predictor(tmp_path / "no-index", 10)


def test_a_held_embedder_refuses_an_unknown_device():
    with pytest.raises(ValueError, match="device"):
        knnpref.Embedder(static=True, device="tpu")

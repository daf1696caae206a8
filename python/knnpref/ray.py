"""knnpref on Ray Data: embed battles, and score them with an index, across a cluster.

Embedding is the stage that outgrows one machine (the transformer embeds about 4k tokens/s per
core, so a million battles is days on one small machine); scoring many candidate pairs spreads as
naturally. Both run as ``map_batches`` over a pool of actors, each holding one knnpref model (or
one index with its model), loaded once:

    import ray, knnpref.ray
    ray.init()
    ds = ray.data.read_parquet("s3://bucket/battles/")         # id, prompt, response_a, response_b
    knnpref.ray.embed_dataset(ds, "/shared/vectors", transformer=True, concurrency=8, num_gpus=1)
    # then, on any machine:  knnpref index --train train.csv --vectors /shared/vectors --out idx
    scores = knnpref.ray.predict_dataset(ds, "/shared/idx", concurrency=8)
    scores.write_csv("/shared/scores")

The model folder (``$KNNPREF_HOME`` or ``model=``), the index and the output folder must be at
the same path on every worker (a shared file system, or the same provisioning on each node).
Ray itself is not a dependency of knnpref: ``pip install 'ray[data]'`` (tested with 2.60.0).
"""

import hashlib
import inspect
import os
import uuid
from typing import Any, Dict, Optional

from . import Embedder, Predictor

BATTLE_COLUMNS = ["id", "prompt", "response_a", "response_b"]


def _battles(batch: Any) -> Any:
    """The batch's battle columns, with ids as strings (as a CSV gives them)."""
    import pyarrow as pa

    columns = {c: batch.column(c) for c in BATTLE_COLUMNS}
    columns["id"] = columns["id"].cast(pa.string())
    return pa.table(columns)


def _worker_options(cls: Any, given: Dict[str, Any], num_cpus: float, num_gpus: float, *args: Any) -> Dict[str, Any]:
    """The options each actor opens ``cls`` with: the caller's, checked here on the driver (an
    unknown one raises ``TypeError`` now, not in every actor), with the actor's threads, the GPU
    when it has one, and no embedding cache (workers share no disk) unless asked."""
    options = {"device": "cuda" if num_gpus else "cpu", "threads": max(1, int(num_cpus)), "cache": False, **given}
    if options.get("model") is not None:
        options["model"] = os.fspath(options["model"])
    inspect.signature(cls).bind(*args, **options)
    return options


class _EmbedActor:
    """One knnpref embedder; each batch becomes one Parquet part of ``out``."""

    def __init__(self, out: str, options: Dict[str, Any]) -> None:
        self.out = out
        self.embedder = Embedder(**options)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = self.embedder.embed(_battles(batch))
        ids = table.column("id").to_pylist()
        # Named by the battles it holds: a retried batch rewrites the same part, never adds one.
        name = "part-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16] + ".parquet"
        tmp = os.path.join(self.out, f".{name}.{uuid.uuid4().hex}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, os.path.join(self.out, name))  # a part is whole or absent
        return pa.table({"part": [name], "rows": [len(ids)]})


def embed_dataset(
    ds: Any,
    out: Any,
    *,
    concurrency: int = 2,
    batch_size: int = 512,
    num_cpus: float = 1,
    num_gpus: float = 0,
    **model: Any,
) -> Dict[str, Any]:
    """Embed a Ray Dataset of battles (columns id, prompt, response_a, response_b, as in a Kaggle
    file) into Parquet parts under the folder ``out``, which ``knnpref index --vectors out`` and
    ``predict --vectors out`` read. The vectors are those of ``knnpref embed`` with the same model
    options, bit for bit. ``model`` takes the options of :class:`knnpref.Embedder` (``model``,
    ``static``, ``quantized``, ``transformer``, ``max_tokens``, ``producer``, ``device``,
    ``cache``). ``concurrency`` actors each hold one model, with ``num_cpus`` threads (and
    ``num_gpus`` GPUs, which make ``device`` default to ``"cuda"``: pass ``transformer=True`` or a
    model folder, since a static table runs on the CPU only).
    ``out`` must hold no Parquet parts yet. Returns ``{"out", "parts", "rows"}``.
    """
    out = os.path.abspath(os.fspath(out))
    os.makedirs(out, exist_ok=True)
    if any(n.endswith(".parquet") for n in os.listdir(out)):
        # Parts of another run (other batches, data or model) would be read with these.
        raise FileExistsError(f"{out} already holds Parquet parts; embed into an empty folder")
    options = _worker_options(Embedder, model, num_cpus, num_gpus)
    written = ds.map_batches(
        _EmbedActor,
        fn_constructor_kwargs={"out": out, "options": options},
        batch_size=batch_size,
        batch_format="pyarrow",
        concurrency=concurrency,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
    ).take_all()
    return {"out": out, "parts": sorted({w["part"] for w in written}), "rows": sum(w["rows"] for w in written)}


class _PredictActor:
    """One index with its model, loaded once."""

    def __init__(self, index: str, queries: int, options: Dict[str, Any]) -> None:
        self.predictor = Predictor(index, queries, **options)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        return pa.table(self.predictor.predict(_battles(batch)))


def predict_dataset(
    ds: Any,
    index: Any,
    *,
    concurrency: int = 2,
    batch_size: int = 1024,
    num_cpus: float = 1,
    num_gpus: float = 0,
    queries: Optional[int] = None,
    **model: Any,
) -> Any:
    """Score a Ray Dataset of battles with an index folder: a Dataset of id, winner_model_a,
    winner_model_b, winner_tie (lazy; write it with ``write_csv`` or collect it), with the
    numbers one ``knnpref predict`` over the same battles gives. Every actor loads ``index`` once,
    so it must be at that path on every worker. The neighbour search is chosen for the whole
    dataset's count (``queries``; by default ``ds.count()``, which runs the pipeline above once
    more), as a single ``predict`` would choose it. The index must have been built from a model
    (a vectors index needs each battle's vectors: use ``knnpref predict --vectors``). ``model``
    takes the options of :class:`knnpref.Predictor` (``model``, ``device``, ``cache``).
    """
    index = os.path.abspath(os.fspath(index))
    queries = ds.count() if queries is None else queries
    options = _worker_options(Predictor, model, num_cpus, num_gpus, index, queries)
    return ds.map_batches(
        _PredictActor,
        fn_constructor_kwargs={
            "index": index,
            "queries": queries,
            "options": options,
        },
        batch_size=batch_size,
        batch_format="pyarrow",
        concurrency=concurrency,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
    )

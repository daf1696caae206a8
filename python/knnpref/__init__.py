"""knnpref: predict which of two chatbot answers a person prefers.

The same library as the ``knnpref`` command line, called in-process:

>>> import knnpref
>>> index = knnpref.build_index("train.csv", "indexes/arena", seed=0)
>>> sub = index.predict("test.csv")            # pandas DataFrame, input order
>>> index.predict("test.csv", out="submission.csv")  # also writes the CLI's file

Inputs are paths (CSV or Parquet with the Kaggle columns) or in-memory tables
(a pandas DataFrame or a pyarrow Table); tables are written to a temporary
Parquet file with pyarrow and read by the library's own reader, so every
check and message is the CLI's. Models, runtime and the embedding cache are
found in ``$KNNPREF_HOME`` (default ``~/.cache/knnpref``), as for the CLI.

Long calls release the GIL; Ctrl-C (or a notebook's stop button) cancels
them with ``KeyboardInterrupt`` (embedding, neighbour look-ups, the head's
fits and evaluation folds stop at their next check) and leaves no partial
file or index folder behind.

Progress: every long call takes ``progress=``. ``True`` (the default) shows
a ``tqdm.auto`` bar per stage when tqdm is installed (a widget in Jupyter),
else a few one-line updates on ``sys.stderr`` (at most one every 10 s per
stage, plus its start and end). ``False`` shows nothing. A callable is called
as ``progress(stage, position, total, finished)`` on the calling thread, at
most about 5 times a second per stage plus each stage's first and last call:
``stage`` is e.g. ``"embedding train"`` (position in tokens), ``"fitting"``
(no total) or ``"evaluating"`` (in model fits); ``total`` is ``None`` when the
stage has no count; ``finished`` is true on the last call of a stage that
completed (a cancelled or failed stage gets none). An exception raised by
the callable is reported once through ``sys.unraisablehook`` and the callable
is not called again during that call, which carries on; a
``KeyboardInterrupt`` raised in it cancels the call like Ctrl-C.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, Union

from . import _native
from ._native import DataError, IndexRefused
from ._progress import _default_progress, _TextLines, _TqdmBars

__all__ = [
    "DataError",
    "Embedder",
    "Index",
    "IndexRefused",
    "Predictor",
    "build_index",
    "embed",
    "evaluate",
    "__version__",
]
__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]
ProgressCallback = Callable[[str, int, Optional[int], bool], Any]
Progress = Union[bool, ProgressCallback]
SUBMISSION_COLUMNS = ("id", "winner_model_a", "winner_model_b", "winner_tie")


@contextmanager
def _call(embed: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    """The options of one native call, with ``progress`` turned into a callable or None."""
    setting = embed["progress"]
    callback = None if setting is False else _default_progress() if setting is True else setting
    try:
        yield dict(embed, progress=callback)
    finally:
        if isinstance(callback, (_TextLines, _TqdmBars)):
            callback.close()  # bars of a stage that did not finish (an error, Ctrl-C)


def _embed(
    model: Optional[PathLike] = None,
    quantized: bool = False,
    static: bool = False,
    max_tokens: Optional[int] = None,
    threads: Optional[int] = None,
    cache: bool = True,
    progress: Progress = True,
    transformer: bool = False,
    device: str = "cpu",
) -> Dict[str, Any]:
    if not isinstance(progress, bool) and not callable(progress):
        raise TypeError(f"progress: expected True, False or a callable, got {type(progress).__name__}")
    return {
        "model": None if model is None else os.fspath(model),
        "quantized": quantized,
        "static_model": static,
        "transformer": transformer,
        "vectors": None,
        "max_tokens": max_tokens,
        "device": device,
        "threads": threads,
        "use_cache": cache,
        "progress": progress,
    }


@contextmanager
def _as_path(data: Any, name: str) -> Iterator[str]:
    """A path for ``data``: itself if it is one, else a temporary Parquet file."""
    if isinstance(data, (str, os.PathLike)):
        yield os.fspath(data)
        return
    is_frame = hasattr(data, "to_records") and hasattr(data, "columns")  # pandas.DataFrame
    is_table = type(data).__module__.split(".")[0] == "pyarrow"
    if not (is_frame or is_table):
        raise TypeError(f"{name}: expected a path, a pandas DataFrame or a pyarrow Table, got {type(data).__name__}")
    pa = _pyarrow(f"{name}: a {type(data).__name__} is passed to knnpref through pyarrow", ", or pass a file path")
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    with tempfile.TemporaryDirectory(prefix="knnpref-") as tmp:
        path = os.path.join(tmp, f"{name}.parquet")
        pa.parquet.write_table(table, path)
        yield path


PRODUCER_KEY = "knnpref.producer"
VECTOR_COLUMNS = ("prompt", "response_a", "response_b")


def _pyarrow(lead: str, alternative: str = "") -> Any:
    """pyarrow (with pyarrow.parquet loaded), or an ImportError that says what to install."""
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"{lead}, which is not installed; run `pip install 'knnpref[pandas]'` (or `pip install pyarrow`)"
            + alternative,
            name="pyarrow",
        ) from e
    return pa


@contextmanager
def _vectors_path(vectors: Any, producer: Optional[str] = None) -> Iterator[Optional[str]]:
    """A path for ``vectors``: None, a path as it is, else a temporary Parquet file.

    A pyarrow Table is written as it is (its schema metadata names the producer);
    a pandas DataFrame takes the producer from ``df.attrs["knnpref.producer"]``,
    a dict of columns (``id`` and three 2-D numpy arrays or lists of vectors)
    from its ``"producer"`` entry.
    """
    if vectors is None or isinstance(vectors, (str, os.PathLike)):
        yield None if vectors is None else os.fspath(vectors)
        return
    pa = _pyarrow("vectors given as a table go through pyarrow")
    if isinstance(vectors, pa.Table):
        table = vectors
    elif hasattr(vectors, "to_records") and hasattr(vectors, "columns"):  # pandas.DataFrame
        producer = producer or getattr(vectors, "attrs", {}).get(PRODUCER_KEY)
        table = pa.table({c: _column(pa, vectors[c]) for c in ("id",) + VECTOR_COLUMNS})
    elif isinstance(vectors, dict):
        producer = producer or vectors.get("producer")
        table = pa.table({c: _column(pa, vectors[c]) for c in ("id",) + VECTOR_COLUMNS})
    else:
        raise TypeError(
            f"vectors: expected a path, a pyarrow Table, a pandas DataFrame or a dict of columns, "
            f"got {type(vectors).__name__}"
        )
    if producer is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), PRODUCER_KEY: producer})
    with tempfile.TemporaryDirectory(prefix="knnpref-") as tmp:
        path = os.path.join(tmp, "vectors.parquet")
        pa.parquet.write_table(table, path)
        yield path


def _column(pa: Any, values: Any) -> Any:
    """A pyarrow column: ids as strings, a 2-D array as fixed-size float32 lists."""
    shape = getattr(values, "shape", None)
    if shape is not None and len(shape) == 2:
        import numpy as np

        flat = pa.array(np.ascontiguousarray(values, dtype=np.float32).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, shape[1])
    values = list(values)
    if values and isinstance(values[0], (str, int)):
        return pa.array([str(v) for v in values])
    return pa.array([None if v is None else [float(x) for x in v] for v in values], type=pa.list_(pa.float32()))


def embed(
    data: Any,
    model: Optional[PathLike] = None,
    static: bool = False,
    *,
    quantized: bool = False,
    transformer: bool = False,
    max_tokens: Optional[int] = None,
    producer: Optional[str] = None,
    threads: Optional[int] = None,
    cache: bool = True,
    progress: Progress = True,
) -> Any:
    """The vectors of every battle of ``data``, like ``knnpref embed``.

    Returns a pyarrow Table with columns id, prompt, response_a, response_b
    (fixed-size float32 lists, unit length) whose schema metadata names the
    producer (``knnpref.producer``: the model's identity, or ``producer``) and
    the dimension (``knnpref.dim``); ``.to_pandas()`` gives a DataFrame. Pass
    it (or a path it was written to with ``pyarrow.parquet.write_table``) as
    ``vectors=`` to :func:`build_index`, :meth:`Index.predict` or :func:`evaluate`.
    """
    pa = _pyarrow("knnpref.embed returns a pyarrow Table, and pyarrow")
    options = _embed(model, quantized, static, max_tokens, threads, cache, progress, transformer)
    with _as_path(data, "data") as path, _call(options) as call:
        raw, _summary = _native.embed_vectors(path, producer, call)
    return pa.parquet.read_table(pa.BufferReader(raw))


def _table(columns: Dict[str, list]) -> Any:
    """A pandas DataFrame, else a pyarrow Table, else the dict of columns."""
    try:
        import pandas as pd

        return pd.DataFrame(columns)
    except ImportError:
        pass
    try:
        import pyarrow as pa

        return pa.table(columns)
    except ImportError:
        return columns


class Index:
    """An index folder built by :func:`build_index` or ``knnpref index``.

    Loading checks the manifest and that the model it names is provisioned
    (raising :class:`IndexRefused` otherwise); the files themselves are
    verified by sha256 each time :meth:`predict` or :meth:`similar` loads them.
    """

    def __init__(self, path: PathLike, manifest: Dict[str, Any], embed: Dict[str, Any]) -> None:
        self.path: str = os.fspath(path)
        self.manifest: Dict[str, Any] = manifest
        self._embed = embed

    @classmethod
    def load(
        cls,
        path: PathLike,
        *,
        model: Optional[PathLike] = None,
        threads: Optional[int] = None,
        cache: bool = True,
        progress: Progress = True,
    ) -> "Index":
        """Open the index folder ``path`` (``model``: where its model lives, if not in $KNNPREF_HOME).

        ``progress`` (see the module's help) applies to this index's
        :meth:`predict` and :meth:`similar` calls.
        """
        embed = _embed(model=model, threads=threads, cache=cache, progress=progress)
        with _call(embed) as options:
            manifest = json.loads(_native.manifest(os.fspath(path), options))
        return cls(path, manifest, embed)

    def predict(self, test: Any, out: Optional[PathLike] = None, vectors: Any = None) -> Any:
        """Predict ``test`` (path, DataFrame or Table with id, prompt, response_a, response_b).

        Returns the submission columns (id, winner_model_a, winner_model_b,
        winner_tie) in input order, as a pandas DataFrame (a pyarrow Table when
        pandas is absent); ids are strings, probabilities are clipped into
        (0, 1) and sum to 1. With ``out``, also writes the submission CSV there
        exactly as ``knnpref predict --out`` does (atomically; checked for
        writability before any work). ``df.to_csv(path, index=False,
        float_format="%.9f")`` gives the same bytes. ``vectors`` (a path, a
        pyarrow Table, a DataFrame or a dict of arrays, as :func:`embed` returns)
        gives the test battles' vectors instead of running the model; an index
        built from vectors needs them, from the same producer.
        """
        with _as_path(test, "test") as path, _vectors_path(vectors) as vpath, _call(self._embed) as options:
            if vpath is not None:
                options = dict(options, vectors=vpath, model=None)
            ids, a, b, tie, _summary = _native.predict(
                self.path, path, None if out is None else os.fspath(out), options
            )
        return _table(dict(zip(SUBMISSION_COLUMNS, (ids, a, b, tie))))

    def similar(self, text: Optional[str] = None, id: Optional[str] = None, k: int = 5) -> Any:
        """The ``k`` training battles whose prompts are nearest to ``text`` or to training battle ``id``.

        Columns: rank, id, similarity, vote, prompt_start, response_a_start,
        response_a_chars, response_b_start, response_b_chars (as ``knnpref similar --json``'s hits).
        """
        with _call(self._embed) as options:
            result = json.loads(_native.similar(self.path, text, None if id is None else str(id), k, options))
        hits = result["hits"]
        keys = list(hits[0].keys()) if hits else ["rank", "id", "similarity", "vote"]
        return _table({key: [h[key] for h in hits] for key in keys})

    def __repr__(self) -> str:
        source = self.manifest.get("source", {})
        made_by = source.get("model", {}).get("id") if source.get("kind") == "model" else source.get("producer")
        return f"Index({self.path!r}, rows={self.manifest.get('rows')}, source={made_by!r})"


def build_index(
    train: Any,
    out: PathLike,
    seed: int = 0,
    folds: int = 5,
    model: Optional[PathLike] = None,
    max_tokens: Optional[int] = None,
    *,
    neighbours: int = 20,
    quantized: bool = False,
    static: bool = False,
    transformer: bool = False,
    vectors: Any = None,
    base: Optional[PathLike] = None,
    skip_existing: bool = False,
    threads: Optional[int] = None,
    cache: bool = True,
    progress: Progress = True,
) -> Index:
    """Build an index folder ``out`` from labelled battles, like ``knnpref index``.

    ``train`` is a CSV or Parquet path, or a pandas DataFrame / pyarrow Table
    with id, prompt, response_a, response_b, winner_model_a, winner_model_b,
    winner_tie. ``model`` is a model folder (default: the provisioned
    all-MiniLM-L6-v2), ``quantized``/``static`` pick the provisioned int8 or
    static model (``transformer`` the provisioned fp32 transformer), ``vectors``
    gives the battles' vectors instead of a model (a path, a pyarrow Table, a
    DataFrame or a dict of arrays, as :func:`embed` returns), ``max_tokens``
    defaults to the model's own. ``base`` grows an index folder (``index
    --base``): its battles come first with their stored vectors, only
    ``train`` is embedded, and ``skip_existing`` leaves out battles the base
    already holds instead of refusing them. Raises
    :class:`DataError` for bad input (the CLI's message). The summary that the
    CLI prints is in ``index.summary``.

    ``progress``: ``True`` (tqdm bars, or lines on stderr without tqdm),
    ``False``, or ``callable(stage, position, total, finished)``; stages
    ``"embedding train"`` and ``"fitting"`` (see the module's help). Ctrl-C
    raises ``KeyboardInterrupt`` within moments, also while fitting, and
    ``out`` is left as it was.
    """
    embed = _embed(model, quantized, static, max_tokens, threads, cache, progress, transformer)
    with _as_path(train, "train") as path, _vectors_path(vectors) as vpath, _call(embed) as options:
        options = dict(options, vectors=vpath)
        base_path = None if base is None else os.fspath(base)
        summary = json.loads(
            _native.build_index(path, os.fspath(out), seed, folds, neighbours, options, base_path, skip_existing)
        )
    # Just written and checked by the library: read its manifest without re-checking the model.
    with open(os.path.join(os.fspath(out), "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    index = Index(out, manifest, _embed(model=model, threads=threads, cache=cache, progress=progress))
    index.summary = summary  # type: ignore[attr-defined]
    return index


def evaluate(
    train: Any,
    folds: int = 5,
    seed: int = 0,
    repeats: int = 1,
    oof: Optional[PathLike] = None,
    report: Optional[PathLike] = None,
    *,
    learning_curve: bool = False,
    neighbours: int = 20,
    model: Optional[PathLike] = None,
    quantized: bool = False,
    static: bool = False,
    transformer: bool = False,
    vectors: Any = None,
    max_tokens: Optional[int] = None,
    threads: Optional[int] = None,
    cache: bool = True,
    progress: Progress = True,
) -> Dict[str, Any]:
    """Nested cross-validation of knnpref and its baselines, like ``knnpref evaluate``.

    Returns the content of ``metrics.json`` as a dict. ``oof`` writes the
    out-of-fold predictions, ``report`` a folder with metrics.json and report.html.
    ``progress`` as for :func:`build_index`; stages ``"embedding train"`` and
    ``"evaluating"`` (position: model fits done of ``total``).
    """
    embed = _embed(model, quantized, static, max_tokens, threads, cache, progress, transformer)
    with _as_path(train, "train") as path, _vectors_path(vectors) as vpath, _call(embed) as options:
        options = dict(options, vectors=vpath)
        text = _native.evaluate(
            path,
            folds,
            seed,
            repeats,
            None if oof is None else os.fspath(oof),
            None if report is None else os.fspath(report),
            learning_curve,
            neighbours,
            options,
        )
    return json.loads(text)


from ._held import Embedder, Predictor  # noqa: E402  (they use the helpers above)

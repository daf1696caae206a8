"""A model, or an index with its model, held open across calls: what each worker of a
cluster job holds (:mod:`knnpref.ray`), and what a notebook scoring many batches wants."""

import json
import os
from typing import Any, Dict, Optional

from . import _native


class Embedder:
    """A knnpref model loaded once; :meth:`embed` gives the same vectors as :func:`knnpref.embed`.

    The options are those of :func:`knnpref.embed` (``model``, ``static``, ``quantized``,
    ``transformer``, ``max_tokens``, ``producer``, ``threads``, ``cache``) and ``device``
    (``"cpu"``, ``"cuda"`` or ``"auto"``, as the CLI's ``--device``); there is no progress display
    (a worker has no terminal).
    """

    def __init__(
        self,
        model: Optional[Any] = None,
        static: bool = False,
        *,
        quantized: bool = False,
        transformer: bool = False,
        max_tokens: Optional[int] = None,
        producer: Optional[str] = None,
        device: str = "cpu",
        threads: Optional[int] = None,
        cache: bool = True,
    ) -> None:
        from . import _call, _embed

        options = _embed(model, quantized, static, max_tokens, threads, cache, False, transformer, device)
        with _call(options) as call:
            self._native = _native.Embedder(producer, call)

    def embed(self, data: Any) -> Any:
        """The vectors of ``data`` (a path, a pandas DataFrame or a pyarrow Table of battles) as a
        pyarrow Table with the producer and dimension in its schema metadata."""
        from . import _as_path, _pyarrow

        pa = _pyarrow("Embedder.embed returns a pyarrow Table, and pyarrow")
        with _as_path(data, "data") as path:
            raw, _summary = self._native.vectors(path)
        return pa.parquet.read_table(pa.BufferReader(raw))


class Predictor:
    """An index folder and its model loaded once; :meth:`predict` gives what
    :meth:`knnpref.Index.predict` gives.

    ``queries`` is the number of test battles of the whole job: the neighbour search is chosen
    for that many, as one ``predict`` over all of them would choose it (exact search, the usual
    case, gives the same numbers whatever the batches). ``model`` is where the index's model
    lives if not where the index recorded it.
    """

    def __init__(
        self,
        index: Any,
        queries: int,
        *,
        model: Optional[Any] = None,
        device: str = "cpu",
        threads: Optional[int] = None,
        cache: bool = True,
    ) -> None:
        from . import _call, _embed

        self.index = os.fspath(index)
        options = _embed(model=model, threads=threads, cache=cache, progress=False, device=device)
        with _call(options) as call:
            self._native = _native.Predictor(self.index, queries, call)

    def predict(self, test: Any) -> Dict[str, Any]:
        """The submission columns of ``test`` (a path, DataFrame or Table) as a dict of lists:
        id, winner_model_a, winner_model_b, winner_tie, in input order. ``self.summary`` then
        holds the call's summary; its embedding costs add up over every call so far."""
        from . import SUBMISSION_COLUMNS, _as_path

        with _as_path(test, "test") as path:
            ids, a, b, tie, summary = self._native.predict(path)
        self.summary: Dict[str, Any] = json.loads(summary)
        return dict(zip(SUBMISSION_COLUMNS, (ids, a, b, tie)))

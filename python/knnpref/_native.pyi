"""Type stubs of the compiled module (``python/src/lib.rs``); use the wrappers in ``knnpref``.

``embed`` is the dict ``knnpref._embed`` builds, with ``embed["progress"]``
``None`` (no progress) or a :data:`ProgressCallback`. The callback is called
on the calling thread, between the 50 ms polls of the worker, as
``callback(stage, position, total, finished)``: a stage's first event, at most
one event per 200 ms after it, and ``finished=True`` when the stage completes.
An exception from it is reported once through ``sys.unraisablehook`` and the
callback is not called again in that call; a ``KeyboardInterrupt`` from it
cancels the call. A cancelled call raises ``KeyboardInterrupt``.
"""

from typing import Any, Callable, Dict, List, Optional, Tuple

ProgressCallback = Callable[[str, int, Optional[int], bool], Any]

__version__: str

class DataError(ValueError):
    """Bad input data or arguments; the message is the CLI's (without ``error: ``)."""

class IndexRefused(ValueError):
    """An index folder that cannot be used as asked (not an index, modified, newer, other model)."""

def build_index(
    train: str,
    out: str,
    seed: int,
    folds: int,
    neighbours: int,
    embed: Dict[str, Any],
    base: Optional[str] = None,
    skip_existing: bool = False,
) -> str: ...
def predict(
    index: str, test: str, out: Optional[str], embed: Dict[str, Any]
) -> Tuple[List[str], List[float], List[float], List[float], str]: ...
def similar(index: str, text: Optional[str], id: Optional[str], k: int, embed: Dict[str, Any]) -> str: ...
def evaluate(
    train: str,
    folds: int,
    seed: int,
    repeats: int,
    oof: Optional[str],
    report: Optional[str],
    learning_curve: bool,
    neighbours: int,
    embed: Dict[str, Any],
) -> str: ...
def manifest(index: str, embed: Dict[str, Any]) -> str: ...

class Embedder:
    def __init__(self, producer: Optional[str], embed: Dict[str, Any]) -> None: ...
    def vectors(self, data: str) -> Tuple[bytes, str]: ...

class Predictor:
    def __init__(self, index: str, queries: int, embed: Dict[str, Any]) -> None: ...
    def predict(self, test: str) -> Tuple[List[str], List[float], List[float], List[float], str]: ...

"""The default progress displays of the Python calls: tqdm bars, or one-line updates on stderr."""

import sys
import time
from typing import Any, Dict, Optional, Union


class _TextLines:
    """The default progress without tqdm: one-line updates on ``sys.stderr``.

    A stage's start and end, and while it runs at most one line every
    ``every`` seconds.
    """

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._started: Dict[str, float] = {}
        self._last: Dict[str, float] = {}

    def __call__(self, stage: str, position: int, total: Optional[int], finished: bool) -> None:
        now = time.monotonic()
        if stage not in self._started:
            self._started[stage] = self._last[stage] = now
            self._write(f"knnpref: {stage} ...")
            if not finished:
                return
        elapsed = now - self._started[stage]
        if total is not None:
            done = f" {position:,}/{total:,} ({100 * position / max(total, 1):.0f}%)"
        else:
            done = f" {position:,}" if position else ""
        if finished:
            self._write(f"knnpref: {stage} done{done} in {elapsed:.1f}s")
            del self._started[stage], self._last[stage]
        elif now - self._last[stage] >= self.every:
            self._last[stage] = now
            self._write(f"knnpref: {stage}{done}, {elapsed:.0f}s")

    @staticmethod
    def _write(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        self._started.clear()
        self._last.clear()


class _TqdmBars:
    """The default progress with tqdm: one ``tqdm.auto`` bar per stage."""

    def __init__(self, tqdm: Any) -> None:
        self._tqdm = tqdm
        self._bars: Dict[str, Any] = {}

    def __call__(self, stage: str, position: int, total: Optional[int], finished: bool) -> None:
        bar = self._bars.get(stage)
        if bar is None:
            unit = "tok" if stage.startswith("embedding") else "fit" if stage == "evaluating" else "it"
            bar = self._bars[stage] = self._tqdm(total=total, desc=stage, unit=unit, unit_scale=unit == "tok")
        bar.update(position - bar.n)
        if finished:
            bar.close()
            del self._bars[stage]

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


def _default_progress() -> Union[_TextLines, _TqdmBars]:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextLines()
    return _TqdmBars(tqdm)

"""Progress in the notebook and Ctrl-C while fitting, on a small slice of the shared sample.

Run by scripts/test_python.sh (see test_knnpref.py). tqdm is not installed
there; the tests that need its absence make sure of it themselves.
"""

import os
import signal
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

import knnpref
from helpers import python_paused_at

SAMPLE = Path(os.environ["KNNPREF_SAMPLE"])
ROWS = 60


@pytest.fixture(scope="module")
def train(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "train.csv"
    pd.read_csv(SAMPLE / "train.csv").head(ROWS).to_csv(path, index=False)
    return path


def without_tqdm(monkeypatch):
    """Make `import tqdm.auto` fail, installed or not."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


def test_a_callable_sees_embedding_reach_its_total_and_fitting_finish(train, tmp_path):
    events = []
    index = knnpref.build_index(
        train, tmp_path / "idx", seed=0, folds=3, max_tokens=32, cache=False, transformer=True,
        progress=lambda *event: events.append(event),
    )
    assert index.summary["rows"] == ROWS
    stages = [e[0] for e in events]
    assert set(stages) == {"embedding train", "fitting"}, stages
    embedding = [e for e in events if e[0] == "embedding train"]
    positions = [e[1] for e in embedding]
    total = embedding[0][2]
    assert total and total > 0 and all(e[2] == total for e in embedding)
    assert positions[0] == 0 and positions == sorted(positions) and positions[-1] == total
    assert len(set(positions)) >= 2, "at least the start and the end"
    assert [e[3] for e in embedding] == [False] * (len(embedding) - 1) + [True]
    fitting = [e for e in events if e[0] == "fitting"]
    assert fitting == [("fitting", 0, None, False), ("fitting", 0, None, True)]
    assert stages.index("fitting") > max(i for i, s in enumerate(stages) if s == "embedding train")


def test_progress_false_calls_and_prints_nothing(train, tmp_path, monkeypatch, capfd):
    def no_default():
        raise AssertionError("progress=False made a progress display")

    monkeypatch.setattr(knnpref, "_default_progress", no_default)
    knnpref.build_index(train, tmp_path / "idx", seed=0, folds=3, static=True, progress=False)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_the_default_without_tqdm_writes_lines_to_stderr(train, tmp_path, monkeypatch, capsys):
    without_tqdm(monkeypatch)
    knnpref.build_index(train, tmp_path / "idx", seed=0, folds=3, static=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "knnpref: fitting ...", lines
    assert lines[-1].startswith("knnpref: fitting done in "), lines
    assert all(line.startswith("knnpref: ") for line in lines)


def test_the_default_with_tqdm_draws_one_tqdm_auto_bar_per_stage(train, tmp_path, monkeypatch):
    """tqdm itself is not installed for the tests: a stand-in module records what the default does."""
    bars = []

    class Bar:
        def __init__(self, total=None, desc=None, **_):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            bars.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = Bar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    knnpref.build_index(train, tmp_path / "idx", seed=0, folds=3, static=True)
    assert [(b.desc, b.total, b.n, b.closed) for b in bars] == [("fitting", None, 0, True)]


def test_an_exception_in_the_callable_is_reported_once_and_the_call_carries_on(train, tmp_path, monkeypatch):
    calls, reported = [], []

    def broken(*event):
        calls.append(event)
        raise ValueError("a broken progress display")

    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    index = knnpref.build_index(train, tmp_path / "idx", seed=0, folds=3, static=True, progress=broken)
    assert index.summary["rows"] == ROWS
    assert len(calls) == 1 and len(reported) == 1
    assert isinstance(reported[0].exc_value, ValueError)


def test_ctrl_c_while_fitting_stops_the_fit_and_the_next_call_runs(train, tmp_path):
    """Interrupted at the pause inside the fit, the fit stops at its next check:
    it never reaches its end (the `fit-done` pause), no index folder appears,
    and a second call in the same process runs normally."""
    first, second = tmp_path / "first", tmp_path / "second"
    script = (
        "import os, sys, knnpref\n"
        "try:\n"
        "    knnpref.build_index(sys.argv[1], sys.argv[2], seed=0, folds=3, static=True, progress=False)\n"
        "    print('first finished')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "del os.environ['KNNPREF_TEST_PAUSE_AT']\n"
        "knnpref.build_index(sys.argv[1], sys.argv[3], seed=0, folds=3, static=True, progress=False)\n"
        "print('second finished')\n"
    )
    proc = python_paused_at("fit-select,fit-done", 30, script, train, first, second)
    try:
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "knnpref test pause: fit-select" in line:
                break
        assert proc.poll() is None, (seen, proc.communicate())
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    stderr = "".join(seen) + stderr
    assert proc.returncode == 0, stderr
    assert stdout.splitlines() == ["interrupted", "second finished"], (stdout, stderr)
    assert "knnpref test pause: fit-done" not in stderr, "the fit ran to its end after Ctrl-C"
    assert not first.exists(), "an interrupted build leaves no index folder"
    assert (second / "manifest.json").is_file()

"""The Python package against the CLI, on slices of the shared sample.

Run by scripts/test_python.sh, which sets KNNPREF_BIN (the CLI built from the
same sources), KNNPREF_SAMPLE (the shared sample folder) and KNNPREF_WHEEL.
"""

import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import knnpref
from helpers import python_paused_at

CLI = os.environ["KNNPREF_BIN"]
SAMPLE = Path(os.environ["KNNPREF_SAMPLE"])
TRAIN_ROWS = 200
TEST_ROWS = 60


def cli(*args, check=True):
    done = subprocess.run([CLI, "--quiet", *map(str, args)], capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def cli_error(*args):
    """The CLI's error message, without its `error: ` prefix."""
    done = cli(*args, check=False)
    assert done.returncode == 1, done.stderr
    line = [l for l in done.stderr.splitlines() if l.startswith("error: ")][-1]
    return line[len("error: "):]


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """A train slice and a test slice (later train rows, labels dropped), as CSV files."""
    d = tmp_path_factory.mktemp("data")
    full = pd.read_csv(SAMPLE / "train.csv")
    full.head(TRAIN_ROWS).to_csv(d / "train.csv", index=False)
    test = full.iloc[TRAIN_ROWS:TRAIN_ROWS + TEST_ROWS][["id", "prompt", "response_a", "response_b"]]
    test.to_csv(d / "test.csv", index=False)
    return d


@pytest.fixture(scope="session")
def static_index(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "static"
    return knnpref.build_index(str(data / "train.csv"), out, seed=0, static=True, progress=False)


def test_dataframe_round_trip_is_byte_identical_to_the_cli(data, tmp_path):
    cli("index", "--train", data / "train.csv", "--out", tmp_path / "cli-idx", "--seed", 0)
    cli("predict", "--index", tmp_path / "cli-idx", "--test", data / "test.csv", "--out", tmp_path / "cli.csv")
    expected = (tmp_path / "cli.csv").read_bytes()

    index = knnpref.build_index(pd.read_csv(data / "train.csv"), tmp_path / "py-idx", seed=0, progress=False)
    sub = index.predict(pd.read_csv(data / "test.csv"), out=tmp_path / "py.csv")
    assert list(sub.columns) == ["id", "winner_model_a", "winner_model_b", "winner_tie"]
    assert len(sub) == TEST_ROWS
    assert (tmp_path / "py.csv").read_bytes() == expected
    sub.to_csv(tmp_path / "df.csv", index=False, float_format="%.9f")
    assert (tmp_path / "df.csv").read_bytes() == expected
    assert index.summary["rows"] == TRAIN_ROWS
    assert index.manifest["rows"] == TRAIN_ROWS


def test_path_dataframe_and_table_inputs_agree(data, static_index, tmp_path):
    by_path = static_index.predict(str(data / "test.csv"))
    frame = pd.read_csv(data / "test.csv")
    by_frame = static_index.predict(frame)
    by_table = static_index.predict(pa.Table.from_pandas(frame, preserve_index=False))
    pd.testing.assert_frame_equal(by_path, by_frame)
    pd.testing.assert_frame_equal(by_path, by_table)
    assert list(by_path["id"]) == [str(i) for i in frame["id"]], "input order, ids as strings"
    sums = by_path[["winner_model_a", "winner_model_b", "winner_tie"]].sum(axis=1)
    assert ((sums - 1).abs() < 1e-9).all()

    train = pd.read_csv(data / "train.csv")
    from_frame = knnpref.build_index(train, tmp_path / "f", seed=0, static=True, progress=False)
    pd.testing.assert_frame_equal(from_frame.predict(frame), by_path)


def test_similar_matches_the_cli(data, static_index):
    first = pd.read_csv(data / "train.csv")["id"].iloc[0]
    hits = static_index.similar(id=first, k=3)
    expected = json.loads(cli("similar", "--index", static_index.path, "--id", first, "-n", 3, "--json").stdout)
    assert list(hits["id"]) == [h["id"] for h in expected["hits"]]
    by_text = static_index.similar(text="Write a haiku about rain", k=4)
    assert list(by_text["rank"]) == [1, 2, 3, 4]
    with pytest.raises(knnpref.DataError):
        static_index.similar(k=3)


def test_evaluate_returns_the_metrics_json(data, tmp_path):
    metrics = knnpref.evaluate(data / "train.csv", folds=3, seed=1, report=tmp_path / "rep", static=True, progress=False)
    written = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics == written
    cli("evaluate", "--train", data / "train.csv", "--folds", 3, "--seed", 1, "--static", "--report", tmp_path / "cli")
    by_cli = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert metrics["models"] == by_cli["models"]


def test_bad_input_raises_data_error_with_the_cli_message(data, static_index, tmp_path):
    bad = tmp_path / "bad.csv"
    pd.read_csv(data / "test.csv").drop(columns=["response_b"]).to_csv(bad, index=False)
    expected = cli_error("predict", "--index", static_index.path, "--test", bad, "--out", tmp_path / "x.csv")
    with pytest.raises(knnpref.DataError) as caught:
        static_index.predict(str(bad))
    assert str(caught.value) == expected
    assert isinstance(caught.value, ValueError)
    with pytest.raises(knnpref.DataError) as caught:
        knnpref.build_index(pd.read_csv(data / "test.csv"), tmp_path / "never", static=True, progress=False)
    assert "winner" in str(caught.value)
    assert not (tmp_path / "never").exists()


def test_a_dataframe_without_pyarrow_is_an_import_error_naming_the_extra(data, static_index):
    # A child process where `import pyarrow` fails, as it does when it is not installed.
    script = (
        "import sys, pandas as pd\n"
        "sys.modules['pyarrow'] = None\n"
        "import knnpref\n"
        "try:\n"
        "    knnpref.Index.load(sys.argv[1]).predict(pd.read_csv(sys.argv[2]))\n"
        "except ImportError as e:\n"
        "    print('ImportError', e.name, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, static_index.path, data / "test.csv"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("ImportError pyarrow "), out
    assert "pip install 'knnpref[pandas]'" in out, out


def test_parameter_rules_are_the_libraries_and_read_as_the_clis(data, tmp_path):
    expected = cli_error("index", "--train", data / "train.csv", "--out", tmp_path / "i", "--folds", 1, "--static")
    with pytest.raises(knnpref.DataError) as caught:
        knnpref.build_index(data / "train.csv", tmp_path / "i", folds=1, static=True, progress=False)
    assert str(caught.value) == expected
    assert "invalid folds 1: must be at least 2" in expected


def test_predict_refuses_to_overwrite_its_test_file(data, static_index, tmp_path):
    test = tmp_path / "test.csv"
    shutil.copy(data / "test.csv", test)
    before = test.read_bytes()
    with pytest.raises(knnpref.DataError) as caught:
        static_index.predict(test, out=test)
    assert "refusing to write" in str(caught.value) and "the test file" in str(caught.value)
    assert test.read_bytes() == before


def test_a_folder_that_is_no_index_is_refused_with_the_cli_message(data, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    expected = cli_error("predict", "--index", empty, "--test", data / "test.csv", "--out", tmp_path / "x.csv")
    with pytest.raises(knnpref.IndexRefused) as caught:
        knnpref.Index.load(empty)
    assert str(caught.value) == expected


def test_interrupted_predict_leaves_no_file(data, static_index, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    script = (
        "import sys, knnpref\n"
        "index = knnpref.Index.load(sys.argv[1], progress=False)\n"
        "index.predict(sys.argv[2], out=sys.argv[3])\n"
        "print('finished')\n"
    )
    proc = python_paused_at("before-rename", 20, script, static_index.path, data / "test.csv", out_dir / "sub.csv")
    try:
        # The finished temporary file appears, then the library waits before the rename.
        for _ in range(600):
            if any(out_dir.iterdir()) or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        assert [p.name for p in out_dir.iterdir()] != ["sub.csv"]
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
    assert "finished" not in stdout
    assert list(out_dir.iterdir()) == [], "no submission and no temporary file"


def test_the_wheel_works_without_network(data, static_index, tmp_path):
    script = (
        "import sys, knnpref\n"
        "knnpref.Index.load(sys.argv[1], progress=False).predict(sys.argv[2], out=sys.argv[3])\n"
    )
    cmd = [sys.executable, "-c", script, static_index.path, str(data / "test.csv"), str(tmp_path / "sub.csv")]
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"]).returncode == 0:
        cmd = ["unshare", "-rn", *cmd]  # a network namespace with no interface but loopback (down)
    else:  # no namespaces here: make any socket use fail instead
        cmd[2] = "import socket\nsocket.socket = None\n" + script
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sub.csv").read_text().startswith("id,winner_model_a,winner_model_b,winner_tie\n")


def test_signatures_and_docstrings_show_in_help():
    params = inspect.signature(knnpref.build_index).parameters
    assert list(params)[:6] == ["train", "out", "seed", "folds", "model", "max_tokens"]
    assert params["seed"].default == 0 and params["folds"].default == 5
    assert list(inspect.signature(knnpref.evaluate).parameters)[:6] == ["train", "folds", "seed", "repeats", "oof", "report"]
    for f in (knnpref.build_index, knnpref.evaluate, knnpref.Index.load, knnpref.Index.predict, knnpref.Index.similar):
        assert f.__doc__ and len(f.__doc__) > 40
    assert issubclass(knnpref.DataError, ValueError)
    stubs = Path(knnpref.__file__).parent
    assert (stubs / "_native.pyi").is_file() and (stubs / "py.typed").is_file()

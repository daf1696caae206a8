"""What the tests share: a Python child process stopped at a library stage."""

import os
import subprocess
import sys


def python_paused_at(stages, secs, script, *args):
    """Start `python -c script args...` that pauses at the library stages
    `stages` (KNNPREF_TEST_PAUSE_AT, comma-separated) for `secs` seconds;
    stdout and stderr are pipes of text."""
    env = dict(os.environ, KNNPREF_TEST_PAUSE_AT=stages, KNNPREF_TEST_PAUSE_SECS=str(secs))
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )

"""A killed test session does not leave its embedded PostgreSQL behind (tests/pg_watchdog.py).

A child process plays the pytest session: it starts an embedded server exactly as the
``postgres_server`` fixture does, spawns the watchdog, prints the directory and sleeps. The
test SIGKILLs it, so no ``finally`` of it runs, and waits for the watchdog to stop the
postmaster and remove the directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import pg_watchdog

REPO = Path(__file__).resolve().parents[2]

SESSION = """
import sys, tempfile, time
from pathlib import Path
from runtime.dev.postgres import start_embedded
from tests import pg_watchdog
root = Path(tempfile.mkdtemp(prefix="voxflow-test-pg-"))
start_embedded(root / "data")
pg_watchdog.spawn(root)
print(root, flush=True)
time.sleep(3600)
"""


def _until(condition, what: str) -> None:
    for _ in range(1200):  # a generous bound so a broken watchdog fails instead of hanging
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_a_killed_session_leaves_no_server_and_no_directory() -> None:
    session = subprocess.Popen(
        [sys.executable, "-c", SESSION],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        root = Path(session.stdout.readline().strip())  # type: ignore[union-attr]
        server = pg_watchdog.postmaster(root)
        assert server is not None and server.is_running(), "the session's server did not start"
    finally:
        session.send_signal(signal.SIGKILL)
        session.wait()
        session.stdout.close()  # type: ignore[union-attr]

    _until(lambda: not server.is_running(), "the postmaster stopped")
    _until(lambda: not root.exists(), "the data directory was removed")


def test_the_watchdog_leaves_a_live_session_alone_and_goes_when_told(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    watchdog = pg_watchdog.spawn(tmp_path)
    try:
        time.sleep(3 * pg_watchdog.POLL_S)
        assert watchdog.poll() is None, "the watchdog gave up on a live owner"
        assert (tmp_path / "data").is_dir(), "the watchdog touched a live session's directory"
    finally:
        watchdog.terminate()
        assert watchdog.wait() == 0
    assert (tmp_path / "data").is_dir()

"""Stops a test session's embedded PostgreSQL when the session's process dies without doing it.

``pg_ctl`` daemonises the server, so it outlives a pytest that is killed (SIGKILL, a CI
timeout, an editor's stop button) and the fixture's ``finally`` never runs: the server and its
data directory would stay behind. ``spawn`` starts this module as a small process in its own
session that checks every second that the owner is alive (the same process: its pid and its
start time, so a reused pid does not fool it). When the owner is gone it asks the postmaster
for a fast shutdown (SIGINT, PostgreSQL's "fast" mode: running sessions are ended), waits for
it, escalates to an immediate shutdown (SIGQUIT) if it lingers, removes the directory and
exits. A session that ends normally stops the watchdog with SIGTERM after stopping the server.

Run: ``python tests/pg_watchdog.py OWNER_PID DIRECTORY`` (the directory holds ``data/``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

POLL_S = 1.0
FAST_SHUTDOWN_S = 30.0
"""How long a fast shutdown may take before the watchdog asks for an immediate one."""


def spawn(directory: Path) -> subprocess.Popen[bytes]:
    """Watch ``directory``'s server on behalf of this process."""
    return subprocess.Popen(
        [sys.executable, __file__, str(os.getpid()), str(directory)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a signal to the owner's process group does not reach it
    )


def postmaster(directory: Path) -> psutil.Process | None:
    """The running postmaster of ``directory/data``, if any."""
    try:
        pid = int((directory / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
        return psutil.Process(pid)
    except (OSError, ValueError, psutil.Error):
        return None


def owner_alive(owner: psutil.Process) -> bool:
    try:
        return owner.is_running() and owner.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop(directory: Path) -> None:
    """Fast shutdown, then immediate if it lingers; then remove ``directory``."""
    server = postmaster(directory)
    if server is not None:
        for sig, wait_s in ((signal.SIGINT, FAST_SHUTDOWN_S), (signal.SIGQUIT, FAST_SHUTDOWN_S)):
            try:
                server.send_signal(sig)
                server.wait(wait_s)
                break
            except psutil.TimeoutExpired:
                continue
            except psutil.Error:
                break
    shutil.rmtree(directory, ignore_errors=True)


def main(owner_pid: int, directory: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the session stopped it: all done
    try:
        owner = psutil.Process(owner_pid)
    except psutil.Error:
        owner = None
    while owner is not None and owner_alive(owner):
        time.sleep(POLL_S)
    stop(directory)


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))

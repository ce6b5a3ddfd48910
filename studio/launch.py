"""How to start the studio as a process: the one place its command line is built.

``voxflow studio`` runs it in the foreground; ``voxflow dev`` starts it next to the worker and
the API with the same function, so both bind the same way (loopback, headless, no telemetry).
The studio reads its configuration like every voxflow process, from the settings object
(``runtime.settings``): :func:`environment` gives the variables to start it with.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from runtime.settings import env_name

APP = Path(__file__).parent / "app.py"
DEFAULT_PORT = 8501


def environment(*, flows_dir: Path | str) -> dict[str, str]:
    """The settings to start the studio process with, beside the deployment's own.

    Args:
        flows_dir: the folder the Flows page browses (``VOXFLOW_STUDIO_FLOWS``).
    """
    return {env_name("studio_flows_dir"): str(Path(flows_dir).resolve())}


def command(
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    python: str = sys.executable,
) -> list[str]:
    """The argv that serves the studio on ``http://host:port``.

    Args:
        port: TCP port; ``0`` is not allowed by Streamlit, pick a free one first.
        host: bind address; keep the loopback default unless a proxy in front adds auth.
        python: the interpreter that has voxflow and Streamlit installed.
    """
    argv = [
        python,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.runOnSave",
        "false",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--global.developmentMode",
        "false",
    ]
    return argv


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run(argv: list[str], env: dict[str, str]) -> int:
    """Run the studio in the foreground until it exits; its exit code.

    SIGINT, SIGTERM and SIGHUP sent to this process are passed on to Streamlit, which stops,
    and this then returns: stopping ``voxflow studio`` (Ctrl-C, ``kill``, a supervisor) never
    leaves a Streamlit process serving behind it.
    """
    child = subprocess.Popen(argv, env=env)

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

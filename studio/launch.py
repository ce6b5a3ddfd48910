"""How to start the studio as a process: the one place its command line is built.

``voxflow studio`` runs it in the foreground; ``voxflow dev`` starts it next to the worker and
the API with the same function, so both bind the same way (loopback, headless, no telemetry).
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).parent / "app.py"
DEFAULT_PORT = 8501


def command(
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    flows_dir: Path | str | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The argv that serves the studio on ``http://host:port``.

    Args:
        port: TCP port; ``0`` is not allowed by Streamlit, pick a free one first.
        host: bind address; keep the loopback default unless a proxy in front adds auth.
        flows_dir: the folder the Flows page browses (default ``flows`` in the working dir).
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
    if flows_dir is not None:
        argv += ["--", "--flows", str(Path(flows_dir).resolve())]
    return argv


def flows_dir_from_argv(argv: list[str]) -> str | None:
    """The ``--flows DIR`` script argument ``command`` passes, if any."""
    if "--flows" in argv:
        i = argv.index("--flows")
        if i + 1 < len(argv):
            return argv[i + 1]
    return None

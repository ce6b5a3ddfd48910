"""Run ``voxflow dev`` as a subprocess for a test: wait for its banner, SIGTERM it after."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil


@dataclass
class DevRun:
    process: asyncio.subprocess.Process
    banner: str = ""
    descendants: list[psutil.Process] = field(default_factory=list)
    """Every process below ``voxflow dev`` once its banner was printed."""
    exit_code: int | None = None


@asynccontextmanager
async def voxflow_dev(env: dict[str, str], cwd: Path) -> AsyncIterator[DevRun]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from runtime.cli import main; main()", "dev",
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    run = DevRun(process)
    try:
        async with asyncio.timeout(120):
            while "Ctrl-C stops everything" not in run.banner:
                line = await process.stdout.readline()
                if not line:
                    raise AssertionError(f"voxflow dev exited early:\n{run.banner}")
                run.banner += line.decode()
        run.descendants = psutil.Process(process.pid).children(recursive=True)
        yield run
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        run.exit_code = await asyncio.wait_for(process.wait(), 60)


async def until_listening(port: int, host: str = "127.0.0.1") -> None:
    """Wait until something accepts connections on ``host:port`` (a worker still starting)."""
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on {host}:{port}")

"""Real processes for fault tests: the simulated PBX and voxflow workers, as subprocesses
bound to 127.0.0.1, always reaped."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from runtime.dev.temporal import die_with_parent, free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]


async def start_sim(
    scenarios: Path, log: Path, out: Path
) -> tuple[asyncio.subprocess.Process, int]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telephony.sim",
        "--ami",
        f"127.0.0.1:{port}",
        "--scenarios",
        str(scenarios),
        "--log",
        str(log),
        cwd=ROOT,
        stdout=out.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "VOXFLOW_SIM_AMI_SECRET": "voxflow"},
        preexec_fn=die_with_parent,
    )
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return process, port
        except OSError:
            if process.returncode is not None:
                raise RuntimeError(f"simulated PBX exited, see {out}") from None
            await asyncio.sleep(0.1)
    await stop_process(process)
    raise RuntimeError(f"simulated PBX not listening on {port}")


def worker_env(temporal: str, database_url: str, ami_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal,
        "DATABASE_URL": database_url,
        "AMI_HOST": "127.0.0.1",
        "AMI_PORT": str(ami_port),
        "AMI_USERNAME": "voxflow",
        "AMI_SECRET": "voxflow",
        "AUDIOSOCKET_PORT": "0",
        "VOXFLOW_DB_POOL_MAX": "5",
    }


async def start_worker(
    env: dict[str, str], out: Path, command: tuple[str, ...] = ("-m", "runtime.worker")
) -> asyncio.subprocess.Process:
    """A ``python -m runtime.worker`` (or ``python *command``) logging to ``out``; its state
    (recordings) beside it."""
    env = {"VOXFLOW_STATE_DIR": str(out.parent / "voxflow-state"), **env}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        cwd=ROOT,
        env=env,
        stdout=out.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )

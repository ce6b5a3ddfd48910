"""The embedded stack behind ``voxflow dev`` and ``voxflow demo``: the Temporal dev server
(with its web UI), the embedded PostgreSQL (migrated), the simulated PBX, a worker process and
the API, each replaced by the real endpoint when its setting is given (``TEMPORAL_ADDRESS``,
``DATABASE_URL``, ``AMI_HOST``). State lives under the settings' state directory.

Leaving the context stops everything it started, in reverse order, on success, error or
Ctrl-C alike.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from runtime.db import connect as db_connect
from runtime.db import database_url, migrate
from runtime.dev.temporal import die_with_parent, free_port, start_dev_server, stop_process
from runtime.settings import Settings
from telephony.sim import SimPBX, load_scenarios
from telephony.sim.scenarios import Scenarios

SIM_SECRET = "voxflow"


@dataclass
class Stack:
    temporal_address: str
    ui_url: str | None
    database_url: str
    ami: tuple[str, int]
    sim_log: Path | None
    api_url: str | None
    studio_url: str | None
    state_dir: Path


async def _migrate(url: str) -> None:
    conn = await db_connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()


def _prepare(state_dir: Path) -> Path:
    (state_dir / "logs").mkdir(parents=True, exist_ok=True)
    return state_dir / "logs"


async def _spawn(args: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = await asyncio.to_thread(log.open, "ab")
    try:
        return await asyncio.create_subprocess_exec(
            *args,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
            preexec_fn=die_with_parent,
        )
    finally:
        out.close()


def _flows_dir() -> Path:
    """``./flows`` when run from a project, else the repository's examples."""
    here = Path.cwd() / "flows"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "flows"


@asynccontextmanager
async def embedded_stack(
    settings: Settings,
    *,
    scenarios: Path | None = None,
    ui: bool = True,
    api: bool = False,
    workers: int = 1,
) -> AsyncIterator[Stack]:
    """Bring the stack up; yields its endpoints.

    Args:
        scenarios: the simulated callees (YAML/JSON) when the simulated PBX is used; default
            ``VOXFLOW_SIM_SCENARIOS``. Its path is passed on to the processes started here.
        api: also run the REST API (``uvicorn``) and the studio (``voxflow studio``).
    """
    state_dir = settings.state_dir.resolve()
    logs = await asyncio.to_thread(_prepare, state_dir)
    async with AsyncExitStack() as stack:
        if settings.temporal_address is None:
            server = await start_dev_server(state_dir / "temporal", ui=ui)
            stack.push_async_callback(server.stop)
            temporal, ui_url = server.address, server.ui_url
        else:
            temporal, ui_url = settings.temporal_address, None
        url = await stack.enter_async_context(database_url(settings))
        await _migrate(url)

        sim_log = None
        inbound_port = 0
        if settings.ami_host is None:
            scenarios = scenarios or settings.sim_scenarios
            callees = load_scenarios(scenarios) if scenarios else Scenarios()
            sim_log = state_dir / "sim-originates.jsonl"
            pbx = SimPBX(callees, log_path=sim_log, port=free_port(), secret=SIM_SECRET)
            await stack.enter_async_context(pbx)
            ami = pbx.ami_address
            ami_env = {"AMI_HOST": ami[0], "AMI_PORT": str(ami[1]), "AMI_USERNAME": "voxflow"}
            ami_env["AMI_SECRET"] = SIM_SECRET
            if scenarios:  # the studio lists these callees for phone test calls
                ami_env["VOXFLOW_SIM_SCENARIOS"] = str(scenarios)
            # Calls into voxflow (AMI Originate of Local/<did>@voxflow-inbound, as on Asterisk)
            # reach the first worker's AudioSocket server, which listens on a known port.
            inbound_port = free_port()
            pbx.globals["VOXFLOW_INBOUND_AUDIOSOCKET"] = f"127.0.0.1:{inbound_port}"
        else:
            ami = (settings.ami_host, settings.ami_port)
            ami_env = {}

        env = {
            **os.environ,
            **ami_env,
            "TEMPORAL_ADDRESS": temporal,
            "TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "DATABASE_URL": url,
            "VOXFLOW_STATE_DIR": str(state_dir),
        }
        for index in range(workers):
            port = inbound_port if index == 0 else 0
            worker_env = {**env, "AUDIOSOCKET_PORT": str(port)}
            process = await _spawn(
                [sys.executable, "-m", "runtime.worker"], worker_env, logs / f"worker{index}.log"
            )
            stack.push_async_callback(stop_process, process)

        api_url = studio_url = None
        if api:
            port = free_port()
            api_url = f"http://{settings.api_host}:{port}"
            serve = (
                "import uvicorn; from runtime.api.app import create_app;"
                " from runtime.settings import load_settings;"
                f" uvicorn.run(create_app(load_settings()), host={settings.api_host!r},"
                f" port={port}, log_level='warning')"
            )
            process = await _spawn([sys.executable, "-c", serve], env, logs / "api.log")
            stack.push_async_callback(stop_process, process)
            studio_port = free_port()
            process = await _spawn(
                [
                    sys.executable,
                    "-c",
                    "from runtime.cli import main; main()",
                    "studio",
                    "--port",
                    str(studio_port),
                    "--flows",
                    str(_flows_dir()),
                ],
                {**env, "VOXFLOW_API_URL": api_url, "VOXFLOW_STUDIO_TEMPORAL_UI": ui_url or ""},
                logs / "studio.log",
            )
            stack.push_async_callback(stop_process, process)
            studio_url = f"http://127.0.0.1:{studio_port}"
        yield Stack(temporal, ui_url, url, ami, sim_log, api_url, studio_url, state_dir)

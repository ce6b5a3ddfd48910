"""The embedded stack behind ``voxflow dev`` and ``voxflow demo``: the Temporal dev server
(with its web UI), the embedded PostgreSQL (migrated), the simulated PBX, a worker process and
the API, each replaced by the real endpoint when its setting is given (``TEMPORAL_ADDRESS``,
``DATABASE_URL``, ``AMI_HOST``). State lives under the settings' state directory.

Inbound calls reach the first worker's AudioSocket server on a known port: with the
simulated PBX a free one (the PBX is told); with a real Asterisk (``AMI_HOST``) the fixed
``AUDIOSOCKET_PORT`` (9092 by default), which ``[globals] VOXFLOW_INBOUND_AUDIOSOCKET`` of
``telephony/asterisk/extensions.conf`` names.

:meth:`Stack.supervise` watches the processes it started: a worker, the API or the studio
that dies is started again (up to :data:`MAX_RESTARTS` times); the Temporal dev server or the
embedded PostgreSQL dying stops the stack with a message saying which one. Leaving the
context stops everything it started, in reverse order, on success, error, Ctrl-C or SIGTERM
alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from runtime.db import connect as db_connect
from runtime.db import database_url, migrate
from runtime.dev.temporal import die_with_parent, free_port, start_dev_server, stop_process
from runtime.settings import Settings
from telephony.sim import SimPBX, load_scenarios
from telephony.sim.scenarios import Scenarios

SIM_SECRET = "voxflow"
MAX_RESTARTS = 3
"""Times a dead worker, API or studio is started again before the stack gives up."""
SUPERVISE_EVERY_S = 0.5

log = logging.getLogger(__name__)


class StackFailed(RuntimeError):
    """A process of the stack died and could not be brought back; the message says which."""


@dataclass
class Child:
    """A process the stack started; ``restart`` starts it again (``None``: it cannot be)."""

    name: str
    process: asyncio.subprocess.Process
    log: Path | None = None
    restart: Callable[[], Awaitable[asyncio.subprocess.Process]] | None = None
    restarts: int = 0


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
    inbound_audiosocket: str | None = None
    """``host:port`` of the first worker's AudioSocket server, where inbound calls go."""
    children: list[Child] = field(default_factory=list)
    postgres_pidfile: Path | None = None
    """``postmaster.pid`` of the embedded PostgreSQL, when the stack started one."""

    @property
    def simulated(self) -> bool:
        """The stack runs the simulated PBX (no ``AMI_HOST``)."""
        return self.sim_log is not None

    async def supervise(
        self,
        stop: asyncio.Event,
        *,
        every: float = SUPERVISE_EVERY_S,
        max_restarts: int = MAX_RESTARTS,
    ) -> None:
        """Watch the stack's processes until ``stop`` is set.

        Raises:
            StackFailed: a process died that cannot be restarted (Temporal, PostgreSQL), or
                one died more than ``max_restarts`` times.
        """
        while not stop.is_set():
            for child in self.children:
                code = child.process.returncode
                if code is None:
                    continue
                where = f" (log: {child.log})" if child.log else ""
                if child.restart is None or child.restarts >= max_restarts:
                    raise StackFailed(f"{child.name} exited with code {code}{where}; stopping")
                child.restarts += 1
                log.warning(
                    "%s exited with code %s%s; starting it again (%d/%d)",
                    child.name, code, where, child.restarts, max_restarts,
                )  # fmt: skip
                child.process = await child.restart()
            if self.postgres_pidfile is not None and not _postgres_alive(self.postgres_pidfile):
                raise StackFailed(
                    f"the embedded PostgreSQL ({self.postgres_pidfile.parent}) stopped; stopping"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


def _postgres_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    return psutil.pid_exists(pid)


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
        children: list[Child] = []
        if settings.temporal_address is None:
            server = await start_dev_server(state_dir / "temporal", ui=ui)
            stack.push_async_callback(server.stop)
            temporal, ui_url = server.address, server.ui_url
            children.append(Child("the Temporal dev server", server.process, server.log_path))
        else:
            temporal, ui_url = settings.temporal_address, None
        url = await stack.enter_async_context(database_url(settings))
        await _migrate(url)
        pidfile = settings.pg_dir / "postmaster.pid" if settings.database_url is None else None

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
            # A real Asterisk calls in where its dialplan says: a fixed port, not a free one.
            inbound_port = settings.audiosocket_port

        env = {
            **os.environ,
            **ami_env,
            "TEMPORAL_ADDRESS": temporal,
            "TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "DATABASE_URL": url,
            "VOXFLOW_STATE_DIR": str(state_dir),
        }

        async def start(name: str, args: list[str], child_env: dict[str, str], log: Path) -> None:
            async def spawn() -> asyncio.subprocess.Process:
                return await _spawn(args, child_env, log)

            child = Child(name, await spawn(), log, spawn)
            children.append(child)
            stack.push_async_callback(_stop_child, child)

        for index in range(workers):
            port = inbound_port if index == 0 else 0
            worker_env = {**env, "AUDIOSOCKET_PORT": str(port)}
            await start(
                f"worker {index}",
                [sys.executable, "-m", "runtime.worker"],
                worker_env,
                logs / f"worker{index}.log",
            )

        api_url = studio_url = None
        if api:
            port = free_port()
            api_url = f"http://{settings.api_host}:{port}"
            serve = (
                "import uvicorn; from runtime.api.app import create_app;"
                " from runtime.settings import load_settings;"
                " from runtime.observability.logs import configure_logging;"
                " from runtime.observability.tracing import configure_tracing;"
                " s = load_settings(); configure_logging(s, level='WARNING');"
                " configure_tracing(s, 'voxflow-api');"
                f" uvicorn.run(create_app(s), host={settings.api_host!r},"
                f" port={port}, log_level='warning', log_config=None)"
            )
            await start("the API", [sys.executable, "-c", serve], env, logs / "api.log")
            studio_port = free_port()
            await start(
                "the studio",
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
            studio_url = f"http://127.0.0.1:{studio_port}"
        yield Stack(
            temporal,
            ui_url,
            url,
            ami,
            sim_log,
            api_url,
            studio_url,
            state_dir,
            inbound_audiosocket=f"{settings.audiosocket_host}:{inbound_port}"
            if inbound_port
            else None,
            children=children,
            postgres_pidfile=pidfile,
        )


async def _stop_child(child: Child) -> None:
    await stop_process(child.process)  # the process it runs now, after any restart

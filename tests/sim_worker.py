"""The real worker composition over the simulated PBX, in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from temporalio.client import Client

from activities.converse import ConverseActivities
from runtime.settings import Settings
from runtime.worker import build_workers, run_workers
from telephony.ami import AmiSettings, AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from telephony.audiosocket.pacer import Lateness
from telephony.sim import Scenarios, SimPBX


@asynccontextmanager
async def simulated_worker(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    scenarios: Scenarios,
    log_path: Path,
    *,
    lateness: Lateness | None = None,
) -> AsyncIterator[None]:
    """A worker (shared and own queue, ``build_workers``) whose calls go to a simulated PBX
    playing ``scenarios`` (its log at ``log_path``) through a loopback AudioSocket server
    (whose pacer counts its frames' lateness in ``lateness``, as the worker's does with
    metrics on)."""
    async with (
        SimPBX(scenarios, log_path=log_path) as pbx,
        AudioSocketServer(lateness=lateness) as server,
    ):
        host, port = pbx.ami_address
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), server.address_text
        )
        converse = ConverseActivities(
            media=server, pool=pool, gateway=gateway, settings=settings, media_wait_s=10
        )
        workers = build_workers(
            client,
            pool=pool,
            gateway=gateway,
            audiosocket=server.address_text,
            call_activities=[converse.converse],
            shared_queue=settings.task_queue,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_workers(workers, stop))
        try:
            yield
        finally:
            stop.set()
            await running
            await gateway.close()

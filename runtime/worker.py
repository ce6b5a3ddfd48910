"""The voxflow worker: workflows and persistence on the shared queue, calls on its own queue.

Temporal's worker-specific task queue pattern: every worker process polls the shared queue
(workflows, persistence activities) and a queue of its own (``dial`` and ``converse``).
``begin_attempt`` (a local activity, so it runs in the worker that runs the contact's workflow
task) answers with that own queue and the host:port of this process's AudioSocket server, so the PBX sends the call's media to the process that dials and
converses. The own queue's name is unique per process: after a crash, work scheduled on the
dead process's queue times out instead of being picked up late by its successor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import NoReturn

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from activities.campaign_io import CampaignIO
from activities.converse import ConverseActivities
from activities.dial import DialActivities
from runtime.call.inbound import CallMedia, InboundCalls, compile_inbound_flows
from runtime.client import connect
from runtime.db import create_pool
from runtime.destinations import DestinationPolicy
from runtime.eventloop import settle_heap
from runtime.held_lines import releasing_lines
from runtime.observability import metrics
from runtime.observability.exposition import temporal_runtime, worker_metrics_server
from runtime.observability.logs import configure_logging
from runtime.observability.tracing import configure_tracing, temporal_interceptors
from runtime.settings import Settings, SettingsError, load_settings
from runtime.tenant_interceptor import TenantInterceptor
from runtime.webhooks.dispatcher import dispatching
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.inbound import InboundCallWorkflow
from runtime.workflows.messages import SHARED_TASK_QUEUE, WorkerRoute
from runtime.workflows.sandbox import workflow_runner
from telephony.ami.client import AmiSettings
from telephony.ami.gateway import AsteriskGateway
from telephony.audiosocket.server import AudioSocketServer
from telephony.gateway import Gateway

log = logging.getLogger(__name__)

WORKFLOWS = (CampaignWorkflow, ContactWorkflow, InboundCallWorkflow)


def own_queue(shared: str = SHARED_TASK_QUEUE) -> str:
    return f"{shared}-worker-{uuid.uuid4().hex[:12]}"


def build_workers(
    client: Client,
    *,
    pool: asyncpg.Pool,
    gateway: Gateway,
    audiosocket: str,
    call_activities: Sequence[Callable] = (),
    shared_queue: str = SHARED_TASK_QUEUE,
    max_concurrent_calls: int = 50,
    destinations: DestinationPolicy | None = None,
    pbx_lines: int | None = None,
    line_pool: str = "pbx",
    max_cached_workflows: int = 1000,
) -> tuple[Worker, Worker]:
    """The shared-queue worker and this process's own-queue worker.

    Args:
        audiosocket: ``host:port`` the PBX must send this worker's calls' media to.
        call_activities: more activities for the own queue (``converse``).
        pbx_lines: lines of the PBX that the tenants share (None: no limit of voxflow's).
        line_pool: the name of that PBX: workers dialling through one PBX share its lines.
        max_cached_workflows: workflow runs the shared-queue worker keeps in memory.
    """
    queue = own_queue(shared_queue)
    io = CampaignIO(pool, WorkerRoute(queue, audiosocket))
    dial = DialActivities(gateway, pool, policy=destinations, lines=pbx_lines, line_pool=line_pool)
    shared = Worker(
        client,
        task_queue=shared_queue,
        workflows=list(WORKFLOWS),
        activities=io.activities(),
        workflow_runner=workflow_runner(),
        interceptors=[TenantInterceptor()],
        max_cached_workflows=max_cached_workflows,
    )
    calls = Worker(
        client,
        task_queue=queue,
        activities=[dial.dial, *call_activities],
        max_concurrent_activities=max_concurrent_calls,
        interceptors=[TenantInterceptor()],
    )
    return shared, calls


async def run_workers(workers: Sequence[Worker], stop: asyncio.Event) -> None:
    """Run ``workers`` until ``stop`` is set, then shut them down; one failing stops all."""
    async with asyncio.TaskGroup() as group:
        for worker in workers:
            group.create_task(worker.run())
        await stop.wait()
        for worker in workers:
            group.create_task(worker.shutdown())


@dataclass(frozen=True)
class WorkerResources:
    """What a worker process holds for its whole life."""

    pool: asyncpg.Pool
    gateway: AsteriskGateway
    server: AudioSocketServer
    audiosocket: str
    """``host:port`` the PBX sends this worker's calls' media to (advertised address)."""


@asynccontextmanager
async def worker_resources(settings: Settings) -> AsyncIterator[WorkerResources]:
    """Pool, gateway and AudioSocket server from the settings (see :func:`main`)."""
    s = settings
    async with AsyncExitStack() as stack:
        if s.database_url is None:
            raise SystemExit("voxflow worker needs DATABASE_URL (voxflow dev sets it for you)")
        pool = await create_pool(s.database_url.get_secret_value(), max_size=s.database_pool_max)
        stack.push_async_callback(pool.close)
        server = AudioSocketServer(
            s.audiosocket_host,
            s.audiosocket_port,
            lateness=metrics.PACER_LATENESS if s.metrics else None,
        )
        await server.start()
        stack.push_async_callback(server.close)
        host, port = server.address
        advertised = s.audiosocket_advertised or f"{host}:{port}"
        ami = AmiSettings(
            host=s.ami_host or "127.0.0.1",
            port=s.ami_port,
            username=s.ami_username or "voxflow",
            secret=s.ami_secret.get_secret_value() if s.ami_secret else "",
        )
        gateway = await AsteriskGateway.connect(ami, advertised)
        stack.push_async_callback(gateway.close)
        yield WorkerResources(pool, gateway, server, advertised)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run a worker with ``settings`` until SIGINT/SIGTERM."""

    settings.require("temporal_address", "database_url", why="a standalone worker")
    inbound_flows = compile_inbound_flows(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(
        settings.temporal_address,
        settings.temporal_namespace,
        interceptors=temporal_interceptors(settings),
        runtime=temporal_runtime(settings),
    )
    async with worker_resources(settings) as res:
        media = CallMedia(res.server, res.gateway)
        line_pool = settings.ami_host or "sim"
        converse = ConverseActivities(
            media=media, pool=res.pool, gateway=media.gateway, settings=settings
        )
        workers = build_workers(
            client,
            pool=res.pool,
            gateway=media.gateway,
            audiosocket=res.audiosocket,
            call_activities=[converse.converse],
            shared_queue=settings.task_queue,
            max_concurrent_calls=settings.max_calls,
            destinations=DestinationPolicy.from_settings(settings),
            pbx_lines=settings.pbx_lines,
            line_pool=line_pool,
            max_cached_workflows=settings.max_cached_workflows,
        )
        await inbound_flows.save(res.pool)
        inbound = InboundCalls(
            client,
            media,
            res.pool,
            inbound_flows,
            task_queue=workers[1].task_queue,
            shared_queue=settings.task_queue,
        )
        print(
            f"voxflow worker: queue {workers[1].task_queue}, audiosocket {res.audiosocket}",
            flush=True,
        )
        settle_heap()  # full GC runs later walk only the calls' objects (runtime/eventloop.py)
        async with (
            inbound.running(),
            dispatching(res.pool, settings),
            releasing_lines(client, res.pool, line_pool),
        ):
            await run_workers(workers, stop)


def main() -> None:
    from runtime import eventloop
    from runtime.allocator import limit_arenas
    from runtime.worker_pool import CORE_ENV

    limit_arenas()  # before the SDK's and the pools' threads exist (runtime/allocator.py)
    core = os.environ.get(CORE_ENV)
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(core)})  # one of `voxflow worker --processes N`
    try:
        settings = load_settings()
    except SettingsError as exc:
        _exit_misconfigured(exc)
    configure_logging(settings)
    tracer_provider = configure_tracing(settings, "voxflow-worker")
    try:
        with (
            contextlib.suppress(KeyboardInterrupt),
            worker_metrics_server(settings) as bound,
        ):
            if bound is not None:
                print(
                    f"voxflow worker: metrics on http://{bound[0]}:{bound[1]}/metrics", flush=True
                )
            eventloop.run(serve(settings), settings.event_loop)
    except SettingsError as exc:  # found at start-up, e.g. an inbound route's unknown tenant
        _exit_misconfigured(exc)
    finally:
        if tracer_provider is not None:
            tracer_provider.shutdown()  # flushes the spans still batched


def _exit_misconfigured(exc: SettingsError) -> NoReturn:
    """Say what is wrong with the configuration and exit 2, as every `voxflow` command does."""
    print(f"error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(2)


if __name__ == "__main__":
    main()

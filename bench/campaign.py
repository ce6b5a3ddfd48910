"""Dial attempts per second through the full campaign path, beside bare Temporal.

Both measured in the same run, on the same Temporal dev server (in memory, headless):

  bare     - N workflows that each run one trivial activity (temporalio's floor here);
  campaign - one CampaignWorkflow over N contacts: contacts read from the embedded
             PostgreSQL page by page, one ContactWorkflow each (sandboxed, as in production),
             a dial slot from the campaign's pacing (reserved in the start input while pacing
             has room), begin_attempt (the attempt recorded, this worker's route), the dial
             activity (window check, do-not-call check and claim in one statement, AMI
             Originate to the simulated PBX, which answers busy), the result recorded. No
             conversation.

Rate = contacts (= dial attempts) / wall time from start to the last result. The worker runs
in this process (one shared-queue worker, one call-queue worker, as ``voxflow worker`` does).

``--observability on`` runs the campaign as a worker with ``VOXFLOW_METRICS=on`` and
``VOXFLOW_TRACING`` on does: its Temporal client carries the tracing interceptor (spans for
every workflow and activity, plus voxflow's originate spans) into an OpenTelemetry SDK provider
whose batch processor exports to memory (no network: the cost measured is making and batching
the spans), the Temporal SDK serves its Prometheus endpoint, and both metrics endpoints are
scraped once a second. ``both`` runs the campaign with it off, then on, ``--rounds`` times in
one run, after an unreported warm-up campaign (the first campaign of a process pays the
workflow sandbox's imports).
Usage: .venv/bin/python bench/campaign.py [--contacts 300] [--concurrency 50]
[--observability off|on|both] [--rounds 1]

``--workers 1,2,4``: the campaign instead runs on that many real worker processes
(``python -m runtime.worker``, as ``voxflow worker`` starts them), each beside a simulated PBX
of its own (a process too), all on the same dev server and PostgreSQL; one campaign per
count, each after a bare figure of its own, taken just before it on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from temporalio import activity, workflow  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from dsl import load_flow  # noqa: E402
from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule, Pacing  # noqa: E402
from runtime.client import connect, start_campaign  # noqa: E402
from runtime.contacts.importer import Contact  # noqa: E402
from runtime.db import connect as db_connect  # noqa: E402
from runtime.db import contacts, create_pool, migrate  # noqa: E402
from runtime.db.campaigns import create_campaign  # noqa: E402
from runtime.db.flows import save_flow  # noqa: E402
from runtime.dev.postgres import start_embedded  # noqa: E402
from runtime.dev.temporal import start_dev_server, stop_process  # noqa: E402
from runtime.observability.exposition import temporal_runtime, worker_metrics_server  # noqa: E402
from runtime.observability.tracing import temporal_interceptors  # noqa: E402
from runtime.settings import load_settings  # noqa: E402
from runtime.worker import build_workers, run_workers  # noqa: E402
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignPlan  # noqa: E402
from telephony.ami.client import AmiSettings  # noqa: E402
from telephony.ami.gateway import AsteriskGateway  # noqa: E402
from telephony.sim import SimPBX, load_scenarios, originates_per_attempt  # noqa: E402
from tests.faults.processes import start_sim, start_worker, worker_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@activity.defn
async def bare_activity(n: int) -> int:
    return n + 1


@workflow.defn(sandboxed=False)  # defined in __main__; sandboxing would only slow the floor
class BareWorkflow:
    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(
            bare_activity, n, start_to_close_timeout=timedelta(seconds=30)
        )


async def bare_rate(client, count: int) -> float:
    async with Worker(
        client, task_queue="bench-bare", workflows=[BareWorkflow], activities=[bare_activity]
    ):
        start = time.perf_counter()
        handles = await asyncio.gather(
            *(
                client.start_workflow(
                    BareWorkflow.run, i, id=f"bare-{i}-{time.time_ns()}", task_queue="bench-bare"
                )
                for i in range(count)
            )
        )
        await asyncio.gather(*(h.result() for h in handles))
        return count / (time.perf_counter() - start)


async def campaign_rate(
    client, pool, tmp: Path, count: int, concurrency: int, name: str = "bench"
) -> tuple[float, int]:
    plan, numbers = await store_campaign(pool, name, "+1555020", count, concurrency)
    scenarios = tmp / "scenarios.json"
    scenarios.write_text(json.dumps({"ring_ms": 20, "max_concurrent": 1000, "numbers": numbers}))
    log = tmp / f"originates-{name}.jsonl"
    async with SimPBX(load_scenarios(scenarios), log_path=log, secret="voxflow") as pbx:
        host, port = pbx.ami_address
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), "127.0.0.1:9"
        )
        stop = asyncio.Event()
        workers = build_workers(
            client,
            pool=pool,
            gateway=gateway,
            audiosocket="127.0.0.1:9",
            max_concurrent_calls=concurrency * 2,
        )
        runner = asyncio.create_task(run_workers(workers, stop))
        try:
            start = time.perf_counter()
            handle = await start_campaign(
                client,
                plan,
                task_queue=SHARED_TASK_QUEUE,
                page_size=100,
                max_live=2000,
            )
            result = await handle.result()
            elapsed = time.perf_counter() - start
        finally:
            stop.set()
            await runner
            await gateway.close()
    dialled = sum(originates_per_attempt(log).values())
    assert result.finished == count, result
    return dialled / elapsed, dialled


class Observed:
    """Metrics and tracing on, as a worker with ``VOXFLOW_METRICS=on`` and tracing has them."""

    def __init__(self, address: str) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.address = address
        self.spans = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(BatchSpanProcessor(self.spans))
        trace.set_tracer_provider(self.provider)
        self.settings = load_settings(
            {
                "VOXFLOW_METRICS": "on",
                "VOXFLOW_METRICS_PORT": "0",
                "VOXFLOW_TEMPORAL_METRICS_PORT": str(_free_port()),
                "VOXFLOW_TRACING": "console",  # the interceptor; spans go to self.spans
            }
        )
        self.scrapes = 0

    async def client(self):
        return await connect(
            self.address,
            interceptors=temporal_interceptors(self.settings),
            runtime=temporal_runtime(self.settings),
        )

    async def scrape(self, stop: asyncio.Event) -> None:
        """Both metrics endpoints, once a second, until ``stop``."""
        s = self.settings
        with worker_metrics_server(s) as bound:
            assert bound is not None
            urls = [
                f"http://{bound[0]}:{bound[1]}/metrics",
                f"http://{s.metrics_host}:{s.temporal_metrics_port}/metrics",
            ]
            async with httpx.AsyncClient() as http:
                while not stop.is_set():
                    for url in urls:
                        (await http.get(url)).raise_for_status()
                    self.scrapes += 1
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def observed_rate(
    observed: Observed, client, pool, tmp: Path, count: int, concurrency: int, name: str
) -> tuple:
    stop = asyncio.Event()
    observed.scrapes = 0
    scraper = asyncio.create_task(observed.scrape(stop))
    try:
        rate, dialled = await campaign_rate(client, pool, tmp, count, concurrency, name)
    finally:
        stop.set()
        await scraper
    observed.provider.force_flush()
    spans = len(observed.spans.get_finished_spans())
    observed.spans.clear()
    return rate, dialled, spans, observed.scrapes


async def store_campaign(pool, name: str, prefix: str, count: int, concurrency: int):
    """A campaign of ``count`` contacts whose callees all answer busy; its plan and numbers."""
    numbers = {f"{prefix}{i:04d}": {"result": "busy"} for i in range(count)}
    campaign = Campaign(
        name=name,
        contacts=ContactsSource(kind="csv", location="none.csv"),
        windows=(CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),),
        rules=(OutcomeRule("busy", "final"),),
        pacing=Pacing(max_concurrent=concurrency),
        ring_timeout_ms=5_000,
    )
    flow = dataclasses.replace(load_flow(ROOT / "flows" / "reminder.flow"), campaign=campaign)
    flow_hash = await save_flow(pool, flow)
    await create_campaign(pool, name, flow_hash)
    await contacts.store_contacts(
        pool,
        name,
        [Contact(f"{name}-{i:05d}", p, "UTC", "default", "", i, {}, {})
         for i, p in enumerate(numbers)],
    )  # fmt: skip
    return CampaignPlan(name, flow_hash, campaign), numbers


async def campaign_rate_processes(
    client, pool, pg_url: str, temporal: str, tmp: Path, count: int, concurrency: int, n: int
) -> tuple[float, int, list[int]]:
    """Dial attempts per second with ``n`` worker processes, each beside its own PBX."""
    plan, numbers = await store_campaign(pool, f"bench-w{n}", f"+1555{n:02d}1", count, concurrency)
    processes, logs = [], []
    try:
        for m in range(n):
            scenarios, log = tmp / f"scenarios-{n}-{m}.json", tmp / f"originates-{n}-{m}.jsonl"
            scenarios.write_text(
                json.dumps({"ring_ms": 20, "max_concurrent": 1000, "numbers": numbers})
            )
            sim, ami_port = await start_sim(scenarios, log, tmp / f"sim-{n}-{m}.out")
            processes.append(sim)
            logs.append(log)
            env = worker_env(temporal, pg_url, ami_port)
            env.update({"VOXFLOW_MAX_CALLS": str(concurrency * 2), "VOXFLOW_STATE_DIR": str(tmp)})
            out = tmp / f"worker-{n}-{m}.out"
            processes.append(await start_worker(env, out))
            while b"voxflow worker: queue" not in (out.read_bytes() if out.exists() else b""):
                if processes[-1].returncode is not None:
                    raise RuntimeError(f"worker exited, see {out}")
                await asyncio.sleep(0.2)
        start = time.perf_counter()
        handle = await start_campaign(
            client,
            plan,
            page_size=100,
            max_live=2000,
            task_queue=SHARED_TASK_QUEUE,
        )
        result = await handle.result()
        elapsed = time.perf_counter() - start
    finally:
        for process in processes:
            await stop_process(process)
    per_pbx = [sum(originates_per_attempt(log).values()) for log in logs]
    assert result.finished == count, result
    return sum(per_pbx) / elapsed, sum(per_pbx), per_pbx


def stop_on_sigterm() -> None:
    """SIGTERM (``timeout``, ``kill``) cancels the running main task, so the servers and
    processes it started are stopped by its ``finally`` blocks instead of being orphaned."""
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)


@dataclasses.dataclass
class Stack:
    """What a campaign bench runs on: a scratch folder, the embedded PostgreSQL (migrated, with
    a pool) and a Temporal dev server with a client."""

    tmp: Path
    pg: Any
    server: Any
    pool: Any
    client: Any


@contextlib.asynccontextmanager
async def bench_stack() -> AsyncIterator[Stack]:
    """Start the embedded PostgreSQL and a dev server in a scratch folder; stop both (and the
    pool) however the bench ends, SIGTERM included (:func:`stop_on_sigterm`)."""
    stop_on_sigterm()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        pg = await asyncio.to_thread(start_embedded, tmp / "pg")
        try:
            server = await start_dev_server(tmp / "temporal", ui=False, persistent=False)
            try:
                conn = await db_connect(pg.url)
                await migrate(conn)
                await conn.close()
                pool = await create_pool(pg.url)
                try:
                    yield Stack(tmp, pg, server, pool, await server.client())
                finally:
                    await pool.close()
            finally:
                await server.stop()
        finally:
            await asyncio.to_thread(pg.stop)


async def main_workers(count: int, concurrency: int, counts: list[int]) -> None:
    async with bench_stack() as stack:
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {count} contacts, "
              f"pacing {concurrency}")  # fmt: skip
        print(f"{'workers':>7} {'load':>5} {'bare /s':>8} {'campaign /s':>11} {'ratio':>6} "
              f"{'x 1 worker':>10}  originates per PBX")  # fmt: skip
        first = None
        for n in counts:
            load = os.getloadavg()[0]
            bare = await bare_rate(stack.client, count)
            rate, _, per_pbx = await campaign_rate_processes(
                stack.client, stack.pool, stack.pg.url, stack.server.address, stack.tmp,
                count, concurrency, n,
            )  # fmt: skip
            first = first or rate
            print(f"{n:>7} {load:>5.2f} {bare:>8.1f} {rate:>11.1f} {rate / bare:>6.2f} "
                  f"{rate / first:>10.2f}  {per_pbx}", flush=True)  # fmt: skip
    print("load = 1-minute load average before the pair; bare = temporalio workflow+activity in "
          "this process, just before the campaign on the same dev server.")  # fmt: skip


async def main(count: int, concurrency: int, observability: str, rounds: int) -> None:
    async with bench_stack() as stack:
        client, pool, tmp = stack.client, stack.pool, stack.tmp
        load = os.getloadavg()[0]
        bare = await bare_rate(client, count)
        rows = []
        observed = observed_client = None
        if observability != "off":
            observed = Observed(stack.server.address)
            observed_client = await observed.client()
        await campaign_rate(client, pool, tmp, 20, concurrency, "warm-up")
        for n in range(rounds):
            if observability in ("off", "both"):
                load = os.getloadavg()[0]
                rate, dialled = await campaign_rate(
                    client, pool, tmp, count, concurrency, f"bench-off-{n}"
                )
                rows.append(("off", load, rate, dialled, ""))
            if observed is not None:
                load = os.getloadavg()[0]
                rate, dialled, spans, scrapes = await observed_rate(
                    observed, observed_client, pool, tmp, count, concurrency, f"bench-on-{n}"
                )
                extra = f"; {spans} spans, {scrapes} scrapes"
                rows.append(("on", load, rate, dialled, extra))
        if observed is not None:
            observed.provider.shutdown()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    print(f"bare workflow+activity : {bare:8.1f} /s ({count} workflows)")
    for mode, load, rate, dialled, extra in rows:
        print(
            f"campaign dial attempts, observability {mode:>3}: {rate:8.1f} /s"
            f" ({dialled} originates, pacing {concurrency}; load avg before {load:.2f}{extra})"
        )
        print(f"ratio campaign / bare  : {rate / bare:8.2f} (target >= 0.5)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--observability", choices=["off", "on", "both"], default="off")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--workers",
        default=None,
        help="comma-separated worker process counts, e.g. 1,2,4 (each beside its own PBX)",
    )
    args = parser.parse_args()
    if args.workers:
        counts = [int(n) for n in args.workers.split(",")]
        asyncio.run(main_workers(args.contacts, args.concurrency, counts))
    else:
        asyncio.run(main(args.contacts, args.concurrency, args.observability, args.rounds))

"""How long one workflow activation of a campaign takes, against the SDK's deadlock detector.

The Python SDK fails a workflow task whose activation runs longer than 2 s in its thread
(temporalio/worker/_workflow.py, ``_deadlock_timeout_seconds``); production workers keep that
detector on. ``CampaignWorkflow`` starts a whole page of contact workflows (up to
``page_size``, 100) in one activation. This bench runs the production worker
(``runtime.worker.build_workers``: sandboxed workflows, sticky cache on, the PostgreSQL
activities, a simulated PBX) on a Temporal dev server, through ``bench/campaign.py``'s campaign
path with pacing at 100 so that one slot grant starts 100 children in one activation, and
times every activation in the worker thread that runs it: wall time (what the detector
measures) and that thread's CPU time.

Rounds: a warm-up campaign (the first of a process pays the sandbox's imports), a campaign on
the machine as it is, then the same with ``--hogs`` busy-looping processes on the same cores.
Usage: .venv/bin/python bench/campaign_activation.py [--contacts 300] [--hogs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.worker import (  # noqa: E402
    Replayer,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)

import runtime.worker  # noqa: E402
from bench.campaign import bench_stack, campaign_rate  # noqa: E402
from runtime.workflows import search  # noqa: E402
from runtime.workflows.sandbox import workflow_runner  # noqa: E402

DEADLOCK_S = 2.0
"""The SDK's deadlock timeout per activation (temporalio/worker/_workflow.py)."""


HOG = "import time\nend = time.monotonic() + 600\nwhile time.monotonic() < end: pass"
"""A busy loop that ends by itself (killed sooner when the round ends)."""


@dataclass
class Activation:
    workflow_type: str
    wall_s: float
    cpu_s: float
    children_started: int
    commands: int
    replaying: bool


class TimedInstance(WorkflowInstance):
    """Delegates to the real instance; times each ``activate`` in the thread that runs it."""

    def __init__(self, inner: WorkflowInstance, samples: list[Activation]) -> None:
        self._inner = inner
        self._samples = samples

    def activate(self, act):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.thread_time()
        completion = self._inner.activate(act)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        commands = completion.successful.commands if completion.HasField("successful") else []
        self._samples.append(
            Activation(
                self._inner.get_info().workflow_type,
                wall,
                cpu,
                sum(1 for c in commands if c.HasField("start_child_workflow_execution")),
                len(commands),
                act.is_replaying,
            )
        )
        return completion

    def get_serialization_context(self, command_info):  # type: ignore[no-untyped-def]
        return self._inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info):  # type: ignore[no-untyped-def]
        return self._inner.get_external_store_context(command_info)

    def get_info(self):  # type: ignore[no-untyped-def]
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


class TimedRunner(WorkflowRunner):
    def __init__(self, inner: WorkflowRunner, samples: list[Activation]) -> None:
        self._inner = inner
        self._samples = samples

    def prepare_workflow(self, defn) -> None:  # type: ignore[no-untyped-def]
        self._inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return TimedInstance(self._inner.create_instance(det), self._samples)

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]):  # type: ignore[no-untyped-def]
        self._inner.set_worker_level_failure_exception_types(types)


def summary(label: str, samples: list[Activation], load: float) -> list[str]:
    campaign = [s for s in samples if s.workflow_type == "CampaignWorkflow"]
    contact = [s for s in samples if s.workflow_type == "ContactWorkflow"]
    widest = max(campaign, key=lambda s: (s.children_started, s.wall_s))
    slowest = max(campaign, key=lambda s: s.wall_s)
    walls = sorted(s.wall_s for s in contact)
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
    return [
        f"{label} (load avg before {load:.2f}):",
        f"  campaign activations {len(campaign)}, replayed {sum(s.replaying for s in campaign)};"
        f" most children started in one: {widest.children_started}"
        f" ({widest.commands} commands) in {widest.wall_s * 1000:.1f} ms wall,"
        f" {widest.cpu_s * 1000:.1f} ms CPU",
        f"  slowest campaign activation: {slowest.wall_s * 1000:.1f} ms wall,"
        f" {slowest.cpu_s * 1000:.1f} ms CPU ({slowest.children_started} children started);"
        f" deadlock timeout {DEADLOCK_S * 1000:.0f} ms",
        f"  contact activations {len(contact)}: p50 {statistics.median(walls) * 1000:.2f} ms,"
        f" p99 {p99 * 1000:.2f} ms, max {walls[-1] * 1000:.2f} ms wall",
    ]


def replay_summary(events: int, samples: list[Activation], load: float) -> list[str]:
    slowest = max(samples, key=lambda s: s.wall_s)
    return [
        f"replay of the {events}-event campaign history (load avg before {load:.2f}):",
        f"  {len(samples)} activations, {sum(s.wall_s for s in samples) * 1000:.0f} ms in all;"
        f" slowest {slowest.wall_s * 1000:.1f} ms wall, {slowest.cpu_s * 1000:.1f} ms CPU"
        f" ({slowest.children_started} children started)",
    ]


def show(lines: list[str]) -> None:
    """Print a round's figures as it ends, so a run cut short still shows what it measured."""
    print("\n".join(lines), flush=True)


async def main(count: int, hogs: int) -> None:
    samples: list[Activation] = []
    runtime.worker.workflow_runner = lambda: TimedRunner(workflow_runner(), samples)
    async with bench_stack() as stack:
        client, pool, tmp = stack.client, stack.pool, stack.tmp
        load = os.getloadavg()[0]
        await campaign_rate(client, pool, tmp, 100, 100, "warm-up")
        show(summary("warm-up, 100 contacts", samples, load))
        samples.clear()
        load = os.getloadavg()[0]
        await campaign_rate(client, pool, tmp, count, 100, "idle")
        show(summary(f"as is, {count} contacts", samples, load))
        samples.clear()
        hogging = [
            await asyncio.create_subprocess_exec(sys.executable, "-c", HOG) for _ in range(hogs)
        ]
        try:
            await asyncio.sleep(1)
            load = os.getloadavg()[0]
            await campaign_rate(client, pool, tmp, count, 100, "hogged")
        finally:
            for process in hogging:
                process.kill()
                await process.wait()
        show(summary(f"{hogs} CPU hogs, {count} contacts", samples, load))
        # A worker that lost its cache (evicted, restarted) replays the history, one
        # activation per workflow task, as the time-skipping test server always does.
        samples.clear()
        history = await client.get_workflow_handle(
            search.campaign_workflow_id("idle")
        ).fetch_history()
        replayer = Replayer(
            workflows=list(runtime.worker.WORKFLOWS),
            data_converter=pydantic_data_converter,
            workflow_runner=TimedRunner(workflow_runner(), samples),
        )
        load = os.getloadavg()[0]
        await replayer.replay_workflow(history)
        show(replay_summary(len(history.events), samples, load))
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--hogs", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.contacts, args.hogs))

"""Where the wall time of a large campaign dry-run goes: samples while it runs.

Runs ``bench/simulate.py``'s campaign (flows/reminder.flow, N synthetic contacts over seven
zones) for at most ``--budget`` seconds of wall time and prints, every ``--every`` seconds:
the simulated clock (the last dial's time), the dials and activity calls so far, the clock
nudges (time skipping unlocked again after ``runtime.dryrun.run.NUDGE`` without progress), the
CPU seconds used by this process (the worker: workflow tasks, replays) and by the test server
process, and the campaign workflow's history length. ``--nudge`` changes NUDGE for the run.
Usage: .venv/bin/python bench/simulate_profile.py --contacts 1000 --budget 360 --nudge 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from datetime import date, timedelta
from pathlib import Path

from bench.simulate import contacts
from dsl import load_flow
from runtime.dryrun import default_mix, run
from runtime.dryrun.run import SimulationInput

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children() -> list[int]:
    me = os.getpid()
    pids = []
    for task in Path(f"/proc/{me}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=None)
    parser.add_argument("--budget", type=float, default=360.0)
    parser.add_argument("--every", type=float, default=30.0)
    parser.add_argument("--nudge", type=float, default=run.NUDGE.total_seconds())
    args = parser.parse_args()
    run.NUDGE = timedelta(seconds=args.nudge)
    seen: dict[str, object] = {}
    real_ledger, real_server = run.Ledger, run.time_skipping_server

    def ledger(*a: object, **k: object) -> run.Ledger:
        seen["ledger"] = real_ledger(*a, **k)
        return seen["ledger"]

    @contextlib.asynccontextmanager
    async def server(**k: object):
        async with real_server(**k) as env:
            seen["env"] = env
            yield env

    run.Ledger, run.time_skipping_server = ledger, server  # observe, change nothing
    flow = load_flow(ROOT / "flows" / "reminder.flow")
    began = time.perf_counter()
    task = asyncio.create_task(
        run.simulate(
            SimulationInput(flow, contacts(args.contacts), args.days, default_mix(flow), args.start)
        )
    )
    print(f"{args.contacts} contacts x {args.days} days, NUDGE {args.nudge:g} s", flush=True)
    print("wall_s  sim_clock          dials  calls  nudges  worker_cpu_s  server_cpu_s  history")
    while not task.done() and time.perf_counter() - began < args.budget:
        await asyncio.wait({task}, timeout=args.every)
        led = seen.get("ledger")
        env = seen.get("env")
        history = "-"
        if env is not None:
            with contextlib.suppress(Exception):
                handle = env.client.get_workflow_handle(f"campaign/dryrun-{flow.campaign.name}")
                history = str(
                    (await handle.describe()).raw_description.workflow_execution_info.history_length
                )
        last = max((d.at for d in led.dials), default=None) if led else None
        server_cpu = sum(_cpu_of(p) for p in _children())
        t = os.times()
        print(
            f"{time.perf_counter() - began:6.0f}  {last:%a %d %H:%M} UTC"
            if last
            else f"{time.perf_counter() - began:6.0f}  -                ",
            f"{len(led.dials) if led else 0:5d}  {led.calls if led else 0:5d}"
            f"  {led.clock_nudges if led else 0:6d}  {t.user + t.system:12.1f}"
            f"  {server_cpu:12.1f}  {history}",
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    if task.done():
        report = task.result()
        print(f"finished: wall {time.perf_counter() - began:.1f} s, dials {report.dials_total}")
    else:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        print(f"stopped at the budget ({args.budget:g} s of wall time)")


if __name__ == "__main__":
    asyncio.run(main())

"""Wall time of a campaign dry-run (``voxflow campaign simulate``) for N contacts over D days.

The demo flow (flows/reminder.flow: weekday and Saturday windows, US/GB/FR holidays, retries,
callbacks, pacing 5 concurrent, 20 per minute) over N synthetic contacts spread over the demo
contacts' time zones, on the time-skipping test server, with the default outcome mix. Prints
the wall time, the dials, the compliance counts and the load average before and after.
Usage: .venv/bin/python bench/simulate.py [--contacts 1000] [--days 7] [--from 2026-12-07]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from datetime import date
from pathlib import Path

from dsl import load_flow
from runtime.dryrun import default_mix, simulate
from runtime.dryrun.run import SimulationInput
from runtime.workflows.messages import ContactRef

ROOT = Path(__file__).resolve().parents[1]
ZONES = (
    ("America/New_York", "+1212555"),
    ("America/Chicago", "+1312555"),
    ("America/Los_Angeles", "+1415555"),
    ("Europe/London", "+4420755"),
    ("Europe/Paris", "+3315555"),
    ("Asia/Kolkata", "+9122555"),
    ("Australia/Sydney", "+6129555"),
)


def contacts(count: int) -> list[ContactRef]:
    out = []
    for i in range(count):
        zone, prefix = ZONES[i % len(ZONES)]
        out.append(
            ContactRef(
                f"c{i:05d}",
                f"{prefix}{i:04d}",
                zone,
                f"Contact {i}",
                {"first_name": f"Contact{i}", "appointment_at": "2026-12-20T10:00:00+00:00"},
            )
        )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=None)
    parser.add_argument("--max-live", type=int, default=1000)
    args = parser.parse_args()
    flow = load_flow(ROOT / "flows" / "reminder.flow")
    load_before = os.getloadavg()
    began = time.perf_counter()
    cpu_before = sum(os.times()[:2])
    report = await simulate(
        SimulationInput(
            flow,
            contacts(args.contacts),
            args.days,
            default_mix(flow),
            args.start,
            max_live=args.max_live,
        )
    )
    wall = time.perf_counter() - began
    cpu = sum(os.times()[:2]) - cpu_before
    load_after = os.getloadavg()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"{args.contacts} contacts x {args.days} days from {report.started:%Y-%m-%d %H:%M} UTC")
    print(f"wall time {wall:.1f} s, CPU of this process (the workers) {cpu:.1f} s")
    print(
        f"dials in {args.days} days {report.dials} (all {report.dials_total}),"
        f" retries {report.retries}, callbacks {report.callbacks},"
        f" outside windows {report.outside_window}, on holidays {report.on_holiday},"
        f" peak concurrency {report.peak_concurrency}"
    )
    print(f"final within {args.days} days {report.final_within}, completed {report.completed_at}")
    print(
        f"lost results {report.lost_results}, leaked locks released {report.leaked_locks},"
        f" clock nudges {report.clock_nudges}, wedges (made again) {len(report.wedges)}"
    )
    for wedge in report.wedges:
        print(f"  wedged: {wedge}")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)")


if __name__ == "__main__":
    asyncio.run(main())

"""Soak: many whole calls through one worker process; its memory and open files sampled.

Run: ``.venv/bin/python bench/soak.py [--calls 1000] [--concurrency 8] [--every 5]``

Stack (all real processes on loopback): the Temporal dev server and the embedded PostgreSQL
(in this process's children), one simulated PBX (``python -m telephony.sim``) whose callees
answer, wait for the agent's greeting and say "Yes, I'll be there", and one worker
(``python -m runtime.worker``: AudioSocket server, engine, local provider, stereo recorder
writing a WAV per call). One campaign of ``--calls`` contacts on ``flows/reminder.flow``,
``--concurrency`` calls at once. Each call: the greeting, the callee's answer, the move to
``confirmed``, the goodbye, the hang-up; a few seconds of audio each way.

Every ``--every`` seconds: the worker's resident memory (``VmRSS`` in ``/proc/<pid>/status``),
its open file descriptors (``/proc/<pid>/fd``), the calls finished so far and the calls live
on the PBX at that moment (answered minus ended, from the PBX's own log). Printed at the end:
RSS after the first tenth of the calls (warm: imports, caches, pools) and at the end, the
slope of RSS against calls finished over the last nine tenths (growth per 1,000 calls, which
a leak shows and live calls do not), memory per live call (from the samples, RSS against live
calls), and fds likewise.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsl import load_flow  # noqa: E402
from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule, Pacing  # noqa: E402
from runtime.client import start_campaign  # noqa: E402
from runtime.contacts.importer import Contact  # noqa: E402
from runtime.db import connect as db_connect  # noqa: E402
from runtime.db import contacts, create_pool, migrate  # noqa: E402
from runtime.db.campaigns import create_campaign  # noqa: E402
from runtime.db.flows import save_flow  # noqa: E402
from runtime.dev.postgres import start_embedded  # noqa: E402
from runtime.dev.temporal import start_dev_server, stop_process  # noqa: E402
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignPlan  # noqa: E402
from telephony.sim import read_log  # noqa: E402
from tests.faults.processes import start_sim, start_worker, worker_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _live(log: Path) -> tuple[int, int]:
    """(calls live on the PBX now, calls ended) from its log."""
    answered = ended = 0
    for r in read_log(log):
        if r.get("type") == "result" and r.get("result") == "answered":
            answered += 1
        elif r.get("type") == "hangup":
            ended += 1
    return max(0, answered - ended), ended


def _slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


async def soak(calls: int, concurrency: int, every: float) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        pg = await asyncio.to_thread(start_embedded, tmp / "pg")
        temporal = await start_dev_server(tmp / "temporal", ui=False, persistent=False)
        processes = []
        try:
            conn = await db_connect(pg.url)
            await migrate(conn)
            await conn.close()
            pool = await create_pool(pg.url)
            client = await temporal.client()
            campaign = Campaign(
                name="soak",
                contacts=ContactsSource(kind="csv", location="none.csv"),
                windows=(CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),),
                rules=tuple(
                    OutcomeRule(o, "final")
                    for o in (
                        "confirmed",
                        "rescheduled",
                        "cancelled",
                        "completed",
                        "hung_up",
                        "no_answer",
                        "busy",
                        "failed",
                        "unknown",
                    )
                ),  # fmt: skip
                pacing=Pacing(max_concurrent=concurrency),
                ring_timeout_ms=10_000,
            )
            flow = dataclasses.replace(
                load_flow(ROOT / "flows" / "reminder.flow"), campaign=campaign
            )
            flow_hash = await save_flow(pool, flow)
            await create_campaign(pool, "soak", flow_hash)
            fields = {"first_name": "Ada", "appointment_at": "2026-12-08T15:30:00+00:00"}
            await contacts.store_contacts(
                pool,
                "soak",
                [Contact(f"s{i:05d}", f"+1212555{i:04d}", "UTC", "default", "Ada", i, {},
                         {**fields, "id": f"s{i:05d}", "phone": f"+1212555{i:04d}"})
                 for i in range(calls)],
            )  # fmt: skip
            scenarios, log = tmp / "scenarios.json", tmp / "pbx.jsonl"
            scenarios.write_text(json.dumps({
                "ring_ms": 200, "max_concurrent": concurrency * 2,
                "default": {"answer_after_rings": 1, "script": [{"say": "Yes, I'll be there."}]},
            }))  # fmt: skip
            sim, ami_port = await start_sim(scenarios, log, tmp / "sim.out")
            processes.append(sim)
            env = worker_env(temporal.address, pg.url, ami_port)
            env.update(
                {"VOXFLOW_STATE_DIR": str(tmp / "state"), "VOXFLOW_MAX_CALLS": str(concurrency * 2)}
            )
            out = tmp / "worker.out"
            worker = await start_worker(env, out)
            processes.append(worker)
            while b"voxflow worker: queue" not in (out.read_bytes() if out.exists() else b""):
                if worker.returncode is not None:
                    raise RuntimeError(out.read_text())
                await asyncio.sleep(0.2)
            print(f"worker pid {worker.pid} up; RSS {_rss_kib(worker.pid) / 1024:.1f} MiB, "
                  f"fds {_fds(worker.pid)}; load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
            start = time.monotonic()
            handle = await start_campaign(client, CampaignPlan("soak", flow_hash, campaign),
                                          page_size=100, max_live=2000, task_queue=SHARED_TASK_QUEUE)  # fmt: skip
            result_task = asyncio.create_task(handle.result())
            samples: list[tuple[float, int, int, int, int]] = []
            while not result_task.done():
                live, ended = _live(log)
                samples.append((time.monotonic() - start, ended, live,
                                _rss_kib(worker.pid), _fds(worker.pid)))  # fmt: skip
                if len(samples) % 12 == 1:
                    t, e, lv, rss, fd = samples[-1]
                    print(f"  {t:6.0f} s  calls ended {e:5d}  live {lv:3d}  RSS {rss / 1024:7.1f} MiB"
                          f"  fds {fd:4d}  load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
                await asyncio.wait({result_task}, timeout=every)
            result = result_task.result()
            elapsed = time.monotonic() - start
            await asyncio.sleep(3)
            idle_rss, idle_fds = _rss_kib(worker.pid), _fds(worker.pid)
            answered = sum(1 for r in read_log(log) if r.get("result") == "answered")
            await pool.close()
        finally:
            for process in reversed(processes):
                await stop_process(process)
            await temporal.stop()
            await asyncio.to_thread(pg.stop)
    warm = [s for s in samples if s[1] >= calls / 10]
    print(f"{calls} contacts, {result.finished} settled, {answered} answered calls, in {elapsed:.0f} s "
          f"({concurrency} at once); outcomes {dict(result.outcomes)}")  # fmt: skip
    if warm:
        rss_slope = _slope([s[1] for s in warm], [s[3] for s in warm]) * 1000 / 1024
        fd_slope = _slope([s[1] for s in warm], [s[4] for s in warm]) * 1000
        per_live = _slope([s[2] for s in warm], [s[3] for s in warm])
        print(f"RSS warm (after {calls // 10} calls) {warm[0][3] / 1024:.1f} MiB, max "
              f"{max(s[3] for s in warm) / 1024:.1f} MiB, end {warm[-1][3] / 1024:.1f} MiB, "
              f"idle after the campaign {idle_rss / 1024:.1f} MiB")  # fmt: skip
        print(f"RSS growth over the last nine tenths: {rss_slope:+.2f} MiB per 1,000 calls "
              f"(least squares); memory per live call: {per_live:.0f} KiB (RSS against live calls)")  # fmt: skip
        print(f"fds warm {warm[0][4]}, max {max(s[4] for s in warm)}, end {warm[-1][4]}, idle {idle_fds}; "
              f"growth {fd_slope:+.2f} per 1,000 calls")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(soak(args.calls, args.concurrency, args.every))


if __name__ == "__main__":
    main()

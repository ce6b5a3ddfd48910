"""Webhook figures on the embedded PostgreSQL and a loopback receiver:

* what the outbox adds to the end of a call (``calls.end_call``): with no endpoint, and with
  one endpoint (the event and one delivery written in the call's transaction), against the
  same end of call as it was before webhooks (its transaction without the event: baseline);
* delivery rate of one and of two dispatchers (``VOXFLOW_WEBHOOK_CONCURRENCY`` loops each)
  to a receiver answering 200 at once.

Run: .venv/bin/python bench/webhooks.py   (prints figures; asserts nothing)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime import tenancy  # noqa: E402
from runtime.db import calls, create_pool, migrate, webhooks  # noqa: E402
from runtime.dev.postgres import start_embedded  # noqa: E402
from runtime.settings import load_settings  # noqa: E402
from runtime.webhooks.dispatcher import Dispatcher  # noqa: E402
from tests.webhooks.receiver import receiver  # noqa: E402

CALLS = 1_000
EVENTS = 1_000


async def _end_calls(pool: asyncpg.Pool, prefix: str, baseline: bool) -> float:
    """Median milliseconds of one end of call."""
    times = []
    for i in range(CALLS):
        call_id = f"{prefix}-{i}"
        await calls.start_call(pool, call_id, campaign="bench", contact=f"c{i}")
        start = time.perf_counter()
        if baseline:  # end_call as it was before webhooks: its transaction, no event
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO calls (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", call_id
                )
                await conn.execute(
                    "UPDATE calls SET outcome = $2, node_path = $3, turns = 4,"
                    " duration_ms = 9000, ended_at = now() WHERE id = $1",
                    call_id,
                    "confirmed",
                    ["greet", "confirmed"],
                )
        else:
            await calls.end_call(
                pool,
                call_id,
                outcome="confirmed",
                node_path=["greet", "confirmed"],
                turns=4,
                duration_ms=9000,
                slots={"day": "tuesday"},
            )
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def _deliver(pool: asyncpg.Pool, dispatchers: int, loops: int) -> float:
    """Deliveries a second of ``dispatchers`` × ``loops`` loops."""
    settings = load_settings({"VOXFLOW_WEBHOOK_TIMEOUT_S": "30"})
    with tenancy.acting_as(tenancy.PLATFORM):
        await pool.execute("DELETE FROM webhooks; DELETE FROM webhook_events")
    with receiver() as hook:
        await webhooks.create_webhook(pool, hook.url, events=[])
        async with pool.acquire() as conn, conn.transaction():
            for i in range(EVENTS):
                await webhooks.emit(conn, "contact.opted_out", f"d{dispatchers}-{i}", {"i": i})
        ds = [Dispatcher(pool, settings, idle_s=0.05) for _ in range(dispatchers)]
        stop = asyncio.Event()
        start = time.perf_counter()
        tasks = [asyncio.create_task(d.run(stop)) for d in ds for _ in range(loops)]
        for _ in range(60_000):  # at most ten minutes
            if len(hook.received) >= EVENTS:
                break
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        stop.set()
        await asyncio.gather(*tasks)
        for d in ds:
            await d.aclose()
    return EVENTS / elapsed


async def main(url: str) -> None:
    conn = await asyncpg.connect(url)
    await migrate(conn)
    await conn.close()
    pool = await create_pool(url, max_size=8)
    try:
        base = await _end_calls(pool, "base", baseline=True)
        none = await _end_calls(pool, "none", baseline=False)
        await webhooks.create_webhook(pool, "http://127.0.0.1:9/bench", events=[])
        one = await _end_calls(pool, "one", baseline=False)
        print(f"end of a call, median of {CALLS}:")
        print(f"  baseline (end_call before webhooks)     {base:.3f} ms")
        print(f"  end_call, no endpoint (nothing stored)  {none:.3f} ms")
        print(f"  end_call, one endpoint (+1 delivery)    {one:.3f} ms")
        for dispatchers, loops in ((1, 1), (1, 2), (2, 2)):
            rate = await _deliver(pool, dispatchers, loops)
            print(f"deliveries/s, {dispatchers} dispatcher(s) x {loops} loop(s): {rate:.0f}")
    finally:
        await pool.close()
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    root = Path(tempfile.mkdtemp(prefix="voxflow-bench-wh-"))
    pg = start_embedded(root / "data", database="bench")
    try:
        asyncio.run(main(pg.url))
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)

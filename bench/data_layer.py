"""Data layer figures: contacts import rate, and PostgreSQL write rates of the at-most-once
attempt bookkeeping and of transcript turns, on the embedded PostgreSQL.

Run: .venv/bin/python bench/data_layer.py   (prints figures; asserts nothing)
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from runtime.contacts import ImportOptions, import_contacts
from runtime.db import attempts, calls, create_pool, migrate
from runtime.dev.postgres import start_embedded

ROWS = 20_000
ATTEMPTS = 2_000
TURNS = 5_000


def _csv(path: Path) -> None:
    rnd = random.Random(7)
    areas = ["212", "310", "312", "415", "512", "617", "702", "808", "907"]
    with path.open("w") as f:
        f.write("id,first_name,phone,timezone,visits\n")
        for i in range(ROWS):
            tz = "" if i % 3 else "America/New_York"
            f.write(f"c{i},Name{i},+1{rnd.choice(areas)}555{i % 10000:04d},{tz},{i % 9}\n")


async def _db_bench(url: str) -> tuple[float, float]:
    conn = await asyncpg.connect(url)
    await migrate(conn)
    await conn.close()
    pool = await create_pool(url, max_size=8)
    ids = [str(uuid.uuid4()) for _ in range(ATTEMPTS)]

    async def one(i: int, attempt_id: str) -> None:
        assert await attempts.record_dialing(
            pool, attempt_id, campaign="bench", contact=f"c{i}", number=1, phone="+12125550100"
        )
        await attempts.finish_attempt(pool, attempt_id, outcome="busy", action="retry")

    start = time.perf_counter()
    sem = asyncio.Semaphore(8)

    async def bounded(i: int, a: str) -> None:
        async with sem:
            await one(i, a)

    async with asyncio.TaskGroup() as tg:
        for i, a in enumerate(ids):
            tg.create_task(bounded(i, a))
    attempt_rate = ATTEMPTS / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(TURNS):
        await calls.append_transcript(
            pool, f"call-{i // 50}", [calls.Turn(i % 50, "caller", "yes I will be there")]
        )
    turn_rate = TURNS / (time.perf_counter() - start)
    await pool.close()
    return attempt_rate, turn_rate


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="voxflow-bench-"))
    try:
        path = root / "contacts.csv"
        _csv(path)
        start = time.perf_counter()
        report = import_contacts(path, ImportOptions())
        elapsed = time.perf_counter() - start
        print(
            f"contacts import: {ROWS} rows in {elapsed:.2f} s = {ROWS / elapsed:,.0f} rows/s "
            f"({len(report.contacts)} imported, {len(report.rejected)} rejected)"
        )
        pg = start_embedded(root / "pg")
        try:
            attempt_rate, turn_rate = asyncio.run(_db_bench(pg.url))
        finally:
            pg.stop()
        print(
            f"attempt bookkeeping (record_dialing + finish_attempt, 8 concurrent): "
            f"{attempt_rate:,.0f} attempts/s"
        )
        print(f"transcript turns (one transaction each, sequential): {turn_rate:,.0f} turns/s")
        print(f"conditions: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

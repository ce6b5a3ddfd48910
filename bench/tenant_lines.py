"""Tenants on shared lines, and what tenant scoping costs each database round trip.

1. Fair lines: tenant A's 1,000-contact campaign (50 contacts claiming at once) and tenant B's
   10-contact campaign started 60 s later, on a PBX of 5 lines, calls of 15-45 s, simulated
   clock, real claims in PostgreSQL (``runtime/dryrun/lines.py``). Printed: when B's first call
   starts after B's start, and the most lines B holds, with the fair share and with the
   baseline that ignores waiting tenants (first come, first served).
2. Scoping cost: ``SELECT 1`` through voxflow's pool (each acquire sets the tenant) against a
   plain asyncpg pool of the same size on the same server, sequential, median of 2,000.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import asyncpg

from runtime import tenancy
from runtime.db import create_pool, migrate
from runtime.dev.postgres import start_embedded
from runtime.dryrun.lines import LINES, simulate_lines

QUERIES = 2_000


async def _median_query_us(pool: asyncpg.Pool) -> float:
    times = []
    for _ in range(QUERIES):
        start = time.perf_counter()
        await pool.fetchval("SELECT 1")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


async def _bench(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await conn.execute("INSERT INTO tenants (id) VALUES ('alpha'), ('beta')")
    finally:
        await conn.close()
    pool = await create_pool(url, max_size=4)
    try:
        campaigns = {"alpha": (0.0, 1000, 50), "beta": (60.0, 10, 10)}
        for label, ttl in (("fair share", None), ("baseline (waiters ignored)", timedelta(0))):
            extra = {} if ttl is None else {"wait_ttl": ttl}
            started = time.perf_counter()
            run = await simulate_lines(
                pool, campaigns, until=600, tag=label[:4], watch="beta", **extra
            )
            wall = time.perf_counter() - started
            first = run.first_start.get("beta")
            waited = "none within 540 s" if first is None else f"{first - 60.0:.1f} s"
            print(
                f"{label}: B's first call {waited} after B's start; B held up to"
                f" {run.peak_by_tenant.get('beta', 0)} of {LINES} lines; B dialled"
                f" {run.started['beta']}/10, A {run.started['alpha']}"
                f" ({wall:.1f} s wall)"
            )
        with tenancy.acting_as("alpha"):
            scoped = await _median_query_us(pool)
    finally:
        await pool.close()
    plain = await asyncpg.create_pool(url, min_size=1, max_size=4)
    try:
        unscoped = await _median_query_us(plain)
    finally:
        await plain.close()
    print(
        f"SELECT 1 through the pool: {scoped:.0f} µs median with the tenant set on acquire,"
        f" {unscoped:.0f} µs on a plain asyncpg pool (same server)"
    )


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="voxflow-bench-"))
    try:
        pg = start_embedded(root / "pg")
        try:
            asyncio.run(_bench(pg.url))
        finally:
            pg.stop()
        print(f"conditions: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

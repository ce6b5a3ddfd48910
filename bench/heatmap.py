"""Heat map cost: ``GET /flows/{name}/heatmap``'s read and count over a campaign of stored calls,
beside the bare read of the same rows, on the embedded PostgreSQL.

Figures (best of 5, wall clock): the rows read with ``fetch`` and nothing else (the baseline:
what any report over these calls pays); ``runtime.db.heatmap.load_heat_map`` (a server-side
cursor, 500 rows a round trip, JSON visits decoded, counted); ``runtime.heatmap.heat_map`` on
the same calls already in memory (the counting alone).

Run: .venv/bin/python bench/heatmap.py [--calls N]   (prints figures; asserts nothing)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from dsl import load_flow
from runtime.call.result import TimedVisit
from runtime.db import create_pool, migrate
from runtime.db.campaigns import create_campaign
from runtime.db.flows import save_flow
from runtime.db.heatmap import HeatMapQuery, load_heat_map
from runtime.dev.postgres import start_embedded
from runtime.heatmap import CallTrace, heat_map

FLOW = Path(__file__).resolve().parents[1] / "flows" / "reminder.flow"
PATHS = [
    (["greet", "confirmed"], "agent"),
    (["greet", "reschedule"], "agent"),
    (["greet", "greet", "confirmed"], "agent"),
    (["greet"], "caller"),
    (["greet", "opted_out"], "agent"),
    (["greet", "goodbye"], "agent"),
]
RUNS = 5


def _calls(n: int, flow_hash: str) -> list[tuple]:
    rnd = random.Random(11)
    t0 = datetime(2026, 11, 23, 14, tzinfo=UTC)
    rows = []
    for i in range(n):
        path, ended_by = PATHS[i % len(PATHS)]
        at, visits = 0, []
        for node in path:
            ms = rnd.randrange(500, 9000)
            visits.append(TimedVisit(node, "x", at, ms, rnd.randrange(2), 0, rnd.randrange(2)))
            at += ms
        started = t0 + timedelta(seconds=i)
        rows.append(
            (
                f"bench-{i}",
                "bench",
                flow_hash,
                started,
                started + timedelta(milliseconds=at),
                "confirmed",
                path,
                [v.as_json() for v in visits],
                ended_by,
            )  # fmt: skip
        )
    return rows


async def _best(step: Callable[[], Awaitable[object]]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        await step()
        best = min(best, time.perf_counter() - start)
    return best


async def _bench(url: str, n: int) -> None:
    conn = await asyncpg.connect(url)
    await migrate(conn)
    await conn.close()
    pool = await create_pool(url, max_size=2)
    try:
        flow = load_flow(FLOW)
        flow_hash = await save_flow(pool, flow)
        await create_campaign(pool, "bench", flow_hash)
        await pool.executemany(
            "INSERT INTO calls (id, campaign, flow_hash, started_at, ended_at, outcome,"
            " node_path, visits, ended_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            _calls(n, flow_hash),
        )
        await pool.execute("ANALYZE calls")
        sql = (
            "SELECT c.node_path, c.visits, c.outcome, c.ended_by, c.flow_hash, c.started_at"
            " FROM calls c JOIN flow_versions f ON f.hash = c.flow_hash"
            " WHERE f.agent = $1 AND c.ended_at IS NOT NULL AND c.campaign = $2"
        )
        rows: list[asyncpg.Record] = []

        async def bare_read() -> None:
            rows[:] = await pool.fetch(sql, flow.agent.name, "bench")

        query = HeatMapQuery(flow=flow.agent.name, campaign="bench")
        read = await _best(bare_read)
        loaded = await _best(lambda: load_heat_map(pool, query))
        traces = [
            CallTrace(
                r["node_path"],
                [TimedVisit.from_json(v) for v in r["visits"]],
                r["outcome"],
                r["ended_by"],
            )  # fmt: skip
            for r in rows
        ]

        async def count_only() -> None:
            heat_map(traces)

        counted = await _best(count_only)
        stored = await load_heat_map(pool, query)
        assert stored.heat.calls == n
        print(f"{n:,} stored calls of one campaign, best of {RUNS}:")
        print(f"  bare read of the rows (fetch, baseline) {read * 1000:8.1f} ms")
        print(
            f"  load_heat_map (cursor + decode + count) {loaded * 1000:8.1f} ms"
            f"  = {n / loaded:,.0f} calls/s, {loaded / read:.1f}x the bare read"
        )
        print(f"  heat_map on calls in memory (count)     {counted * 1000:8.1f} ms")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="voxflow-bench-"))
    try:
        pg = start_embedded(root / "pg")
        try:
            asyncio.run(_bench(pg.url, args.calls))
        finally:
            pg.stop()
        print(f"conditions: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

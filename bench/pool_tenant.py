"""What acting for a tenant costs a pool acquire, on the embedded PostgreSQL.

Each operation is ``acquire``, ``SELECT 1``, release, one after another on a pool of one
connection (so every acquire gets the same connection, as a busy pool mostly does). Pools
compared in the same run, interleaved in chunks of 50 operations so drift hits them alike:

* ``bare``: no tenant at all (asyncpg's default reset only): the floor;
* ``set each acquire``: the old pool, a ``set_config`` round trip on every acquire;
* ``remembered``: ``runtime.db.create_pool`` (connections open with the default tenant, which
  ``RESET ALL`` restores; the setting is sent only when it changes, and the release's reset
  sets a non-default tenant again in the same round trip);
* ``remembered, one other tenant``: the same pool, every acquire for one non-default tenant;
* ``remembered, 2 tenants``: the same pool, acquires alternating between two tenants (every
  acquire changes the tenant: the worst case).

Run: .venv/bin/python bench/pool_tenant.py [--ops 2000] [--rounds 5]   (prints figures)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg

from runtime import tenancy
from runtime.db import create_pool, migrate
from runtime.db.pool import _as_app_role, _init_connection
from runtime.db.tenants import create_tenant
from runtime.dev.postgres import start_embedded

CHUNK = 50
"""Operations in a row on one pool before the next pool's turn."""


async def _init_app(conn: asyncpg.Connection) -> None:
    await _init_connection(conn)
    await _as_app_role(conn)


async def _set_each_acquire(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT set_config('voxflow.tenant', $1, false)", tenancy.current())


async def _old_pool(url: str) -> asyncpg.Pool:
    """The pool as it was before tenants were remembered per connection."""
    return await asyncpg.create_pool(
        url, min_size=1, max_size=1, init=_init_app, setup=_set_each_acquire
    )


async def _bare_pool(url: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(url, min_size=1, max_size=1, init=_init_app)


async def _run(pool: asyncpg.Pool, ops: int, tenant_of: Callable[[int], str]) -> list[float]:
    """Microseconds of each acquire + ``SELECT 1`` + release."""
    took = []
    for i in range(ops):
        with tenancy.acting_as(tenant_of(i)):
            start = time.perf_counter_ns()
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            took.append((time.perf_counter_ns() - start) / 1000)
    return took


async def _bench(url: str, ops: int, rounds: int) -> None:
    conn = await asyncpg.connect(url)
    await migrate(conn)
    await conn.close()
    new = await create_pool(url, max_size=1)
    with tenancy.acting_as(tenancy.PLATFORM):
        await create_tenant(new, "bench-b", name="Bench B")
    old, bare = await _old_pool(url), await _bare_pool(url)
    one: Callable[[int], str] = lambda _i: tenancy.DEFAULT_TENANT  # noqa: E731
    two: Callable[[int], str] = lambda i: "bench-b" if i % 2 else tenancy.DEFAULT_TENANT  # noqa: E731
    modes = {
        "bare (no tenant)": (bare, one),
        "set each acquire (before)": (old, one),
        "remembered (after)": (new, one),
        "remembered, one other tenant": (new, lambda _i: "bench-b"),
        "remembered, 2 tenants alternating": (new, two),
    }
    times: dict[str, list[float]] = {name: [] for name in modes}
    for pool, tenant_of in modes.values():
        await _run(pool, 200, tenant_of)  # warm up: statement caches, codecs
    loads = [os.getloadavg()[0]]
    for _ in range(rounds):
        # Small chunks, interleaved: a burst of load from elsewhere falls on every pool.
        for _chunk in range(ops // CHUNK):
            for name, (pool, tenant_of) in modes.items():
                times[name] += await _run(pool, CHUNK, tenant_of)
        loads.append(os.getloadavg()[0])
    for pool in (new, old, bare):
        await pool.close()
    print(f"acquire + SELECT 1 + release, {ops} x {rounds} rounds each, pool of 1 connection")
    for name, t in times.items():
        q = statistics.quantiles(t, n=10)
        print(f"  {name:36s} median {statistics.median(t):6.1f} us   p90 {q[8]:6.1f} us")
    print(
        f"conditions: {os.cpu_count()} CPUs, load average {min(loads):.1f}-{max(loads):.1f}"
        " during the run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="voxflow-bench-"))
    try:
        pg = start_embedded(root / "pg")
        try:
            asyncio.run(_bench(pg.url, args.ops, args.rounds))
        finally:
            pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

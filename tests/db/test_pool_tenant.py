"""The pool sets ``voxflow.tenant`` only when a connection carries another tenant, and a
connection never hands a stale or tampered tenant to the next acquirer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from runtime import tenancy
from runtime.db import create_pool
from runtime.db.pool import TenantConnection
from runtime.db.tenants import create_tenant

SET_TENANT = "set_config('voxflow.tenant'"


@pytest.fixture
async def one_conn(pg_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection, so every acquire gets the same one."""
    pool = await create_pool(pg_url, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


async def _logged(pool: asyncpg.Pool) -> list[str]:
    """Queries the pool's one connection runs from now on (appended as they run)."""
    seen: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda record: seen.append(record.query))
    seen.clear()  # the release's reset of this acquire
    return seen


async def _setting(pool: asyncpg.Pool) -> str:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT current_setting('voxflow.tenant', true)")


async def test_acquiring_again_for_the_same_tenant_costs_no_round_trip(
    one_conn: asyncpg.Pool,
) -> None:
    with tenancy.acting_as(tenancy.DEFAULT_TENANT):
        seen = await _logged(one_conn)
        async with one_conn.acquire() as conn:
            assert await conn.fetchval("SELECT 1") == 1
    # Nor does its release: the reset restores the default tenant the connection opened with.
    assert [q for q in seen if SET_TENANT in q] == []
    assert seen[0] == "SELECT 1"


async def test_another_tenant_acquired_again_is_set_once_then_kept_by_the_reset(
    one_conn: asyncpg.Pool,
) -> None:
    seen = await _logged(one_conn)
    with tenancy.acting_as(tenancy.PLATFORM):
        for _ in range(3):
            async with one_conn.acquire() as conn:
                assert await conn.fetchval("SELECT voxflow_platform()")
    sets = [q for q in seen if SET_TENANT in q]
    # One set on the first acquire; each release's reset (one round trip) sets it again.
    assert [q for q in sets if "$1" in q] == [sets[0]]
    assert all("RESET ALL" in q for q in sets[1:]) and len(sets) == 4


async def test_another_tenant_costs_one_set_and_sees_its_own_rows(
    one_conn: asyncpg.Pool,
) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        await create_tenant(one_conn, "pool-b", name="Pool B")
    seen = await _logged(one_conn)
    for tenant in ("pool-b", tenancy.DEFAULT_TENANT, "pool-b"):
        with tenancy.acting_as(tenant):
            async with one_conn.acquire() as conn:
                assert await conn.fetchval("SELECT current_setting('voxflow.tenant')") == tenant
                assert await conn.fetchval("SELECT id FROM tenants") == tenant
                assert isinstance(conn._con, TenantConnection)
                assert conn.voxflow_tenant == tenant
    assert len([q for q in seen if SET_TENANT in q and "$1" in q]) == 3


async def test_a_query_that_changes_the_setting_does_not_outlive_its_acquire(
    one_conn: asyncpg.Pool,
) -> None:
    with tenancy.acting_as(tenancy.DEFAULT_TENANT):
        async with one_conn.acquire() as conn:
            await conn.execute("SELECT set_config('voxflow.tenant', '*', false)")
            assert await conn.fetchval("SELECT voxflow_platform()")
        assert await _setting(one_conn) == tenancy.DEFAULT_TENANT
        # In a transaction left open (released mid-way), and with plain SET.
        async with one_conn.acquire() as conn:
            await conn.execute("BEGIN; SET voxflow.tenant = '*'")
        assert await _setting(one_conn) == tenancy.DEFAULT_TENANT
        async with one_conn.acquire() as conn:
            await conn.execute("SET voxflow.tenant = 'other'")
        assert await _setting(one_conn) == tenancy.DEFAULT_TENANT


async def test_an_error_inside_the_acquire_leaves_the_tenant_right(
    one_conn: asyncpg.Pool,
) -> None:
    with tenancy.acting_as(tenancy.DEFAULT_TENANT), pytest.raises(asyncpg.DataError):
        async with one_conn.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL voxflow.tenant = '*'")
            await conn.execute("SELECT 1 / 0")
    with tenancy.acting_as(tenancy.DEFAULT_TENANT):
        assert await _setting(one_conn) == tenancy.DEFAULT_TENANT

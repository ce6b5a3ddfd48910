"""Row-level security as any query meets it: the pool's role, writes into another tenant, the
platform-wide do-not-call list, and a connection handed from one tenant to the next."""

from __future__ import annotations

import asyncpg
import pytest

from runtime import tenancy
from runtime.db import dnc


@pytest.fixture
async def pool(pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    with tenancy.acting_as(tenancy.PLATFORM):
        await pg_pool.execute(
            "INSERT INTO tenants (id) VALUES ('red'), ('blue') ON CONFLICT DO NOTHING"
        )
    return pg_pool


async def test_the_pool_role_is_bound_by_row_security(pool: asyncpg.Pool) -> None:
    role = await pool.fetchrow(
        "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles"
        " WHERE rolname = current_user"
    )
    assert (role["name"], role["rolsuper"], role["rolbypassrls"]) == ("voxflow_app", False, False)
    forced = await pool.fetch(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        " AND relname <> 'schema_migrations' AND relname <> 'provider_breaker'"
        " AND NOT (relrowsecurity AND relforcerowsecurity)"
    )
    assert [r["relname"] for r in forced] == []


async def test_a_write_naming_another_tenant_is_refused(pool: asyncpg.Pool) -> None:
    with tenancy.acting_as("red"), pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute(
            "INSERT INTO do_not_call (tenant, phone, source) VALUES ('blue', '+15550100001', 'api')"
        )
    with tenancy.acting_as("red"):
        await dnc.add_dnc(pool, "+15550100002", source="api")
    with tenancy.acting_as("blue"):
        # Blue cannot see, move or delete red's row, whatever the statement says.
        assert await pool.execute("UPDATE do_not_call SET tenant = 'blue'") == "UPDATE 0"
        assert await pool.execute("DELETE FROM do_not_call") == "DELETE 0"
    with tenancy.acting_as("red"):
        assert await dnc.is_dnc(pool, "+15550100002")


async def test_the_platform_list_binds_every_tenant_and_only_the_platform_writes_it(
    pool: asyncpg.Pool,
) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        assert await dnc.add_dnc(pool, "+15550100003", source="cli", reason="regulator")
    for tenant in ("red", "blue"):
        with tenancy.acting_as(tenant):
            assert await dnc.is_dnc(pool, "+15550100003")
            entry = await dnc.get_dnc(pool, "+15550100003")
            assert entry is not None and entry.tenant is None
            assert not await dnc.remove_dnc(pool, "+15550100003")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.execute(
                    "INSERT INTO do_not_call (tenant, phone, source)"
                    " VALUES (NULL, '+15550100004', 'api')"
                )
    with tenancy.acting_as("red"):
        await pool.execute(
            "INSERT INTO attempts (id, campaign, contact, number, phone)"
            " VALUES ('pl-1', 'c', 'x', 1, '+15550100003')"
        )
        from runtime.db import attempts

        assert await attempts.claim_for_dial(pool, "pl-1", "+15550100003") == "do_not_call"


async def test_a_pooled_connection_forgets_its_tenant_on_release(pool: asyncpg.Pool) -> None:
    with tenancy.acting_as("red"):
        async with pool.acquire() as conn:
            seen = await conn.fetchval("SELECT current_setting('voxflow.tenant')")
            pid = await conn.fetchval("SELECT pg_backend_pid()")
    assert seen == "red"
    # The same backend, acquired by code acting for nobody in particular: the default tenant.
    for _ in range(pool.get_size() + 1):
        async with pool.acquire() as conn:
            if await conn.fetchval("SELECT pg_backend_pid()") == pid:
                assert await conn.fetchval("SELECT voxflow_tenant()") == tenancy.DEFAULT_TENANT
                return
    pytest.skip("the pool handed out another connection")

"""Migration 0200: a single-tenant database becomes the default tenant of a multi-tenant one."""

from __future__ import annotations

import asyncpg
import pytest

from dsl.compiler import load_flow
from runtime import tenancy
from runtime.db import calls, campaigns, contacts, create_pool, dnc, flows
from runtime.db.migrate import discover, migrate
from runtime.dev.postgres import EmbeddedPostgres
from tests.db.conftest import REMINDER

TENANT_TABLES = (
    "flow_versions",
    "campaigns",
    "contacts",
    "attempts",
    "calls",
    "transcripts",
    "tool_calls",
    "callbacks",
    "do_not_call",
    "knowledge_documents",
    "knowledge_chunks",
)


@pytest.fixture
async def single_tenant_db(postgres_server: EmbeddedPostgres) -> str:
    """A database at the schema before tenants, holding one campaign's worth of rows."""
    admin = await asyncpg.connect(postgres_server.admin_url)
    name = "t_tenants_0200"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = postgres_server.url_for(name)
    flow = load_flow(REMINDER)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, [m for m in discover() if m.version < 200])
        await conn.execute(
            "INSERT INTO flow_versions (hash, agent, ir) VALUES ($1, $2, $3::jsonb)",
            flow.hash,
            flow.agent.name,
            flow.to_json(),
        )
        await conn.execute(
            "INSERT INTO campaigns (name, flow_hash, status) VALUES ('nov', $1, 'running')",
            flow.hash,
        )
        await conn.execute(
            "INSERT INTO contacts (campaign, id, phone, timezone) VALUES"
            " ('nov', 'c1', '+15550100001', 'America/New_York'),"
            " ('nov', 'c2', '+15550100002', 'America/New_York')"
        )
        await conn.execute(
            "INSERT INTO attempts (id, campaign, contact, number, phone, status, outcome,"
            " originated_at, ended_at) VALUES ('a1', 'nov', 'c1', 1, '+15550100001',"
            " 'finished', 'confirmed', now(), now())"
        )
        await conn.execute(
            "INSERT INTO calls (id, campaign, contact, outcome, recording)"
            " VALUES ('a1', 'nov', 'c1', 'confirmed', 'a1.wav')"
        )
        await conn.execute(
            "INSERT INTO transcripts (call_id, seq, role, text) VALUES ('a1', 0, 'agent', 'Hi')"
        )
        await conn.execute(
            "INSERT INTO tool_calls (call_id, tool_call_id, name) VALUES ('a1', 't1', 'end_call')"
        )
        await conn.execute(
            "INSERT INTO callbacks (key, call_id, campaign, contact, due_at, requested_at)"
            " VALUES ('a1:x', 'a1', 'nov', 'c1', now(), now())"
        )
        await conn.execute("INSERT INTO do_not_call (phone, source) VALUES ('+15550100009', 'api')")
        doc = await conn.fetchval(
            "INSERT INTO knowledge_documents (collection, content_hash) VALUES ('faq', 'h')"
            " RETURNING id"
        )
        await conn.execute(
            "INSERT INTO knowledge_chunks (document_id, collection, seq, text, model)"
            " VALUES ($1, 'faq', 0, 'Parking is free.', 'm')",
            doc,
        )
    finally:
        await conn.close()
    return url


async def test_single_tenant_rows_move_to_the_default_tenant_and_stay_its_alone(
    single_tenant_db: str,
) -> None:
    conn = await asyncpg.connect(single_tenant_db)
    try:
        applied = await migrate(conn)
        # 0200 and 0201, then whatever later migrations exist (0202: webhook retention).
        versions = [m.version for m in applied]
        assert versions[:2] == [200, 201] and versions == sorted(versions)
        for table in TENANT_TABLES:
            owners = await conn.fetch(f"SELECT DISTINCT tenant FROM {table}")  # noqa: S608
            assert [r["tenant"] for r in owners] == ["default"], table
        assert await conn.fetchval("SELECT count(*) FROM tenants") == 1
        await conn.execute("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')")
    finally:
        await conn.close()

    pool = await create_pool(single_tenant_db, max_size=2)
    try:
        # The application's connections are neither superuser nor owner.
        assert await pool.fetchval("SELECT current_user") == "voxflow_app"
        # Unscoped code (CLI, old scripts) acts for the default tenant and sees everything.
        assert [c.name for c in await campaigns.list_campaigns(pool)] == ["nov"]
        assert await contacts.count_contacts(pool, "nov") == {"pending": 2}
        assert (await calls.get_call(pool, "a1")) is not None
        assert await dnc.is_dnc(pool, "+15550100009")
        # Another tenant sees none of it, and may reuse every name.
        with tenancy.acting_as("acme"):
            assert await campaigns.list_campaigns(pool) == []
            assert await calls.get_call(pool, "a1") is None
            assert not await dnc.is_dnc(pool, "+15550100009")
            for table in TENANT_TABLES:
                assert await pool.fetchval(f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
            flow = load_flow(REMINDER)
            await flows.save_flow(pool, flow)
            row = await campaigns.create_campaign(pool, "nov", flow.hash)
            assert row.status == "draft"
        # The default tenant's campaign is untouched by the other's of the same name.
        (nov,) = await campaigns.list_campaigns(pool)
        assert nov.status == "running"
        # The platform view sees both.
        with tenancy.acting_as(tenancy.PLATFORM):
            owners = await pool.fetch("SELECT tenant FROM campaigns ORDER BY tenant")
            assert [r["tenant"] for r in owners] == ["acme", "default"]
    finally:
        await pool.close()

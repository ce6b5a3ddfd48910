"""The campaign row tells how a campaign ended: ``finished`` when its last contact settles,
``stopped`` when it was stopped, in the transaction of that last settlement (with or without
a webhook endpoint), and ``voxflow campaign status`` shows it."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from typer.testing import CliRunner

import runtime.cli.campaign_commands  # noqa: F401 - registers the commands
from dsl.compiler import load_flow
from runtime import tenancy
from runtime.cli import app
from runtime.db import attempts, campaigns, contacts, flows, webhooks
from runtime.db.pool import create_pool
from tests.db.conftest import REMINDER
from tests.db.test_repositories import _contact


async def _running(pool: asyncpg.Pool, size: int) -> str:
    flow = load_flow(REMINDER)
    await flows.save_flow(pool, flow)
    name = f"fin-{uuid.uuid4().hex[:8]}"
    await campaigns.create_campaign(pool, name, flow.hash)
    await contacts.store_contacts(pool, name, [_contact(i) for i in range(size)])
    await campaigns.set_status(pool, name, "running")
    return name


async def _settle(pool: asyncpg.Pool, campaign: str, contact: str) -> None:
    attempt = str(uuid.uuid4())
    await attempts.start_attempt(
        pool, attempt, campaign=campaign, contact=contact, number=1, phone="+12125550000"
    )
    await attempts.settle_attempt(
        pool,
        attempt,
        campaign=campaign,
        contact=contact,
        outcome="confirmed",
        action="final",
        next_at=None,
        detail="",
        status="finished",
        contact_status="final",
        contact_outcome="confirmed",
    )


async def _status(pool: asyncpg.Pool, name: str) -> str:
    row = await campaigns.get_campaign(pool, name)
    assert row is not None
    return row.status


async def test_the_last_settled_contact_finishes_the_campaign(pg_pool: asyncpg.Pool) -> None:
    name = await _running(pg_pool, 3)
    await _settle(pg_pool, name, "c000")
    assert await _status(pg_pool, name) == "running"
    # The last two settle at once on two connections: one of them finishes the campaign.
    await asyncio.gather(_settle(pg_pool, name, "c001"), _settle(pg_pool, name, "c002"))
    assert await _status(pg_pool, name) == "finished"


async def test_a_campaign_started_outside_the_api_still_finishes(pg_pool: asyncpg.Pool) -> None:
    """Rows written before `voxflow campaign start` set ``running`` stayed ``draft``."""
    name = await _running(pg_pool, 1)
    await campaigns.set_status(pg_pool, name, "draft")
    await contacts.update_contact_state(pg_pool, name, "c000", status="final", outcome="confirmed")
    assert await _status(pg_pool, name) == "finished"


async def test_a_stopped_campaign_ends_stopped(pg_pool: asyncpg.Pool) -> None:
    name = await _running(pg_pool, 2)
    await _settle(pg_pool, name, "c000")
    # `voxflow campaign stop` from a CLI without a database: the row still says running.
    await contacts.update_contact_state(pg_pool, name, "c001", status="stopped")
    assert await _status(pg_pool, name) == "stopped"


async def test_finished_commits_with_campaign_completed_or_not_at_all(
    pg_pool: asyncpg.Pool,
) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        await pg_pool.execute("DELETE FROM webhooks; DELETE FROM webhook_events")
    await webhooks.create_webhook(pg_pool, "http://127.0.0.1:9/finish", events=[])
    name = await _running(pg_pool, 1)
    async with pg_pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await contacts.update_contact_state(conn, name, "c000", status="final", outcome="x")
        assert await _status(conn, name) == "finished"
        assert await conn.fetchval(
            "SELECT count(*) FROM webhook_events WHERE type = 'campaign.completed'"
            " AND subject = $1",
            name,
        )
        await tx.rollback()
    assert await _status(pg_pool, name) == "running"
    await contacts.update_contact_state(pg_pool, name, "c000", status="final", outcome="x")
    assert await _status(pg_pool, name) == "finished"
    completed = await pg_pool.fetch(
        "SELECT payload FROM webhook_events WHERE type = 'campaign.completed' AND subject = $1",
        name,
    )
    assert [r["payload"]["contacts"] for r in completed] == [{"final": 1}]


def test_campaign_status_shows_finished(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def prepare() -> str:
        pool = await create_pool(pg_url, max_size=2)
        try:
            name = await _running(pool, 2)
            for contact in ("c000", "c001"):
                await _settle(pool, name, contact)
            return name
        finally:
            await pool.close()

    name = asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", pg_url)
    # Nothing listens there: a finished campaign's state comes from its row.
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:9")
    result = CliRunner().invoke(app, ["campaign", "status", name])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"campaign {name} (finished)" in result.output
    assert "every contact settled" in result.output


def test_campaign_list_shows_each_state_and_the_settled_contacts(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def prepare() -> tuple[str, str]:
        pool = await create_pool(pg_url, max_size=2)
        try:
            done, going = await _running(pool, 1), await _running(pool, 2)
            await _settle(pool, done, "c000")
            await _settle(pool, going, "c001")
            return done, going
        finally:
            await pool.close()

    done, going = asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", pg_url)
    result = CliRunner().invoke(app, ["campaign", "list"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output + repr(result.exception)
    rows = [
        [c.strip() for c in line.split("│") if c.strip()] for line in result.output.splitlines()
    ]
    cells = {row[0]: row[1:3] for row in rows if row and row[0] in (done, going)}
    assert cells == {done: ["finished", "1/1"], going: ["running", "1/2"]}


def test_a_stopped_campaign_with_calls_still_ending_is_not_shown_as_over(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def prepare() -> str:
        pool = await create_pool(pg_url, max_size=2)
        try:
            name = await _running(pool, 2)
            await campaigns.set_status(pool, name, "stopped")  # `POST .../stop`: calls finish
            await _settle(pool, name, "c000")
            return name
        finally:
            await pool.close()

    name = asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:9")
    result = CliRunner().invoke(app, ["campaign", "status", name])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "every contact settled" not in result.output
    assert "workflow not reachable" in result.output

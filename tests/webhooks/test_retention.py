"""Outbox retention on the embedded PostgreSQL: delivered deliveries and then their events go
after ``VOXFLOW_WEBHOOK_RETENTION_DAYS``, dead letters after the longer
``VOXFLOW_WEBHOOK_DEAD_RETENTION_DAYS``, pending deliveries never; in small batches that skip
locked rows, across tenants, run by the dispatching process on its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from runtime import tenancy
from runtime.db import tenants, webhooks
from runtime.settings import Settings, load_settings
from runtime.webhooks.dispatcher import dispatching, prune_once

WEEK, MONTH = timedelta(days=7), timedelta(days=30)


async def _emit(pool: asyncpg.Pool, subject: str, tenant: str = tenancy.DEFAULT_TENANT) -> str:
    with tenancy.acting_as(tenant):
        async with pool.acquire() as conn, conn.transaction():
            await webhooks.emit(conn, "contact.opted_out", subject, {"phone": subject})
            return str(
                await conn.fetchval("SELECT id FROM webhook_events WHERE subject = $1", subject)
            )


async def _age(pool: asyncpg.Pool, subject: str, days: float, **states: float) -> None:
    """Make the event ``days`` old, and its deliveries delivered/dead that many days ago
    (``delivered=8`` or ``dead=31``, for the endpoint given as ``webhook``)."""
    with tenancy.acting_as(tenancy.PLATFORM):
        await pool.execute(
            "UPDATE webhook_events SET created_at = now() - make_interval(days => $2)"
            " WHERE subject = $1",
            subject,
            days,
        )
        for column, ago in states.items():
            await pool.execute(
                f"UPDATE webhook_deliveries d SET {column}_at = now() - make_interval(days => $2)"
                " FROM webhook_events e WHERE e.id = d.event_id AND e.subject = $1",
                subject,
                ago,
            )


async def _left(pool: asyncpg.Pool) -> tuple[set[str], dict[str, int]]:
    """Subjects of the events left, and deliveries left per subject."""
    with tenancy.acting_as(tenancy.PLATFORM):
        events = {r["subject"] for r in await pool.fetch("SELECT subject FROM webhook_events")}
        rows = await pool.fetch(
            "SELECT e.subject, count(*) AS n FROM webhook_deliveries d"
            " JOIN webhook_events e ON e.id = d.event_id GROUP BY e.subject"
        )
    return events, {r["subject"]: r["n"] for r in rows}


@pytest.fixture
def retention() -> Settings:
    return load_settings(
        {
            "VOXFLOW_WEBHOOK_RETENTION_DAYS": "7",
            "VOXFLOW_WEBHOOK_DEAD_RETENTION_DAYS": "30",
            "VOXFLOW_WEBHOOK_PRUNE_EVERY_S": "0.05",
        }
    )


async def test_retention_keeps_what_is_recent_pending_or_dead_and_deletes_the_rest(
    outbox: asyncpg.Pool, retention: Settings
) -> None:
    hook = await webhooks.create_webhook(outbox, "http://127.0.0.1:9/a", events=[])
    for subject in ("old-done", "new-done", "dead-8d", "dead-31d", "pending-40d", "redelivered"):
        await _emit(outbox, subject)
    await _age(outbox, "old-done", 8, delivered=8)
    await _age(outbox, "new-done", 2, delivered=1)
    await _age(outbox, "dead-8d", 9, dead=8)
    await _age(outbox, "dead-31d", 32, dead=31)
    await _age(outbox, "pending-40d", 40)
    await _age(outbox, "redelivered", 40, dead=35)
    event = await outbox.fetchval(
        "SELECT id::text FROM webhook_events WHERE subject = 'redelivered'"
    )
    assert await webhooks.redeliver(outbox, hook.row.id, event)
    # An event whose endpoint was removed has no delivery left (the removal cascades to
    # them): it goes once old.
    await _emit(outbox, "orphan-8d")
    await _age(outbox, "orphan-8d", 8)
    with tenancy.acting_as(tenancy.PLATFORM):
        await outbox.execute(
            "DELETE FROM webhook_deliveries d USING webhook_events e"
            " WHERE e.id = d.event_id AND e.subject = 'orphan-8d'"
        )

    pruned = await prune_once(outbox, retention)

    events, deliveries = await _left(outbox)
    assert events == {"new-done", "dead-8d", "pending-40d", "redelivered"}
    assert (pruned.deliveries, pruned.events) == (2, 3)
    assert deliveries == {"new-done": 1, "dead-8d": 1, "pending-40d": 1, "redelivered": 1}
    assert (await prune_once(outbox, retention)).events == 0


async def test_a_delivered_copy_goes_while_its_pending_twin_keeps_the_event(
    outbox: asyncpg.Pool, retention: Settings
) -> None:
    await webhooks.create_webhook(outbox, "http://127.0.0.1:9/a", events=[])
    await webhooks.create_webhook(outbox, "http://127.0.0.1:9/b", events=[])
    await _emit(outbox, "twins")
    await _age(outbox, "twins", 8)
    with tenancy.acting_as(tenancy.PLATFORM):
        await outbox.execute(
            "UPDATE webhook_deliveries SET delivered_at = now() - interval '8 days'"
            " WHERE webhook_id = (SELECT min(webhook_id) FROM webhook_deliveries)"
        )
    await prune_once(outbox, retention)
    assert await _left(outbox) == ({"twins"}, {"twins": 1})


async def test_pruning_goes_in_small_batches_and_skips_locked_rows(outbox: asyncpg.Pool) -> None:
    await webhooks.create_webhook(outbox, "http://127.0.0.1:9/a", events=[])
    for i in range(5):
        await _emit(outbox, f"s{i}")
        await _age(outbox, f"s{i}", 8, delivered=8)
    with tenancy.acting_as(tenancy.PLATFORM):
        async with outbox.acquire() as holder, holder.transaction():
            # Another transaction holds s0's delivery (as a dispatcher holds what it sends).
            await holder.execute(
                "SELECT 1 FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id"
                " WHERE e.subject = 's0' FOR UPDATE OF d"
            )
            pruned = await webhooks.prune(outbox, delivered_for=WEEK, dead_for=MONTH, batch=2)
        assert (pruned.deliveries, pruned.events) == (4, 4)
        # 2 + 2 + 0 deliveries, one empty batch of dead letters, 2 + 2 + 0 events.
        assert pruned.batches == 7
        assert (await _left(outbox))[0] == {"s0"}
        again = await webhooks.prune(outbox, delivered_for=WEEK, dead_for=MONTH, batch=2)
    assert (again.deliveries, again.events) == (1, 1)
    assert await _left(outbox) == (set(), {})


async def test_the_dispatching_process_prunes_every_tenant_on_its_own(
    outbox: asyncpg.Pool, retention: Settings
) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        if await tenants.get_tenant(outbox, "keep-b") is None:
            await tenants.create_tenant(outbox, "keep-b", name="B")
    for tenant in (tenancy.DEFAULT_TENANT, "keep-b"):
        with tenancy.acting_as(tenant):
            await webhooks.create_webhook(outbox, "http://127.0.0.1:9/a", events=[])
        await _emit(outbox, f"done-{tenant}", tenant)
        await _age(outbox, f"done-{tenant}", 8, delivered=8)
    async with dispatching(outbox, retention):
        for _ in range(500):
            if await _left(outbox) == (set(), {}):
                break
            await asyncio.sleep(0.02)
    assert await _left(outbox) == (set(), {})

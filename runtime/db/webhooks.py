"""Webhook endpoints of the tenants, the outbox of their events, and its deliveries.

``emit`` records an event inside the caller's transaction (``voxflow_emit``, migration
``0201_webhooks.sql``), so it commits or rolls back with the state change it reports. The
dispatcher (``runtime/webhooks/dispatcher.py``) reads deliveries in the platform view:
``claim_due`` locks one due delivery with ``FOR UPDATE SKIP LOCKED`` for the length of its
transaction, so two dispatchers never send the same delivery at once, and a dispatcher that
dies mid-send releases the row untouched for the next.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg

from runtime.db.types import Db

ENV_WEBHOOK_ID = "wh_env"
"""The default tenant's endpoint from ``VOXFLOW_WEBHOOK_URL``/``VOXFLOW_WEBHOOK_SECRET``."""

DeliveryState = Literal["pending", "delivered", "dead"]


@dataclass(frozen=True)
class WebhookRow:
    """An endpoint as listings show it: never its secret."""

    id: str
    tenant: str
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class CreatedWebhook:
    row: WebhookRow
    secret: str
    """Shown once, at creation."""


@dataclass(frozen=True)
class DeliveryRow:
    event_id: str
    webhook_id: str
    type: str
    attempts: int
    next_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    last_status: int | None
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class DueDelivery:
    """A delivery locked for sending, with what the request needs."""

    event_id: str
    webhook_id: str
    tenant: str
    type: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    url: str
    secret: str


_PUBLIC = "id, tenant, url, events, enabled, created_at"


async def emit(conn: asyncpg.Connection, type: str, subject: str, data: dict[str, Any]) -> bool:
    """Record event ``type`` about ``subject`` for the current tenant, once, with one delivery
    per enabled endpoint that wants it; ``True`` if new. Nothing is stored when no endpoint
    wants it.

    Call it inside the transaction that makes the change the event reports.
    """
    return await conn.fetchval("SELECT voxflow_emit($1, $2, $3)", type, subject, data) is not None


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def create_webhook(
    db: Db, url: str, *, events: list[str], secret: str | None = None, webhook_id: str | None = None
) -> CreatedWebhook:
    """A new enabled endpoint of the current tenant; its secret is generated unless given."""
    secret = secret or new_secret()
    r = await db.fetchrow(
        f"INSERT INTO webhooks (id, url, secret, events) VALUES ($1, $2, $3, $4) RETURNING {_PUBLIC}",
        webhook_id or "wh_" + secrets.token_hex(8),
        url,
        secret,
        sorted(set(events)),
    )
    return CreatedWebhook(WebhookRow(**dict(r)), secret)


async def list_webhooks(db: Db) -> list[WebhookRow]:
    rows = await db.fetch(f"SELECT {_PUBLIC} FROM webhooks ORDER BY created_at, id")
    return [WebhookRow(**dict(r)) for r in rows]


async def get_webhook(db: Db, webhook_id: str) -> WebhookRow | None:
    r = await db.fetchrow(f"SELECT {_PUBLIC} FROM webhooks WHERE id = $1", webhook_id)
    return None if r is None else WebhookRow(**dict(r))


async def webhook_secret(db: Db, webhook_id: str) -> tuple[WebhookRow, str] | None:
    """The endpoint and its secret (to sign a test request), or ``None``."""
    r = await db.fetchrow(f"SELECT {_PUBLIC}, secret FROM webhooks WHERE id = $1", webhook_id)
    if r is None:
        return None
    values = dict(r)
    secret = values.pop("secret")
    return WebhookRow(**values), secret


async def delete_webhook(db: Db, webhook_id: str) -> bool:
    """Remove the endpoint and its pending deliveries; ``True`` if it existed."""
    return (await db.execute("DELETE FROM webhooks WHERE id = $1", webhook_id)).endswith(" 1")


async def sync_env_webhook(db: Db, url: str | None, secret: str | None) -> None:
    """Make :data:`ENV_WEBHOOK_ID` the settings' endpoint of the current (default) tenant:
    created or updated when ``url`` is set, disabled when it is not."""
    if url is None or secret is None:
        await db.execute("UPDATE webhooks SET enabled = false WHERE id = $1", ENV_WEBHOOK_ID)
        return
    await db.execute(
        "INSERT INTO webhooks (id, url, secret) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE"
        " SET url = EXCLUDED.url, secret = EXCLUDED.secret, enabled = true",
        ENV_WEBHOOK_ID,
        url,
        secret,
    )


async def claim_due(conn: asyncpg.Connection) -> DueDelivery | None:
    """Lock the oldest due delivery (inside ``conn``'s open transaction), or ``None``."""
    r = await conn.fetchrow(
        "SELECT d.event_id, d.webhook_id, d.tenant, e.type, e.payload, e.created_at, d.attempts,"
        " w.url, w.secret FROM webhook_deliveries d"
        " JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id"
        " WHERE d.delivered_at IS NULL AND d.dead_at IS NULL AND d.next_at <= now()"
        " AND w.enabled AND w.tenant = d.tenant"
        " ORDER BY d.next_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
    )
    if r is None:
        return None
    values = dict(r)
    values["event_id"] = str(values["event_id"])
    return DueDelivery(**values)


async def mark_delivered(conn: asyncpg.Connection, d: DueDelivery, status: int) -> None:
    await conn.execute(
        "UPDATE webhook_deliveries SET delivered_at = now(), attempts = attempts + 1,"
        " last_status = $3, last_error = '' WHERE event_id = $1 AND webhook_id = $2",
        d.event_id,
        d.webhook_id,
        status,
    )


async def mark_failed(
    conn: asyncpg.Connection,
    d: DueDelivery,
    *,
    status: int | None,
    error: str,
    retry_in: timedelta | None,
) -> None:
    """One failed attempt: due again in ``retry_in``, or dead-lettered when ``None``."""
    await conn.execute(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $3,"
        " last_error = $4, next_at = now() + coalesce($5, interval '0'),"
        " dead_at = CASE WHEN $5::interval IS NULL THEN now() END"
        " WHERE event_id = $1 AND webhook_id = $2",
        d.event_id,
        d.webhook_id,
        status,
        error[:500],
        retry_in,
    )


async def list_deliveries(
    db: Db, webhook_id: str, *, state: DeliveryState | None = None, limit: int = 100
) -> list[DeliveryRow]:
    """The endpoint's deliveries, newest first; ``state`` filters."""
    rows = await db.fetch(
        "SELECT d.event_id::text AS event_id, d.webhook_id, e.type, d.attempts, d.next_at,"
        " d.delivered_at, d.dead_at, d.last_status, d.last_error, e.created_at"
        " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id"
        " WHERE d.webhook_id = $1 AND CASE $2::text"
        "  WHEN 'pending' THEN d.delivered_at IS NULL AND d.dead_at IS NULL"
        "  WHEN 'delivered' THEN d.delivered_at IS NOT NULL"
        "  WHEN 'dead' THEN d.dead_at IS NOT NULL ELSE true END"
        " ORDER BY e.created_at DESC LIMIT $3",
        webhook_id,
        state,
        limit,
    )
    return [DeliveryRow(**dict(r)) for r in rows]


async def redeliver(db: Db, webhook_id: str, event_id: str) -> bool:
    """Put a dead-lettered delivery back in the queue; ``True`` if there was one."""
    result = await db.execute(
        "UPDATE webhook_deliveries SET dead_at = NULL, next_at = now(), attempts = 0"
        " WHERE webhook_id = $1 AND event_id::text = $2 AND dead_at IS NOT NULL",
        webhook_id,
        event_id,
    )
    return result.endswith(" 1")


@dataclass(frozen=True)
class Pruned:
    """What one :func:`prune` deleted."""

    deliveries: int
    events: int
    batches: int
    """Transactions it took (each deletes at most ``batch`` rows)."""


async def prune(
    pool: asyncpg.Pool,
    *,
    delivered_for: timedelta,
    dead_for: timedelta,
    batch: int = 500,
) -> Pruned:
    """Delete deliveries delivered more than ``delivered_for`` ago, dead letters dead for more
    than ``dead_for``, then events older than ``delivered_for`` with no delivery left.

    Pending deliveries and their events are never deleted. Each batch is its own short
    transaction and skips rows another transaction holds (a dispatcher sending them, an
    operator redelivering), so pruning never waits on, or holds up, a delivery. Run it in the
    platform view (every tenant's outbox).
    """
    deliveries = events = batches = 0
    for statement, cutoff in (
        (_PRUNE_DELIVERED, delivered_for),
        (_PRUNE_DEAD, dead_for),
        (_PRUNE_EVENTS, delivered_for),
    ):
        while True:
            async with pool.acquire() as conn, conn.transaction():
                n = int((await conn.execute(statement, cutoff, batch)).split()[-1])
            batches += 1
            if statement is _PRUNE_EVENTS:
                events += n
            else:
                deliveries += n
            if n < batch:
                break
    return Pruned(deliveries, events, batches)


_PRUNE_DELIVERED = (
    "DELETE FROM webhook_deliveries d USING (SELECT event_id, webhook_id FROM webhook_deliveries"
    " WHERE delivered_at < now() - $1::interval LIMIT $2 FOR UPDATE SKIP LOCKED) old"
    " WHERE d.event_id = old.event_id AND d.webhook_id = old.webhook_id"
)
_PRUNE_DEAD = (
    "DELETE FROM webhook_deliveries d USING (SELECT event_id, webhook_id FROM webhook_deliveries"
    " WHERE dead_at < now() - $1::interval LIMIT $2 FOR UPDATE SKIP LOCKED) old"
    " WHERE d.event_id = old.event_id AND d.webhook_id = old.webhook_id"
)
# An event goes with its last delivery (or with its endpoint's removal): one that still has a
# pending or dead delivery stays, whatever its age.
_PRUNE_EVENTS = (
    "DELETE FROM webhook_events e USING (SELECT id FROM webhook_events x"
    " WHERE created_at < now() - $1::interval"
    " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = x.id)"
    " LIMIT $2 FOR UPDATE SKIP LOCKED) old WHERE e.id = old.id"
)

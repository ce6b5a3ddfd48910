"""Callbacks the callee asked for, at an aware instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from runtime.db.types import Db


@dataclass(frozen=True)
class CallbackRow:
    key: str
    call_id: str | None
    campaign: str | None
    contact: str | None
    phone: str
    due_at: datetime
    requested_at: datetime
    note: str
    status: str
    created_at: datetime
    tenant: str = "default"


async def add_callback(
    db: Db,
    *,
    call_id: str,
    due_at: datetime,
    requested_at: datetime,
    phone: str = "",
    campaign: str | None = None,
    contact: str | None = None,
    note: str = "",
) -> bool:
    """Store a callback; ``True`` if new. The same call asking for the same instant twice
    (a retried write) stores it once.

    Raises:
        ValueError: ``due_at`` or ``requested_at`` is naive.
    """
    for name, value in (("due_at", due_at), ("requested_at", requested_at)):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    key = f"{call_id}:{due_at.timestamp():.0f}"
    added = await db.fetchval(
        "INSERT INTO callbacks (key, call_id, campaign, contact, phone, due_at, requested_at, note)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING RETURNING true",
        key,
        call_id,
        campaign,
        contact,
        phone,
        due_at,
        requested_at,
        note,
    )
    return bool(added)


async def callbacks_for(
    db: Db, *, call_id: str | None = None, campaign: str | None = None
) -> list[CallbackRow]:
    rows = await db.fetch(
        "SELECT * FROM callbacks WHERE ($1::text IS NULL OR call_id = $1)"
        " AND ($2::text IS NULL OR campaign = $2) ORDER BY due_at",
        call_id,
        campaign,
    )
    return [CallbackRow(**dict(r)) for r in rows]


async def due_callbacks(db: Db, now: datetime, limit: int = 100) -> list[CallbackRow]:
    rows = await db.fetch(
        "SELECT * FROM callbacks WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at LIMIT $2",
        now,
        limit,
    )
    return [CallbackRow(**dict(r)) for r in rows]


async def set_callback_status(db: Db, key: str, status: str) -> bool:
    return (
        await db.execute("UPDATE callbacks SET status = $2 WHERE key = $1", key, status)
    ).endswith(" 1")

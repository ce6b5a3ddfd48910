"""The do-not-call list: numbers (E.164) that are never dialled, checked at dial time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from runtime.db import events
from runtime.db.types import Db, acquire

DncSource = Literal["api", "call", "import", "cli", "campaign"]


@dataclass(frozen=True)
class DncEntry:
    phone: str
    reason: str
    source: str
    campaign: str | None
    contact: str | None
    call_id: str | None
    created_at: datetime
    tenant: str | None = "default"
    """``None``: the platform-wide list, which every tenant's dials honour."""


async def add_dnc(
    db: Db,
    phone: str,
    *,
    source: DncSource,
    reason: str = "",
    campaign: str | None = None,
    contact: str | None = None,
    call_id: str | None = None,
) -> bool:
    """Put ``phone`` on the list; ``True`` if it was not on it. The first entry is kept; a new
    one emits ``contact.opted_out`` in the same transaction."""
    async with acquire(db) as conn, conn.transaction():
        added = await conn.fetchrow(
            "INSERT INTO do_not_call (phone, reason, source, campaign, contact, call_id)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING *",
            phone,
            reason,
            source,
            campaign,
            contact,
            call_id,
        )
        if added is not None:
            await events.opted_out(conn, dict(added))
    return added is not None


async def remove_dnc(db: Db, phone: str) -> bool:
    """Take ``phone`` off the list; ``True`` if it was on it."""
    return (await db.execute("DELETE FROM do_not_call WHERE phone = $1", phone)).endswith(" 1")


async def is_dnc(db: Db, phone: str) -> bool:
    return bool(await db.fetchval("SELECT true FROM do_not_call WHERE phone = $1", phone))


async def get_dnc(db: Db, phone: str) -> DncEntry | None:
    r = await db.fetchrow("SELECT * FROM do_not_call WHERE phone = $1", phone)
    return None if r is None else DncEntry(**dict(r))


async def list_dnc(db: Db, *, limit: int = 100, after: str | None = None) -> list[DncEntry]:
    """Entries in phone order; page with ``after`` = the last phone seen."""
    rows = await db.fetch(
        "SELECT * FROM do_not_call WHERE ($1::text IS NULL OR phone > $1) ORDER BY phone LIMIT $2",
        after,
        limit,
    )
    return [DncEntry(**dict(r)) for r in rows]

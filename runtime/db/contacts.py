"""Contacts of a campaign: stored from an import, read page by page by the campaign workflow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from runtime.contacts import Contact
from runtime.db import events
from runtime.db.types import Db, acquire


@dataclass(frozen=True)
class ContactRow:
    campaign: str
    id: str
    phone: str
    timezone: str
    name: str
    columns: dict[str, str]
    fields: dict[str, Any]
    source_row: int | None
    status: str
    outcome: str | None
    attempts: int
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class StoreResult:
    inserted: int
    conflicts: tuple[tuple[Contact, str], ...]
    """Contacts not stored because the campaign already has their id or phone: (contact, why)."""


_COLUMNS = (
    "campaign, id, phone, timezone, name, columns, fields, source_row, status, outcome,"
    " attempts, next_attempt_at"
)


async def store_contacts(db: Db, campaign: str, contacts: Sequence[Contact]) -> StoreResult:
    """Add imported contacts to ``campaign``; those it already has are returned, not dropped.

    A contact conflicts when the campaign already holds its id or its phone number (from an
    earlier import): importing the same file twice adds nothing and reports every row.
    """
    rows = [
        (campaign, c.id, c.phone, c.timezone, c.name, c.columns, c.fields, c.row) for c in contacts
    ]
    if not rows:
        return StoreResult(0, ())
    async with acquire(db) as conn, conn.transaction():
        existing = await conn.fetch(
            "SELECT id, phone FROM contacts WHERE campaign = $1"
            " AND (id = ANY($2::text[]) OR phone = ANY($3::text[]))",
            campaign,
            [c.id for c in contacts],
            [c.phone for c in contacts],
        )
        ids = {r["id"] for r in existing}
        phones = {r["phone"]: r["id"] for r in existing}
        conflicts: list[tuple[Contact, str]] = []
        fresh = []
        for c, row in zip(contacts, rows, strict=True):
            if c.id in ids:
                conflicts.append((c, f"id {c.id!r} is already in campaign {campaign!r}"))
            elif c.phone in phones:
                conflicts.append(
                    (c, f"{c.phone} is already contact {phones[c.phone]!r} of {campaign!r}")
                )
            else:
                fresh.append(row)
        await conn.executemany(
            "INSERT INTO contacts (campaign, id, phone, timezone, name, columns, fields, source_row)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            fresh,
        )
    return StoreResult(len(fresh), tuple(conflicts))


async def contacts_page(
    db: Db, campaign: str, cursor: str | None, limit: int
) -> tuple[list[ContactRow], str | None]:
    """Up to ``limit`` contacts after ``cursor`` in import order, and the next cursor.

    The cursor is opaque text; ``None`` starts at the beginning. The next cursor is ``None``
    when this page reached the end.
    """
    after = int(cursor) if cursor else 0
    records = await db.fetch(
        f"SELECT seq, {_COLUMNS} FROM contacts WHERE campaign = $1 AND seq > $2"
        " ORDER BY seq LIMIT $3",
        campaign,
        after,
        limit + 1,
    )
    more = len(records) > limit
    records = records[:limit]
    next_cursor = str(records[-1]["seq"]) if more else None
    return [_row(r) for r in records], next_cursor


async def get_contact(db: Db, campaign: str, contact_id: str) -> ContactRow | None:
    r = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM contacts WHERE campaign = $1 AND id = $2", campaign, contact_id
    )
    return None if r is None else _row(r)


async def count_contacts(db: Db, campaign: str) -> dict[str, int]:
    """Contacts of ``campaign`` by status."""
    return {
        r["status"]: r["n"]
        for r in await db.fetch(
            "SELECT status, count(*) AS n FROM contacts WHERE campaign = $1 GROUP BY status",
            campaign,
        )
    }


async def update_contact_state(
    db: Db,
    campaign: str,
    contact_id: str,
    *,
    status: str,
    attempts: int | None = None,
    outcome: str | None = None,
    next_attempt_at: datetime | None = None,
    unless_settled: bool = False,
) -> bool:
    """Record where a contact stands (from its workflow), with the webhook events a settled
    contact emits. False when the contact is unknown, or (``unless_settled``) already
    settled: a contact settles once, and emits ``contact.settled`` once."""
    guard = " AND status NOT IN ('final', 'stopped')" if unless_settled else ""
    async with acquire(db) as conn, conn.transaction():
        result = await conn.execute(
            "UPDATE contacts SET status = $3, attempts = coalesce($4, attempts),"
            " outcome = coalesce($5, outcome), next_attempt_at = $6, updated_at = now()"
            " WHERE campaign = $1 AND id = $2" + guard,
            campaign,
            contact_id,
            status,
            attempts,
            outcome,
            next_attempt_at,
        )
        updated = result.endswith(" 1")
        if updated and status in events.SETTLED:
            await events.contact_settled(conn, campaign, contact_id)
    return updated


def _row(r: asyncpg.Record) -> ContactRow:
    d = dict(r)
    d.pop("seq", None)
    return ContactRow(**d)

"""Attempts: one row per dial, written before the originate (at-most-once dialling).

The contact workflow calls ``record_dialing`` before the dial activity. It returns ``True``
only for the call that created the row: a retried activity (the worker died after the insert)
sees ``False`` and must not originate again; the attempt is then settled as ``unknown`` by the
campaign's rules. ``finish_attempt`` is idempotent too, so the result activity retries freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from runtime.db.types import Db

AttemptStatus = Literal["dialing", "answered", "finished", "unknown"]


@dataclass(frozen=True)
class AttemptRow:
    id: str
    campaign: str
    contact: str
    number: int
    phone: str
    flow_hash: str | None
    status: AttemptStatus
    outcome: str | None
    action: str | None
    next_at: datetime | None
    detail: str
    dialed_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    originated_at: datetime | None = None
    """When the dial activity claimed the attempt for its one originate."""


async def record_dialing(
    db: Db,
    attempt_id: str,
    *,
    campaign: str,
    contact: str,
    number: int,
    phone: str,
    flow_hash: str | None = None,
) -> bool:
    """Write the attempt with status ``dialing``; ``True`` if this call wrote it.

    ``False`` means the attempt already exists (a retry): do not originate it again.
    """
    inserted = await db.fetchval(
        "INSERT INTO attempts (id, campaign, contact, number, phone, flow_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING true",
        attempt_id,
        campaign,
        contact,
        number,
        phone,
        flow_hash,
    )
    return bool(inserted)


async def claim_originate(db: Db, attempt_id: str) -> bool:
    """Take the one right to originate a recorded attempt; ``True`` for the first claim only.

    Atomic in the database: whatever runs the dial twice (a re-delivered task, a second
    worker), only one claim succeeds, so the PBX sees at most one originate per attempt.
    """
    claimed = await db.fetchval(
        "UPDATE attempts SET originated_at = now()"
        " WHERE id = $1 AND status = 'dialing' AND originated_at IS NULL RETURNING true",
        attempt_id,
    )
    return bool(claimed)


async def mark_answered(db: Db, attempt_id: str, at: datetime | None = None) -> None:
    await db.execute(
        "UPDATE attempts SET status = 'answered', answered_at = coalesce($2, now())"
        " WHERE id = $1 AND status = 'dialing'",
        attempt_id,
        at,
    )


async def finish_attempt(
    db: Db,
    attempt_id: str,
    *,
    outcome: str,
    action: str | None = None,
    next_at: datetime | None = None,
    detail: str = "",
    status: Literal["finished", "unknown"] = "finished",
) -> bool:
    """Record how the attempt ended and the campaign rule applied. Idempotent.

    Returns ``False`` when no such attempt was recorded (a bug upstream: dial without record).
    """
    result = await db.execute(
        "UPDATE attempts SET status = $2, outcome = $3, action = $4, next_at = $5, detail = $6,"
        " ended_at = coalesce(ended_at, now()) WHERE id = $1",
        attempt_id,
        status,
        outcome,
        action,
        next_at,
        detail,
    )
    return result.endswith(" 1")


async def get_attempt(db: Db, attempt_id: str) -> AttemptRow | None:
    r = await db.fetchrow("SELECT * FROM attempts WHERE id = $1", attempt_id)
    return None if r is None else AttemptRow(**dict(r))


async def attempts_of(db: Db, campaign: str, contact: str) -> list[AttemptRow]:
    return [
        AttemptRow(**dict(r))
        for r in await db.fetch(
            "SELECT * FROM attempts WHERE campaign = $1 AND contact = $2 ORDER BY number, dialed_at",
            campaign,
            contact,
        )
    ]


async def outcome_counts(db: Db, campaign: str) -> dict[str, int]:
    """Outcomes of every finished attempt of ``campaign``."""
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT outcome, count(*) AS n FROM outcomes WHERE campaign = $1 GROUP BY outcome",
        campaign,
    )
    return {r["outcome"]: r["n"] for r in rows}

"""Attempts: one row per dial, written before the originate (at-most-once dialling).

The contact workflow records the attempt (``start_attempt``, or ``record_dialing`` alone)
before the dial activity; the dial activity then claims it (``claim_for_dial``), and only the
first claim may originate: a dial delivered twice reaches the PBX once, and an attempt whose
result was lost is settled as ``unknown`` by the campaign's rules. ``finish_attempt`` and
``settle_attempt`` are idempotent too, so the result activity retries freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import asyncpg

from runtime.db import calls, contacts, events
from runtime.db.types import Db, acquire

AttemptStatus = Literal["dialing", "answered", "finished", "unknown", "aborted"]
"""``aborted``: its contact workflow closed mid-call (:func:`settle_closed_contact`)."""
ABORTED = "aborted"


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
    dial_answered: bool | None = None
    """Whether the PBX reported the originate answered; ``None`` until it reported."""
    dial_outcome: str | None = None
    """The PBX's telephony outcome of the originate (``busy``, ``machine``...)."""
    window_override: str | None = None
    """Who had this attempt dialled outside the calling windows (a test call's "call now");
    ``None`` when the windows applied."""
    tenant: str = "default"
    line_pool: str | None = None
    """The PBX whose line the originated attempt holds (``claim_for_dial``)."""


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


async def start_attempt(
    db: Db,
    attempt_id: str,
    *,
    campaign: str,
    contact: str,
    number: int,
    phone: str,
    flow_hash: str | None = None,
    window_override: str | None = None,
) -> bool:
    """:func:`record_dialing`, and the contact's state (``dialing``, ``number`` attempts), in
    one statement: the round trip an attempt pays before its dial. ``True`` if this call
    wrote the attempt. ``window_override`` records who had it dialled outside the windows."""
    inserted = await db.fetchval(
        "WITH attempt AS ("
        " INSERT INTO attempts (id, campaign, contact, number, phone, flow_hash, window_override)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING true),"
        " contact AS ("
        " UPDATE contacts SET status = 'dialing', attempts = $4, updated_at = now()"
        " WHERE campaign = $2 AND id = $3)"
        " SELECT EXISTS (SELECT 1 FROM attempt)",
        attempt_id,
        campaign,
        contact,
        number,
        phone,
        flow_hash,
        window_override,
    )
    return bool(inserted)


DialClaim = Literal[
    "claimed",
    "do_not_call",
    "already_originated",
    "not_recorded",
    "no_line:lines_full",
    "no_line:fair_share",
    "no_line:tenant_lines",
    "no_line:tenant_rate",
]
"""``no_line:*``: nothing was claimed; the attempt may claim again a little later."""

LINE_WAIT_TTL = timedelta(seconds=30)
"""How long a refused claim marks its tenant as waiting for a line of the PBX."""


async def claim_for_dial(
    db: Db,
    attempt_id: str,
    phone: str,
    *,
    lines: int | None = None,
    line_pool: str = "pbx",
    wait_ttl: timedelta = LINE_WAIT_TTL,
) -> DialClaim:
    """Take the one right to originate a recorded attempt of the current tenant, and a line.

    One database function (``voxflow_claim_line``, migration ``0200_tenants.sql``) decides
    under one lock per PBX: a number on the tenant's or the platform's do-not-call list is
    refused; only the first claim of an attempt succeeds whatever runs the dial twice (a
    re-delivered task, a second worker), so the PBX sees at most one originate per attempt;
    the tenant's own caps (``tenants.max_lines``, ``tenants.dial_per_minute``) hold; and when
    the PBX has ``lines`` (None: unlimited), a line goes to no tenant while another waiting
    tenant holds fewer (max-min fair sharing), so a small campaign is never stuck behind a
    large one. A line is held while its attempt is originated and not ended.
    """
    verdict = await db.fetchval(
        "SELECT voxflow_claim_line($1, voxflow_tenant(), $2, $3, $4, $5)",
        attempt_id,
        phone,
        line_pool,
        lines,
        wait_ttl,
    )
    return verdict  # type: ignore[no-any-return]


async def mark_answered(db: Db, attempt_id: str, at: datetime | None = None) -> None:
    await db.execute(
        "UPDATE attempts SET status = 'answered', answered_at = coalesce($2, now())"
        " WHERE id = $1 AND status = 'dialing'",
        attempt_id,
        at,
    )


async def record_dial_result(
    db: Db, attempt_id: str, *, answered: bool, outcome: str | None
) -> None:
    """What the PBX answered to the attempt's originate (``outcome``: the telephony outcome
    when no person answered, ``machine``/``voicemail`` for an answering machine). Written before
    the dial activity returns, so a workflow that loses that result can read it back."""
    await db.execute(
        "UPDATE attempts SET dial_answered = $2, dial_outcome = $3 WHERE id = $1",
        attempt_id,
        answered,
        outcome,
    )


@dataclass(frozen=True)
class AttemptFacts:
    """What PostgreSQL knows of an attempt whose result a workflow lost."""

    dial_answered: bool | None
    """``None``: the PBX's answer was never stored (the originate did not come back)."""
    dial_outcome: str | None
    call_outcome: str | None
    """The outcome the call stored when it ended, ``None`` when it did not end cleanly."""
    call_error: str | None = None


async def attempt_facts(db: Db, attempt_id: str) -> AttemptFacts:
    row = await db.fetchrow(
        "SELECT a.dial_answered, a.dial_outcome, c.outcome AS call_outcome, c.error"
        " FROM attempts a LEFT JOIN calls c ON c.id = a.id AND c.ended_at IS NOT NULL"
        " WHERE a.id = $1",
        attempt_id,
    )
    if row is None:
        return AttemptFacts(None, None, None)
    return AttemptFacts(
        row["dial_answered"], row["dial_outcome"], row["call_outcome"], row["error"]
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


async def settle_attempt(
    db: Db,
    attempt_id: str,
    *,
    campaign: str,
    contact: str,
    outcome: str,
    action: str,
    next_at: datetime | None,
    detail: str,
    status: Literal["finished", "unknown"],
    contact_status: str,
    contact_outcome: str | None,
) -> bool:
    """:func:`finish_attempt`, and the contact's state (``contact_status``, its outcome when
    given, its next attempt time), in one transaction with the webhook events a settled
    contact emits (``runtime/db/events.py``). Idempotent; ``False`` when no such attempt was
    recorded."""
    async with acquire(db) as conn, conn.transaction():
        settled = await conn.fetchval(
            "WITH attempt AS ("
            " UPDATE attempts SET status = $2, outcome = $3, action = $4, next_at = $5,"
            " detail = $6, ended_at = coalesce(ended_at, now()) WHERE id = $1 RETURNING true),"
            " contact AS ("
            " UPDATE contacts SET status = $9, outcome = coalesce($10, outcome),"
            " next_attempt_at = $5, updated_at = now() WHERE campaign = $7 AND id = $8)"
            " SELECT EXISTS (SELECT 1 FROM attempt)",
            attempt_id,
            status,
            outcome,
            action,
            next_at,
            detail,
            campaign,
            contact,
            contact_status,
            contact_outcome,
        )
        if settled and contact_status in events.SETTLED:
            await events.contact_settled(conn, campaign, contact)
    return bool(settled)


async def settle_closed_contact(
    db: Db, campaign: str, contact: str, *, outcome: str, detail: str
) -> bool:
    """Settle a contact whose workflow closed without recording its end (terminated, failed,
    timed out), in one transaction with the webhook events a settled contact emits.

    Its attempt still open (it closed mid-call) ends ``aborted``, its outcome ``aborted`` and
    ``detail`` saying how and why: nothing else would end it, and an originated attempt not
    ended holds its PBX line. That attempt's call, if its row is still open, ends too
    (:func:`calls.abort_calls`), or it would show as live for good. The contact ends
    ``final`` with ``outcome``, unless it is settled already (it recorded its end, then was
    terminated: its own outcome stands). Idempotent; ``True`` when this call settled the
    contact."""
    async with acquire(db) as conn, conn.transaction():
        aborted = await conn.fetch(
            "UPDATE attempts SET status = $3, outcome = $3, detail = $4,"
            " ended_at = coalesce(ended_at, now())"
            " WHERE campaign = $1 AND contact = $2 AND status IN ('dialing', 'answered')"
            " RETURNING id",
            campaign,
            contact,
            ABORTED,
            detail,
        )
        await calls.abort_calls(conn, [r["id"] for r in aborted], detail)
        return await contacts.update_contact_state(
            conn, campaign, contact, status="final", outcome=outcome, unless_settled=True
        )


async def end_abandoned(
    db: Db,
    attempt_id: str,
    campaign: str,
    contact: str | None,
    *,
    closed_outcome: str | None,
    detail: str,
) -> bool:
    """End the open attempt ``attempt_id`` whose workflow went away: with its contact settled
    (:func:`settle_closed_contact`) when the workflow closed without reporting
    (``closed_outcome``, e.g. terminated) and the contact is known, else the attempt and its
    call alone (:func:`abort_attempt`). The one rule of the converse and dial activities and
    of the sweep of held lines (``runtime/held_lines.py``)."""
    if closed_outcome is not None and contact is not None:
        return await settle_closed_contact(
            db, campaign, contact, outcome=closed_outcome, detail=detail
        )
    return await abort_attempt(db, attempt_id, detail)


async def abort_attempt(db: Db, attempt_id: str, detail: str) -> bool:
    """End the attempt ``attempt_id`` ``aborted`` (outcome ``aborted``, ``detail`` saying why)
    if it is still open, and its call's row if still open (:func:`calls.abort_calls`), in one
    transaction: its workflow went away and nothing else will end it, and an originated
    attempt not ended holds its PBX line. Its contact is left as it is (a contact workflow
    that completed wrote its own state). ``True`` when this call ended the attempt."""
    async with acquire(db) as conn, conn.transaction():
        ended = await conn.fetchval(
            "UPDATE attempts SET status = $2, outcome = $2, detail = $3,"
            " ended_at = coalesce(ended_at, now())"
            " WHERE id = $1 AND status IN ('dialing', 'answered') RETURNING true",
            attempt_id,
            ABORTED,
            detail,
        )
        if ended:
            await calls.abort_calls(conn, [attempt_id], detail)
    return bool(ended)


LineHolder = tuple[str, str, str, str]
"""An attempt holding a line: its id, campaign, contact and tenant."""


async def line_holders(db: Db, line_pool: str | None, older_than: timedelta) -> list[LineHolder]:
    """The attempts holding a line of ``line_pool`` (any PBX when ``None``), originated more
    than ``older_than`` ago: the rows ``voxflow_claim_line`` counts (migration
    ``0200_tenants.sql``), across tenants when the caller acts as the platform."""
    rows = await db.fetch(
        "SELECT id, campaign, contact, tenant FROM attempts"
        " WHERE originated_at IS NOT NULL AND ended_at IS NULL"
        " AND originated_at < now() - $1::interval AND ($2::text IS NULL OR line_pool = $2)"
        " ORDER BY originated_at",
        older_than,
        line_pool,
    )
    return [(r["id"], r["campaign"], r["contact"], r["tenant"]) for r in rows]


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


async def attempts_of_campaign(db: Db, campaign: str, limit: int = 50) -> list[AttemptRow]:
    """The first ``limit`` attempts of ``campaign`` (a test call's id), oldest first."""
    return [
        AttemptRow(**dict(r))
        for r in await db.fetch(
            "SELECT * FROM attempts WHERE campaign = $1 ORDER BY dialed_at, number LIMIT $2",
            campaign,
            limit,
        )
    ]


async def outcome_counts(db: Db, campaign: str) -> dict[str, int]:
    """Outcomes of every finished attempt of ``campaign``."""
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT outcome, count(*) AS n FROM outcomes WHERE campaign = $1 GROUP BY outcome",
        campaign,
    )
    return {r["outcome"]: r["n"] for r in rows}

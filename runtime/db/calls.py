"""Calls and what happened in them: transcript turns, tool calls, node path, outcome.

Writes are idempotent (keyed by call id, transcript ``seq``, tool call id) so activities that
persist them may retry. Transcript and tool-call writes create the call row when it does not
exist yet, so nothing said in a call is lost for want of a header row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from runtime.db import events
from runtime.db.text import storable
from runtime.db.types import Db, acquire


@dataclass(frozen=True)
class Turn:
    seq: int
    role: str
    text: str
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class ToolCallRow:
    tool_call_id: str
    name: str
    node: str | None
    arguments: dict[str, Any]
    result: Any
    error: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class CallRow:
    id: str
    direction: str
    campaign: str | None
    contact: str | None
    phone: str | None
    flow_hash: str | None
    provider: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    node_path: list[str]
    turns: int
    duration_ms: int | None
    error: str | None
    usage: dict[str, Any] = field(default_factory=dict)
    """Provider usage by provider name (tokens, audio ms, ``cost_usd``), as the bridge reports it."""
    cost_usd: float | None = None
    """The providers' ``cost_usd`` summed; ``None`` when no provider reported usage."""
    recording: str | None = None
    """The WAV file's name relative to the recordings directory; ``None`` when not recorded."""
    visits: list[dict[str, Any]] = field(default_factory=list)
    """Each stay in a node (``runtime.call.result.TimedVisit`` as JSON); ``[]`` before 0008."""
    ended_by: str | None = None
    """``agent``, ``caller`` (hung up), ``provider``, ``cancelled`` (the workflow or an
    operator hung up) or ``aborted`` (its workflow went away mid-call); ``None`` when not
    known."""
    tenant: str = "default"
    slots: dict[str, Any] | None = None
    """What the flow collected (its slots at the end of the call); ``None`` before 0201."""


def _call_row(r: asyncpg.Record) -> CallRow:
    values = dict(r)
    if values.get("cost_usd") is not None:
        values["cost_usd"] = float(values["cost_usd"])
    return CallRow(**values)


def total_cost(usage: dict[str, Any]) -> float | None:
    """The sum of the ``cost_usd`` each provider reported; ``None`` when none reported one."""
    costs = [
        float(u["cost_usd"])
        for u in usage.values()
        if isinstance(u, dict) and isinstance(u.get("cost_usd"), int | float)
    ]
    return round(sum(costs), 6) if costs else None


@dataclass(frozen=True)
class CallDetail:
    call: CallRow
    transcript: list[Turn]
    tool_calls: list[ToolCallRow]


async def start_call(
    db: Db,
    call_id: str,
    *,
    direction: str = "outbound",
    campaign: str | None = None,
    contact: str | None = None,
    phone: str | None = None,
    flow_hash: str | None = None,
    provider: str | None = None,
    started_at: datetime | None = None,
) -> None:
    """Create the call row, or fill in what an earlier partial write left blank."""
    await db.execute(
        "INSERT INTO calls (id, direction, campaign, contact, phone, flow_hash, provider, started_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()))"
        " ON CONFLICT (id) DO UPDATE SET"
        " campaign = coalesce(calls.campaign, EXCLUDED.campaign),"
        " contact = coalesce(calls.contact, EXCLUDED.contact),"
        " phone = coalesce(calls.phone, EXCLUDED.phone),"
        " flow_hash = coalesce(calls.flow_hash, EXCLUDED.flow_hash),"
        " provider = coalesce(calls.provider, EXCLUDED.provider)",
        call_id,
        direction,
        campaign,
        contact,
        phone,
        flow_hash,
        provider,
        started_at,
    )


async def end_call(
    db: Db,
    call_id: str,
    *,
    outcome: str,
    node_path: Sequence[str] = (),
    turns: int = 0,
    duration_ms: int | None = None,
    error: str | None = None,
    ended_at: datetime | None = None,
    usage: dict[str, Any] | None = None,
    recording: str | None = None,
    visits: Sequence[dict[str, Any]] | None = None,
    ended_by: str | None = None,
    slots: Mapping[str, Any] | None = None,
) -> None:
    """Record the end of a call (creating its row if needed), and its ``call.completed``
    webhook event in the same transaction. Idempotent: a repeated end emits nothing new.

    Args:
        usage: provider usage by provider name; ``cost_usd`` is derived from it.
        recording: the WAV file's name relative to the recordings directory.
        visits: each stay in a node (``TimedVisit.as_json()``), for the heat map.
        ended_by: ``agent``, ``caller``, ``provider``, ``cancelled`` or ``aborted``.
        slots: what the flow collected (its slots when the call ended).

    A call already ended (:func:`abort_calls`) keeps its end instant and its error when
    these are not given; the rest is filled in.
    """
    async with acquire(db) as conn, conn.transaction():
        await _ensure_call(conn, call_id)
        ended = await conn.fetchrow(
            "UPDATE calls SET outcome = $2, node_path = $3, turns = $4, duration_ms = $5,"
            " error = coalesce($6, error), ended_at = coalesce($7, ended_at, now()),"
            " usage = coalesce($8, usage), cost_usd = coalesce($9, cost_usd),"
            " recording = coalesce($10, recording), visits = coalesce($11, visits),"
            " ended_by = coalesce($12, ended_by), slots = coalesce($13, slots) WHERE id = $1"
            " RETURNING *, (SELECT number FROM attempts a WHERE a.id = calls.id) AS attempt_number",
            call_id,
            outcome,
            list(node_path),
            turns,
            duration_ms,
            storable(error),
            ended_at,
            usage,
            _numeric(None if usage is None else total_cost(usage)),
            recording,
            None if visits is None else list(visits),
            ended_by or None,
            None if slots is None else storable(dict(slots)),
        )
        await events.call_completed(conn, dict(ended))


ABORTED = "aborted"
"""``ended_by`` (and ``outcome``, when the call stored none) of a call whose workflow went
away mid-call: nobody recorded how it ended (migration ``0204_aborted_calls.sql``)."""


async def abort_calls(conn: asyncpg.Connection, call_ids: Sequence[str], why: str) -> None:
    """End the calls of ``call_ids`` still open, ``aborted``, with ``why`` as their error when
    they have none, each with its ``call.completed`` event; inside the caller's transaction
    (the one that aborts their attempts). A call already ended keeps its end. The worker
    that ran one may record its end later: its details (transcript, node path, duration,
    cost) are filled in then, and the end instant and the event stay."""
    if not call_ids:
        return
    ended = await conn.fetch(
        "UPDATE calls SET ended_at = now(), outcome = coalesce(outcome, $2), ended_by = $2,"
        " error = coalesce(error, $3) WHERE id = ANY($1::text[]) AND ended_at IS NULL"
        " RETURNING *, (SELECT number FROM attempts a WHERE a.id = calls.id) AS attempt_number",
        list(call_ids),
        ABORTED,
        storable(why) or None,
    )
    for call in ended:
        await events.call_completed(conn, dict(call))


async def append_transcript(db: Db, call_id: str, turns: Sequence[Turn]) -> None:
    """Store transcript entries; an entry already stored under its ``seq`` is kept as is."""
    if not turns:
        return
    async with acquire(db) as conn, conn.transaction():
        await _ensure_call(conn, call_id)
        await conn.executemany(
            "INSERT INTO transcripts (call_id, seq, role, node, text, data, at)"
            " VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()))"
            " ON CONFLICT (call_id, seq) DO NOTHING",
            [
                (call_id, t.seq, t.role, t.node, storable(t.text), storable(t.data), t.at)
                for t in turns
            ],
        )


async def record_tool_call(
    db: Db,
    call_id: str,
    tool_call_id: str,
    *,
    name: str,
    arguments: dict[str, Any],
    node: str | None = None,
    result: Any = None,
    error: str | None = None,
    ended: bool = True,
) -> None:
    """Store a tool call (upsert by its id, so the result may come in a second write)."""
    async with acquire(db) as conn, conn.transaction():
        await _ensure_call(conn, call_id)
        await conn.execute(
            "INSERT INTO tool_calls (call_id, tool_call_id, name, node, arguments, result, error,"
            " ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END)"
            " ON CONFLICT (call_id, tool_call_id) DO UPDATE SET result = EXCLUDED.result,"
            " error = EXCLUDED.error, ended_at = coalesce(tool_calls.ended_at, EXCLUDED.ended_at)",
            call_id,
            tool_call_id,
            name,
            node,
            storable(arguments),
            storable(result),
            storable(error),
            ended,
        )


async def list_calls(
    db: Db,
    *,
    campaign: str | None = None,
    contact: str | None = None,
    outcome: str | None = None,
    limit: int = 50,
    before: datetime | None = None,
    since: datetime | None = None,
    phone: str | None = None,
) -> list[CallRow]:
    """Calls, newest first, optionally filtered; page with ``before`` = last ``started_at``.

    ``since`` keeps calls started at or after it; ``phone`` those whose number contains it
    (``"555"`` finds ``+12125550100``)."""
    rows = await db.fetch(
        "SELECT * FROM calls WHERE ($1::text IS NULL OR campaign = $1)"
        " AND ($2::text IS NULL OR contact = $2) AND ($3::text IS NULL OR outcome = $3)"
        " AND ($4::timestamptz IS NULL OR started_at < $4)"
        " AND ($6::timestamptz IS NULL OR started_at >= $6)"
        " AND ($7::text IS NULL OR strpos(phone, $7) > 0)"
        " ORDER BY started_at DESC, id LIMIT $5",
        campaign,
        contact,
        outcome,
        before,
        limit,
        since,
        phone,
    )
    return [_call_row(r) for r in rows]


async def call_facets(db: Db, limit: int = 200) -> tuple[list[str], list[str]]:
    """The campaigns and the outcomes calls were recorded with (a filter's choices)."""
    campaigns = await db.fetch(
        "SELECT DISTINCT campaign FROM calls WHERE campaign IS NOT NULL ORDER BY 1 LIMIT $1", limit
    )
    outcomes = await db.fetch(
        "SELECT DISTINCT outcome FROM calls WHERE outcome IS NOT NULL ORDER BY 1 LIMIT $1", limit
    )
    return [r[0] for r in campaigns], [r[0] for r in outcomes]


async def get_call(db: Db, call_id: str) -> CallDetail | None:
    """The call with its transcript (in ``seq`` order) and tool calls, or ``None``."""
    async with acquire(db) as conn:
        r = await conn.fetchrow("SELECT * FROM calls WHERE id = $1", call_id)
        if r is None:
            return None
        turns = await conn.fetch(
            "SELECT seq, role, text, node, data, at FROM transcripts WHERE call_id = $1"
            " ORDER BY seq",
            call_id,
        )
        tools = await conn.fetch(
            "SELECT tool_call_id, name, node, arguments, result, error, started_at, ended_at"
            " FROM tool_calls WHERE call_id = $1 ORDER BY started_at, tool_call_id",
            call_id,
        )
    return CallDetail(
        call=_call_row(r),
        transcript=[Turn(**dict(t)) for t in turns],
        tool_calls=[ToolCallRow(**dict(t)) for t in tools],
    )


def _numeric(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def _ensure_call(conn: asyncpg.Connection, call_id: str) -> None:
    await conn.execute("INSERT INTO calls (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", call_id)

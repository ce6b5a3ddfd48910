"""The heat map of a flow, read from the stored calls (``runtime.heatmap`` does the counting).

A flow is named by its agent: every stored version of it counts (``flow_versions.agent``), so a
campaign that ran an edited flow, or test calls of several versions, add up node by node. Only
finished calls count (``ended_at`` set): a live call's path is not over yet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from runtime.call.result import TimedVisit
from runtime.db.types import Db, acquire
from runtime.heatmap import CallTrace, HeatMap

_FETCH = 500
"""Rows fetched at a time: a campaign of 100,000 calls never sits in memory at once."""


@dataclass(frozen=True)
class HeatMapQuery:
    flow: str
    """The agent's name (``agent <name>`` in the flow file)."""
    campaign: str | None = None
    since: datetime | None = None
    """Calls started at or after this instant."""
    until: datetime | None = None
    """Calls started before this instant."""


@dataclass
class StoredHeatMap:
    heat: HeatMap
    versions: Counter[str] = field(default_factory=Counter)
    """Calls counted per flow version (hash)."""
    latest_version: str | None = None
    """The version of the most recent call counted."""


async def flow_versions_of(db: Db, agent: str) -> list[str]:
    """Hashes of the stored versions of ``agent``, newest first."""
    rows = await db.fetch(
        "SELECT hash FROM flow_versions WHERE agent = $1 ORDER BY created_at DESC, hash", agent
    )
    return [r["hash"] for r in rows]


async def load_heat_map(db: Db, query: HeatMapQuery) -> StoredHeatMap:
    """Count the finished calls of ``query.flow`` that match the query."""
    out = StoredHeatMap(HeatMap())
    latest: datetime | None = None
    async with acquire(db) as conn, conn.transaction():
        cursor = conn.cursor(
            "SELECT c.node_path, c.visits, c.outcome, c.ended_by, c.flow_hash, c.started_at"
            " FROM calls c JOIN flow_versions f ON f.hash = c.flow_hash"
            " WHERE f.agent = $1 AND c.ended_at IS NOT NULL"
            " AND ($2::text IS NULL OR c.campaign = $2)"
            " AND ($3::timestamptz IS NULL OR c.started_at >= $3)"
            " AND ($4::timestamptz IS NULL OR c.started_at < $4)",
            query.flow,
            query.campaign,
            query.since,
            query.until,
            prefetch=_FETCH,
        )
        async for r in cursor:
            out.heat.add(
                CallTrace(
                    node_path=r["node_path"],
                    visits=[
                        TimedVisit.from_json(v)
                        for v in r["visits"]
                        if isinstance(v, dict) and isinstance(v.get("node"), str)
                    ],
                    outcome=r["outcome"],
                    ended_by=r["ended_by"],
                )
            )
            out.versions[r["flow_hash"]] += 1
            if latest is None or r["started_at"] > latest:
                latest, out.latest_version = r["started_at"], r["flow_hash"]
    return out

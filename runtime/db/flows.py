"""Flow versions: the exact IR a campaign runs, stored once by its content hash."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dsl.ir import Flow
from runtime.db.types import Db


@dataclass(frozen=True)
class FlowVersion:
    hash: str
    agent: str
    ir: dict[str, Any]
    """The IR as JSON values (``Flow.from_json(json.dumps(ir))`` rebuilds the flow)."""
    created_at: datetime
    source_name: str | None = None
    """The file the flow was compiled from, when the client that stored it said so."""


async def save_flow(db: Db, flow: Flow, *, source_name: str | None = None) -> str:
    """Store ``flow`` (a no-op when its hash is already stored) and return its hash.

    A ``source_name`` given later fills in one that was not known when the version was stored.
    """
    await db.execute(
        "INSERT INTO flow_versions (hash, agent, ir, source_name) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tenant, hash) DO UPDATE"
        " SET source_name = coalesce(flow_versions.source_name, EXCLUDED.source_name)",
        flow.hash,
        flow.agent.name,
        json.loads(flow.to_json()),
        source_name,
    )
    return flow.hash


async def load_flow(db: Db, flow_hash: str) -> Flow | None:
    """The flow stored under ``flow_hash``, or ``None``."""
    ir = await db.fetchval("SELECT ir FROM flow_versions WHERE hash = $1", flow_hash)
    if ir is None:
        return None
    return Flow.from_json(json.dumps(ir))


async def get_flow_version(db: Db, flow_hash: str) -> FlowVersion | None:
    """The stored version ``flow_hash`` with its IR and provenance, or ``None``."""
    r = await db.fetchrow(
        "SELECT hash, agent, ir, created_at, source_name FROM flow_versions WHERE hash = $1",
        flow_hash,
    )
    return None if r is None else FlowVersion(**dict(r))

"""Flow versions: the exact IR a campaign runs, stored once by its content hash."""

from __future__ import annotations

import json

from dsl.ir import Flow
from runtime.db.types import Db


async def save_flow(db: Db, flow: Flow) -> str:
    """Store ``flow`` (a no-op when its hash is already stored) and return its hash."""
    await db.execute(
        "INSERT INTO flow_versions (hash, agent, ir) VALUES ($1, $2, $3)"
        " ON CONFLICT (hash) DO NOTHING",
        flow.hash,
        flow.agent.name,
        json.loads(flow.to_json()),
    )
    return flow.hash


async def load_flow(db: Db, flow_hash: str) -> Flow | None:
    """The flow stored under ``flow_hash``, or ``None``."""
    ir = await db.fetchval("SELECT ir FROM flow_versions WHERE hash = $1", flow_hash)
    if ir is None:
        return None
    return Flow.from_json(json.dumps(ir))

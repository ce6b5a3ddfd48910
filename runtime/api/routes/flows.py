"""Flow versions by content hash: the exact IR a campaign or a call ran."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException

from runtime.api import models
from runtime.api.auth import ANY_ROLE
from runtime.api.deps import db
from runtime.db import flows

router = APIRouter(prefix="/flows", tags=["flows"], dependencies=[Depends(ANY_ROLE)])
Db = Annotated[asyncpg.Pool, Depends(db)]


@router.get(
    "/{flow_hash}",
    response_model=models.FlowVersionOut,
    responses={404: {"model": models.Problem}},
)
async def flow_version(flow_hash: str, pool: Db) -> Any:
    """The stored IR of ``flow_hash`` (``sha256:<hex>``, as calls and campaigns name it), so a
    client can draw a call's node path on the graph of the flow it ran."""
    version = await flows.get_flow_version(pool, flow_hash)
    if version is None:
        raise HTTPException(
            404, detail={"code": "flow_not_found", "message": f"no flow version {flow_hash!r}"}
        )
    return asdict(version)

"""Calls: list, and one call with its transcript, tool calls and node path."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query

from runtime.api import models
from runtime.api.auth import ANY_ROLE
from runtime.api.deps import db
from runtime.db import calls

router = APIRouter(prefix="/calls", tags=["calls"], dependencies=[Depends(ANY_ROLE)])
Db = Annotated[asyncpg.Pool, Depends(db)]


@router.get("", response_model=list[models.CallOut])
async def list_calls(
    pool: Db,
    campaign: str | None = None,
    contact: str | None = None,
    outcome: str | None = None,
    before: Annotated[
        datetime | None, Query(description="started_at of the last call seen")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Newest first; page with ``before``."""
    rows = await calls.list_calls(
        pool, campaign=campaign, contact=contact, outcome=outcome, before=before, limit=limit
    )
    return [asdict(r) for r in rows]


@router.get(
    "/{call_id}", response_model=models.CallDetailOut, responses={404: {"model": models.Problem}}
)
async def call_detail(call_id: str, pool: Db) -> Any:
    detail = await calls.get_call(pool, call_id)
    if detail is None:
        raise HTTPException(
            404, detail={"code": "call_not_found", "message": f"no call {call_id!r}"}
        )
    return {
        **asdict(detail.call),
        "transcript": [asdict(t) for t in detail.transcript],
        "tool_calls": [asdict(t) for t in detail.tool_calls],
    }

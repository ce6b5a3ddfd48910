"""Calls: list, one call with its transcript, tool calls, node path and cost, its recording."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse

from runtime.api import models
from runtime.api.auth import ANY_ROLE
from runtime.api.deps import db
from runtime.db import calls

router = APIRouter(prefix="/calls", tags=["calls"], dependencies=[Depends(ANY_ROLE)])
Db = Annotated[asyncpg.Pool, Depends(db)]


def call_out(row: calls.CallRow) -> dict[str, Any]:
    """A call row as the API shows it: the recording as a URL, never as a server path."""
    out = asdict(row)
    name = out.pop("recording")
    out["recording_url"] = None if name is None else f"/calls/{quote(row.id, safe='')}/recording"
    return out


def _not_found(call_id: str) -> HTTPException:
    return HTTPException(404, detail={"code": "call_not_found", "message": f"no call {call_id!r}"})


@router.get("", response_model=list[models.CallOut])
async def list_calls(
    pool: Db,
    campaign: str | None = None,
    contact: str | None = None,
    outcome: str | None = None,
    phone: Annotated[
        str | None, Query(max_length=32, description="Part of the number, e.g. 5550100")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="Calls started at or after this time")
    ] = None,
    before: Annotated[
        datetime | None, Query(description="started_at of the last call seen")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Newest first; page with ``before``; ``since`` and ``before`` make a date range."""
    rows = await calls.list_calls(
        pool,
        campaign=campaign,
        contact=contact,
        outcome=outcome,
        before=before,
        since=since,
        phone=phone or None,
        limit=limit,
    )
    return [call_out(r) for r in rows]


@router.get("/facets", response_model=models.CallFacets)
async def call_facets(pool: Db) -> Any:
    """The campaigns and outcomes calls were recorded with: the choices of the filters."""
    campaigns, outcomes = await calls.call_facets(pool)
    return {"campaigns": campaigns, "outcomes": outcomes}


@router.get(
    "/{call_id}", response_model=models.CallDetailOut, responses={404: {"model": models.Problem}}
)
async def call_detail(call_id: str, pool: Db) -> Any:
    """The call with its transcript so far: turns are stored while the call lasts."""
    detail = await calls.get_call(pool, call_id)
    if detail is None:
        raise _not_found(call_id)
    return {
        **call_out(detail.call),
        "transcript": [asdict(t) for t in detail.transcript],
        "tool_calls": [asdict(t) for t in detail.tool_calls],
    }


@router.get(
    "/{call_id}/recording",
    response_class=FileResponse,
    responses={
        200: {"content": {"audio/wav": {}}, "description": "Stereo WAV: left caller, right agent"},
        404: {"model": models.Problem},
    },
)
async def call_recording(call_id: str, pool: Db, request: Request) -> FileResponse:
    """The call's recording, a 16-bit stereo WAV (left: the caller, right: the agent)."""
    detail = await calls.get_call(pool, call_id)
    if detail is None:
        raise _not_found(call_id)
    name = detail.call.recording
    path = await asyncio.to_thread(_recording_file, request.app.state.settings.recordings_dir, name)
    if path is None:
        raise HTTPException(
            404,
            detail={
                "code": "recording_not_found",
                "message": f"call {call_id!r} has no recording"
                + ("" if name is None else f" ({name} is not in the recordings directory)"),
            },
        )
    return FileResponse(path, media_type="audio/wav", filename=f"{call_id}.wav")


def _recording_file(directory: Path, name: str | None) -> Path | None:
    """The recording's file, when it exists inside ``directory``.

    The stored name is voxflow's own, but a row is never trusted to point outside the
    recordings directory.
    """
    if not name:
        return None
    root = Path(directory).resolve()
    path = (root / name).resolve()
    return path if path.parent == root and path.is_file() else None

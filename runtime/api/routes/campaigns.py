"""Campaigns: create from a flow, import contacts, start, pause, resume, stop, status."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile, status
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dsl.ir import Flow
from runtime import tenancy
from runtime.api import models
from runtime.api.auth import ANY_ROLE, DESIGNER, OPERATOR
from runtime.api.board import board_out
from runtime.api.deps import db, temporal
from runtime.api.flowsource import compile_or_raise
from runtime.client import Steering
from runtime.contacts import ContactsFileError, ImportOptions, import_contacts
from runtime.db import attempts, campaigns, contacts, flows
from runtime.db.board import load_board
from runtime.destinations import DestinationPolicy

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

Db = Annotated[asyncpg.Pool, Depends(db)]
Temporal = Annotated[Client, Depends(temporal)]
MAX_UPLOAD = 50 * 1024 * 1024


def _problem(code: int, kind: str, message: str) -> HTTPException:
    return HTTPException(code, detail={"code": kind, "message": message})


async def _campaign_and_flow(pool: asyncpg.Pool, name: str) -> tuple[campaigns.CampaignRow, Flow]:
    row = await campaigns.get_campaign(pool, name)
    if row is None:
        raise _problem(404, "campaign_not_found", f"no campaign named {name!r}")
    flow = await flows.load_flow(pool, row.flow_hash)
    if flow is None:  # the foreign key makes this impossible unless the row was tampered with
        raise _problem(500, "flow_missing", f"flow version {row.flow_hash} is missing")
    return row, flow


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=models.CampaignOut,
    responses={
        409: {"model": models.Problem},
        422: {"model": models.Problem, "description": "Invalid request or flow diagnostics"},
    },
    dependencies=[Depends(DESIGNER)],
)
async def create_campaign(body: models.CampaignCreate, pool: Db) -> Any:
    """Compile the flow, store its IR by hash, and create a ``draft`` campaign running it."""
    flow = await compile_or_raise(body.source, body.syntax)
    if flow.campaign is None:
        raise _problem(422, "no_campaign", "the flow has no campaign section")
    name = body.name or flow.campaign.name
    await flows.save_flow(pool, flow, source_name=body.source_name)
    try:
        row = await campaigns.create_campaign(pool, name, flow.hash)
    except campaigns.CampaignExists as exc:
        raise _problem(409, "campaign_exists", str(exc)) from None
    return asdict(row)


@router.get("", response_model=list[models.CampaignOut], dependencies=[Depends(ANY_ROLE)])
async def list_campaigns(pool: Db) -> Any:
    return [asdict(r) for r in await campaigns.list_campaigns(pool)]


@router.get(
    "/{name}",
    response_model=models.CampaignStatus,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(ANY_ROLE)],
)
async def campaign_status(name: str, pool: Db, request: Request) -> Any:
    """Stored state, contact and outcome counts, and the workflow's live progress."""
    row, _ = await _campaign_and_flow(pool, name)
    out: dict[str, Any] = {
        **asdict(row),
        "contacts": await contacts.count_contacts(pool, name),
        "outcomes": await attempts.outcome_counts(pool, name),
    }
    board = await load_board(pool, name, datetime.now(UTC))
    if board is not None:
        out["board"] = board_out(board)
    # The platform's view across tenants reads the stored state only: a campaign's workflow
    # id needs its tenant.
    if row.status != "draft" and tenancy.current() != tenancy.PLATFORM:
        try:
            from runtime.client import progress

            live = await progress(await temporal(request), name, tenancy.current())
            out["workflow"] = _jsonable(asdict(live))
        except HTTPException as exc:
            out["workflow_error"] = exc.detail["message"]
        except RPCError as exc:
            out["workflow_error"] = f"{exc.status.name}: {exc.message}"
    return out


@router.post(
    "/{name}/contacts",
    response_model=models.ImportOut,
    responses={404: {"model": models.Problem}, 422: {"model": models.Problem}},
    dependencies=[Depends(OPERATOR)],
)
async def import_campaign_contacts(name: str, file: UploadFile, pool: Db, request: Request) -> Any:
    """Import a CSV or XLSX file. Every row is accounted for: imported, rejected with its
    reasons (``destination_refused`` for a number the platform does not dial), already in the
    campaign, or blank."""
    row, flow = await _campaign_and_flow(pool, name)
    if row.status in ("stopped", "finished"):
        raise _problem(409, "campaign_closed", f"campaign {name!r} is {row.status}")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise _problem(413, "file_too_large", f"the file exceeds {MAX_UPLOAD} bytes")
    assert flow.campaign is not None
    options = dataclasses.replace(
        ImportOptions.for_source(
            flow.campaign.contacts, default_timezone=flow.agent.timezone, context=flow.agent.context
        ),
        destinations=DestinationPolicy.from_settings(request.app.state.settings),
    )
    try:
        report = import_contacts(Path(file.filename or "upload.csv"), options, data=data)
    except ContactsFileError as exc:
        raise _problem(422, "contacts_file_invalid", str(exc)) from None
    stored = await contacts.store_contacts(pool, name, report.contacts)
    return models.ImportOut(
        campaign=name,
        rows=report.rows,
        imported=stored.inserted,
        rejected=[
            models.RejectedRowOut(
                row=r.row, reasons=[models.IssueOut(**asdict(i)) for i in r.reasons], cells=r.cells
            )
            for r in report.rejected
        ],
        already_in_campaign=[
            models.RejectedRowOut(
                row=c.row,
                reasons=[models.IssueOut(code="already_in_campaign", message=why)],
                cells=c.columns,
            )
            for c, why in stored.conflicts
        ],
        blank_rows=list(report.blank_rows),
        warnings=[
            models.RowWarningOut(row=row_no, code=w.code, message=w.message)
            for row_no, w in report.warnings
        ],
    )


@router.post(
    "/{name}/start",
    response_model=models.CampaignOut,
    responses={404: {"model": models.Problem}, 409: {"model": models.Problem}},
    dependencies=[Depends(OPERATOR)],
)
async def start(name: str, pool: Db, client: Temporal, request: Request) -> Any:
    """Start the campaign workflow on the exact flow version the campaign was created with."""
    from runtime.client import plan_for, start_campaign

    row, flow = await _campaign_and_flow(pool, name)
    if row.status != "draft":
        raise _problem(409, "already_started", f"campaign {name!r} is {row.status}")
    if not await contacts.count_contacts(pool, name):
        raise _problem(409, "no_contacts", f"import contacts into {name!r} first")
    try:
        await start_campaign(
            client,
            plan_for(flow, name, tenant=tenancy.current()),
            task_queue=request.app.state.settings.task_queue,
        )
    except WorkflowAlreadyStartedError:
        raise _problem(409, "already_started", f"campaign {name!r} already runs") from None
    return asdict(await campaigns.set_status(pool, name, "running"))


async def _signal(
    pool: asyncpg.Pool, request: Request, name: str, signal: Steering, new: str
) -> Any:
    from runtime.client import steer

    row, _ = await _campaign_and_flow(pool, name)
    if row.status in ("draft", "stopped", "finished"):
        raise _problem(409, "not_running", f"campaign {name!r} is {row.status}")
    client = await temporal(request)
    try:
        await steer(client, name, signal, tenancy.current())
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _problem(409, "workflow_not_found", f"campaign {name!r} is not running") from None
        raise
    return asdict(await campaigns.set_status(pool, name, new))  # type: ignore[arg-type]


_STEER: dict[Steering, str] = {
    "pause": "paused",
    "resume": "running",
    "stop": "stopped",
}


@router.post(
    "/{name}/pause",
    response_model=models.CampaignOut,
    responses={404: {"model": models.Problem}, 409: {"model": models.Problem}},
    dependencies=[Depends(OPERATOR)],
)
async def pause(name: str, pool: Db, request: Request) -> Any:
    """No new dial after this; calls in progress finish."""
    return await _signal(pool, request, name, "pause", _STEER["pause"])


@router.post(
    "/{name}/resume",
    response_model=models.CampaignOut,
    responses={404: {"model": models.Problem}, 409: {"model": models.Problem}},
    dependencies=[Depends(OPERATOR)],
)
async def resume(name: str, pool: Db, request: Request) -> Any:
    return await _signal(pool, request, name, "resume", _STEER["resume"])


@router.post(
    "/{name}/stop",
    response_model=models.CampaignOut,
    responses={404: {"model": models.Problem}, 409: {"model": models.Problem}},
    dependencies=[Depends(OPERATOR)],
)
async def stop(name: str, pool: Db, request: Request) -> Any:
    """Stop for good: no contact is dialled again; calls in progress finish."""
    return await _signal(pool, request, name, "stop", _STEER["stop"])


def _jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)

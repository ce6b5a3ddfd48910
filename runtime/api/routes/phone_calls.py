"""Phone test calls: one call to one number, without a campaign.

``POST /calls`` runs a flow's agent on a ``ContactWorkflow`` of its own (no parent campaign,
so no campaign pacing), exactly as a campaign runs each contact: the calling windows of the
flow's campaign section are waited for in the callee's time zone, and do-not-call and the
window are checked again by the dial activity at dial time. A test call never retries: whatever
its outcome, it is final (an opt-out still lands on the do-not-call list).

The test call's id names its workflow (``call/<id>``) and is recorded as the ``campaign`` of
its attempt and call rows, so ``GET /calls?campaign=<id>`` lists its call once dialled.

Who may call what: ``operator`` and ``admin`` keys any number the destination policy allows
(``runtime/destinations.py``, checked here and again by the dial activity); a ``designer`` key
only the simulated PBX's callees (``VOXFLOW_SIM_SCENARIOS``) and the numbers of
``VOXFLOW_DIAL_ALLOWLIST``, so writing flows never places a call to a real person.

``call_now`` dials at once even when the calling windows are closed, for the roles
``runtime.api.auth.may_call_now`` allows (403 ``call_now_forbidden`` otherwise); the attempt
records who asked (``attempts.window_override``) and ``GET /calls/tests/{id}`` shows it.
Do-not-call and the destination policy still apply. ``DELETE /calls/tests/{id}`` cancels a
test call still waiting for its window.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import io
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import phonenumbers
from fastapi import APIRouter, Depends, HTTPException, Request, status
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from dsl.ir import Flow
from runtime import tenancy
from runtime.api import models
from runtime.api.auth import ANY_ROLE, may_call_now
from runtime.api.deps import db, temporal
from runtime.api.flowsource import stored_or_compiled
from runtime.api.routes.calls import call_out
from runtime.campaign import windows
from runtime.contacts import ContactsFileError, ImportOptions, import_contacts
from runtime.db import attempts, calls, dnc
from runtime.destinations import DestinationPolicy
from runtime.settings import Role, Settings
from runtime.workflows import search

router = APIRouter(prefix="/calls", tags=["calls"])
Db = Annotated[asyncpg.Pool, Depends(db)]
Temporal = Annotated[Client, Depends(temporal)]
WORKFLOW_PREFIX = search.TEST_CALL_PREFIX
CANCEL_WAIT_S = 10
_ID = re.compile(r"test-[a-z0-9_-]{1,60}-\d{8}T\d{6}-[0-9a-f]{6}")


def _problem(code: int, kind: str, message: str, **extra: Any) -> HTTPException:
    return HTTPException(code, detail={"code": kind, "message": message, **extra})


def _e164(phone: str) -> str:
    """``phone`` as E.164; a number without ``+`` and country code is refused, not guessed."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException as exc:
        raise _problem(
            422, "invalid_phone", f"{phone!r} is not an E.164 number (+ and country code): {exc}"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise _problem(422, "invalid_phone", f"{phone!r} is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_destination(phone: str, role: Role, settings: Settings) -> None:
    """403 for a designer calling a real number; 422 for a number the policy refuses."""
    if role is Role.DESIGNER and phone not in settings.dial_allowlist:
        if phone not in _simulated_callees(settings.sim_scenarios):
            raise _problem(
                403,
                "designer_destination",
                f"a designer key test-calls only the simulated PBX's callees and the numbers of"
                f" VOXFLOW_DIAL_ALLOWLIST; {phone} is neither (ask an operator to call it)",
            )
    refused = DestinationPolicy.from_settings(settings).refusal(phone)
    if refused is not None:
        raise _problem(422, refused.code, refused.message)


def _simulated_callees(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    from telephony.sim.scenarios import ScenarioError, load_scenarios

    try:
        return frozenset(load_scenarios(path).numbers)
    except (OSError, ScenarioError, ValueError):
        return frozenset()


def _contact(flow: Flow, call_id: str, body: models.PhoneCallCreate, phone: str) -> Any:
    """The callee as a campaign import would read it (types, time zone), or 422 with reasons."""
    assert flow.campaign is not None
    source = flow.campaign.contacts
    row = dict(body.contact)
    row[source.phone_column] = phone
    if source.id_column:
        row.setdefault(source.id_column, call_id)
    if body.timezone:
        row[source.timezone_column or "timezone"] = body.timezone
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    options = ImportOptions.for_source(
        source, default_timezone=flow.agent.timezone, context=flow.agent.context
    )
    try:
        report = import_contacts(Path("contact.csv"), options, data=buffer.getvalue().encode())
    except ContactsFileError as exc:
        message = str(exc).replace("column(s)", "contact field(s)")
        raise _problem(422, "contact_invalid", message.removeprefix("contact.csv: ")) from None
    if not report.contacts:
        reasons = [
            {"code": i.code, "message": i.message, "field": i.column}
            for r in report.rejected
            for i in r.reasons
        ]
        raise _problem(
            422,
            "contact_invalid",
            "; ".join(r["message"] for r in reasons) or "the contact is empty",
            reasons=reasons,
        )
    return report.contacts[0]


def _new_id(flow: Flow) -> str:
    agent = re.sub(r"[^a-z0-9_-]+", "-", flow.agent.name.lower()).strip("-")[:60] or "flow"
    return f"test-{agent}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=models.PhoneCallOut,
    responses={
        404: {"model": models.Problem},
        409: {"model": models.Problem},
        422: {"model": models.Problem, "description": "invalid flow, number or contact"},
    },
)
async def place_test_call(
    body: models.PhoneCallCreate,
    pool: Db,
    request: Request,
    role: Annotated[Role, Depends(ANY_ROLE)],
) -> Any:
    """Call one number with a flow, now or when its calling window opens.

    A designer key may call only simulated callees and allowlisted test numbers (403
    ``designer_destination``); a number the destination policy refuses is a 422
    (``destination_type``, ``destination_country``)."""
    from runtime.client import plan_for
    from runtime.workflows.contact import ContactWorkflow
    from runtime.workflows.messages import ContactInput, ContactRef

    phone = _e164(body.phone)
    _check_destination(phone, role, request.app.state.settings)
    if body.call_now and not may_call_now(role):
        raise _problem(
            403,
            "call_now_forbidden",
            f"a {role} key cannot call outside the calling windows; leave call_now off (the"
            " call waits for the window) or ask an operator",
        )
    override = f"call now by {role}" if body.call_now else None
    flow = await stored_or_compiled(
        pool,
        flow_hash=body.flow_hash,
        source=body.source,
        syntax=body.syntax,
        source_name=body.source_name,
    )
    if flow.campaign is None:
        raise _problem(
            422,
            "no_campaign",
            "a phone test call dials like a campaign: the flow needs a campaign section, whose"
            " calling windows say when the number may be called",
        )
    call_id = _new_id(flow)
    contact = _contact(flow, call_id, body, phone)
    if await dnc.is_dnc(pool, phone):
        raise _problem(409, "do_not_call", f"{phone} is on the do-not-call list")
    plan = plan_for(flow, call_id, tenant=tenancy.current())
    # One attempt, final whatever its outcome: a test call is never retried on its own.
    plan = dataclasses.replace(
        plan, campaign=dataclasses.replace(plan.campaign, rules=(), max_attempts=1)
    )
    now = datetime.now(UTC)
    try:
        opens = windows.next_open(now, contact.timezone, plan.campaign.windows, plan.closed_dates)
    except ValueError as exc:  # e.g. an end of 24:00, which the compiler accepts
        raise _problem(
            422, "window_invalid", f"the flow's calling windows cannot be evaluated: {exc}"
        ) from None
    if override:
        opens = now
    elif opens is None:
        raise _problem(
            422,
            "no_window",
            f"the flow's calling windows never open for {phone} ({contact.timezone}) within"
            f" {windows.HORIZON_DAYS} days",
        )
    client = await temporal(request)
    tenant = tenancy.current()
    workflow_id = search.test_call_workflow_id(call_id, tenant)
    await client.start_workflow(
        ContactWorkflow.run,
        ContactInput(
            plan=plan,
            contact=ContactRef(
                id=contact.id,
                phone=contact.phone,
                timezone=contact.timezone,
                name=contact.name,
                variables={k: str(v) for k, v in contact.columns.items()},
            ),
            campaign_workflow_id=None,
            window_override=override,
        ),
        id=workflow_id,
        task_queue=request.app.state.settings.task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(search.CAMPAIGN, call_id),
                SearchAttributePair(search.FLOW_HASH, flow.hash),
                SearchAttributePair(search.TENANT, tenant),
            ]
        ),
        memo={"contact": contact.name or phone, "test_call": True},
    )
    return {
        "id": call_id,
        "workflow_id": workflow_id,
        "flow_hash": flow.hash,
        "phone": phone,
        "timezone": contact.timezone,
        "status": "dialing" if opens <= now else "scheduled",
        "scheduled_at": None if opens <= now else opens,
        "window_override": override,
        "calls_url": f"/calls?campaign={call_id}",
    }


@router.get(
    "/tests/{test_id}",
    response_model=models.PhoneCallStatus,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(ANY_ROLE)],
)
async def test_call_status(test_id: str, pool: Db, request: Request) -> Any:
    """Where a test call stands: its workflow, the contact's state, and its calls so far."""
    from runtime.workflows.contact import ContactWorkflow

    if not _ID.fullmatch(test_id) or tenancy.current() == tenancy.PLATFORM:
        raise _problem(404, "test_call_not_found", f"no test call {test_id!r}")
    client = await temporal(request)
    handle = client.get_workflow_handle_for(
        ContactWorkflow.run,
        search.test_call_workflow_id(test_id, tenancy.current()),
    )
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _problem(404, "test_call_not_found", f"no test call {test_id!r}") from None
        raise
    out: dict[str, Any] = {
        "id": test_id,
        "workflow_id": handle.id,
        "workflow_status": described.status.name if described.status else "UNKNOWN",
    }
    try:
        state = await handle.query(ContactWorkflow.status)
        out.update(contact_status=state.status, next_at=state.next_at, outcome=state.outcome)
    except RPCError as exc:  # a workflow that failed cannot answer queries; its calls still show
        out["contact_status"] = f"unavailable: {exc.message}"
    out["attempts"] = [
        {
            "id": a.id,
            "number": a.number,
            "status": a.status,
            "outcome": a.outcome,
            "dialed_at": a.dialed_at,
            "window_override": a.window_override,
        }
        for a in await attempts.attempts_of_campaign(pool, test_id)
    ]
    rows = await calls.list_calls(pool, campaign=test_id, limit=20)
    out["calls"] = [call_out(r) for r in rows]
    return out


@router.delete(
    "/tests/{test_id}",
    response_model=models.PhoneCallStatus,
    responses={404: {"model": models.Problem}, 409: {"model": models.Problem}},
    dependencies=[Depends(ANY_ROLE)],
)
async def cancel_test_call(test_id: str, pool: Db, request: Request) -> Any:
    """Cancel a test call that has not dialled yet (waiting for its window): it ends
    ``stopped`` without a call. 409 ``test_call_dialling`` once it dials (hang up from the
    PBX instead), 409 ``test_call_over`` when it already ended."""
    from runtime.workflows.contact import ContactWorkflow
    from runtime.workflows.messages import SignalName

    if not _ID.fullmatch(test_id):
        raise _problem(404, "test_call_not_found", f"no test call {test_id!r}")
    client = await temporal(request)
    handle = client.get_workflow_handle_for(
        ContactWorkflow.run, search.test_call_workflow_id(test_id, tenancy.current())
    )
    try:
        described = await handle.describe()
        state = (
            await handle.query(ContactWorkflow.status)
            if described.status == WorkflowExecutionStatus.RUNNING
            else None
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _problem(404, "test_call_not_found", f"no test call {test_id!r}") from None
        raise
    if state is None:
        raise _problem(409, "test_call_over", f"test call {test_id} has already ended")
    if state.status not in ("pending", "scheduled"):
        raise _problem(
            409,
            "test_call_dialling",
            f"test call {test_id} is {state.status}: it can no longer be cancelled (the callee"
            " or the PBX ends the call)",
        )
    await handle.signal(SignalName.STOP)
    # A waiting test call ends as soon as its workflow reads the signal; one that started to
    # dial in between finishes its call, and the status below says so.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(handle.result(), CANCEL_WAIT_S)
    return await test_call_status(test_id, pool, request)

"""Inbound calls: an AudioSocket session nobody expected starts ``InboundCallWorkflow``.

Asterisk's ``[voxflow-inbound]`` context hands a call from the trunk to one worker's AudioSocket
server under a fresh UUID. That worker:

1. asks the gateway who is calling (the dialplan's ``VarSet`` carries ``CallerIDNum`` and the
   dialled number; ``unknown`` when the PBX never says);
2. picks the flow and the tenant: ``VOXFLOW_INBOUND_ROUTES`` for the dialled number (with the
   tenant owning it, ``number@tenant=flow``), else ``VOXFLOW_INBOUND_FLOW`` in the default
   tenant; with neither it hangs the call up (AudioSocket hang-up);
3. acting for that tenant, records the call like an outbound attempt (call row
   ``direction = inbound``, attempt row of campaign ``inbound``), holds the media session, and
   starts ``InboundCallWorkflow`` (id ``inbound/<uuid>``, scoped to the tenant like every
   workflow id, so its activities act for that tenant too) whose ``converse`` activity runs on
   this worker's own task queue and takes the held session through :meth:`CallMedia.accept`,
   exactly as an outbound call's does.

A failure on the way ends that call only: it is hung up, its rows settled as ``failed``, the
error logged with the call id; the loop goes on with the next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from dsl.compiler import compile_file
from dsl.ir import Flow
from dsl.outcomes import TelephonyOutcome
from runtime import tenancy
from runtime.call.media import CallMedia
from runtime.db import attempts, calls
from runtime.db.flows import save_flow
from runtime.db.types import Db
from runtime.settings import SettingProblem, Settings, SettingsError, env_name
from runtime.tenancy import DEFAULT_TENANT, scoped_workflow_id
from runtime.workflows import search
from runtime.workflows.inbound import UNKNOWN_CALLER, InboundCallWorkflow
from runtime.workflows.messages import INBOUND_CAMPAIGN, SHARED_TASK_QUEUE, InboundInput
from telephony.audiosocket.session import MediaSession

__all__ = [
    "CallMedia",
    "InboundCalls",
    "InboundFlows",
    "compile_inbound_flows",
    "inbound_workflow_id",
]

log = logging.getLogger(__name__)

CALLER_WAIT_S = 2.0
"""How long to wait for the PBX to say who is calling before answering as ``unknown``."""
INBOUND_CONTACT = frozenset({"phone"})
"""What an inbound call knows of its caller: ``contact.phone`` (the caller id)."""
INBOUND_CAMPAIGN_CONTEXT = frozenset({"name"})


def inbound_workflow_id(call_id: str, tenant: str = DEFAULT_TENANT) -> str:
    return scoped_workflow_id(tenant, f"inbound/{call_id}")


# --- which flow answers ----------------------------------------------------------------------


@dataclass(frozen=True)
class InboundFlows:
    """The compiled inbound flows: a default one and one per dialled number."""

    default: Flow | None = None
    by_number: Mapping[str, Flow] = field(default_factory=dict)
    """By dialled number without ``+`` (as Asterisk's ``Exten`` carries it)."""
    tenant_by_number: Mapping[str, str] = field(default_factory=dict)
    """The tenant owning a routed number (keyed like ``by_number``); others: the default."""

    @property
    def configured(self) -> bool:
        return self.default is not None or bool(self.by_number)

    def for_number(self, did: str) -> Flow | None:
        """The flow for calls to ``did``; the default one when no route names it."""
        return self.by_number.get(did.removeprefix("+"), self.default)

    def tenant_for(self, did: str) -> str:
        """The tenant calls to ``did`` belong to: the route's owner, else the default tenant."""
        return self.tenant_by_number.get(did.removeprefix("+"), DEFAULT_TENANT)

    async def save(self, db: Db) -> None:
        """Store every flow by its hash, in each tenant that answers with it (the workflow
        carries only the hash, and flow versions are stored per tenant).

        Raises:
            SettingsError: a route names a tenant that does not exist.
        """
        wanted: dict[tuple[str, str], Flow] = {}
        if self.default is not None:
            wanted[(DEFAULT_TENANT, self.default.hash)] = self.default
        for key, flow in self.by_number.items():
            wanted[(self.tenant_for(key), flow.hash)] = flow
        missing = []
        for (tenant, _), flow in wanted.items():
            with tenancy.acting_as(tenant):
                try:
                    await save_flow(db, flow)
                except asyncpg.ForeignKeyViolationError:
                    missing.append(tenant)
        if missing:
            names = ", ".join(sorted(set(missing)))
            raise SettingsError(
                [
                    SettingProblem(
                        env_name("inbound_routes"),
                        f"no tenant {names}: create it (`voxflow tenant create ID`) or route "
                        "the number to an existing tenant",
                    )
                ]
            )


def compile_inbound_flows(settings: Settings) -> InboundFlows:
    """Compile ``VOXFLOW_INBOUND_FLOW`` and every ``VOXFLOW_INBOUND_ROUTES`` flow.

    Raises:
        SettingsError: naming every flow file that does not compile (with its first errors)
            or that needs contact or campaign values an inbound call does not have.
    """
    problems: list[SettingProblem] = []

    def compile_one(path: Path, setting: str) -> Flow | None:
        result = compile_file(path)
        if result.flow is None:
            errors = "; ".join(d.headline() for d in result.errors[:3])
            problems.append(SettingProblem(setting, f"{path} does not compile: {errors}"))
            return None
        missing = [
            f"{scope}.{f.name}"
            for scope, fields, known in (
                ("contact", result.flow.agent.context, INBOUND_CONTACT),
                ("campaign", result.flow.agent.campaign_context, INBOUND_CAMPAIGN_CONTEXT),
            )
            for f in fields
            if f.required and f.default is None and f.name not in known
        ]
        if missing:
            problems.append(
                SettingProblem(
                    setting,
                    f"{path} needs {', '.join(missing)}, which an inbound call does not have "
                    "(only contact.phone, the caller id); declare them optional or route "
                    "inbound calls to another flow",
                )
            )
            return None
        return result.flow

    default = None
    if settings.inbound_flow is not None:
        default = compile_one(settings.inbound_flow, env_name("inbound_flow"))
    by_number: dict[str, Flow] = {}
    tenants: dict[str, str] = {}
    for route in settings.inbound_routes:
        flow = compile_one(route.flow, env_name("inbound_routes"))
        if flow is not None:
            by_number[route.key] = flow
        if route.tenant != DEFAULT_TENANT:
            tenants[route.key] = route.tenant
    if problems:
        raise SettingsError(problems)
    return InboundFlows(default, by_number, tenants)


# --- the loop --------------------------------------------------------------------------------


class InboundCalls:
    """Start ``InboundCallWorkflow`` for every inbound session of this worker.

    Args:
        task_queue: this worker's own queue (the call's ``converse`` runs there).
        shared_queue: the queue the workflow itself runs on.

    Attributes:
        refused: why calls were hung up without a conversation, by call id (``no_flow``,
            ``no_route``, ``duplicate``, ``start_failed``).
    """

    def __init__(
        self,
        client: Client,
        media: CallMedia,
        db: Db,
        flows: InboundFlows,
        *,
        task_queue: str,
        shared_queue: str = SHARED_TASK_QUEUE,
        caller_wait_s: float = CALLER_WAIT_S,
    ) -> None:
        self.client = client
        self.media = media
        self.db = db
        self.flows = flows
        self.task_queue = task_queue
        self.shared_queue = shared_queue
        self.caller_wait_s = caller_wait_s
        self.refused: dict[str, str] = {}

    @asynccontextmanager
    async def running(self) -> AsyncIterator[InboundCalls]:
        """Answer inbound calls while the context is open."""
        if not self.flows.configured:
            log.warning(
                "no inbound flow configured (set VOXFLOW_INBOUND_FLOW): inbound calls are hung up"
            )
        task = asyncio.create_task(self.run(), name="inbound-calls")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Answer each inbound session in its own task, until cancelled."""
        async with asyncio.TaskGroup() as group:
            async for session in self.media.server.sessions():
                group.create_task(self._answer_safely(session), name=f"inbound-{session.call_id}")

    async def _answer_safely(self, session: MediaSession) -> None:
        try:
            await self.answer(session)
        except Exception:
            log.exception("inbound call %s: failed to answer; hanging up", session.call_id)
            self.refused[session.call_id] = "start_failed"
            await session.hangup()

    async def answer(self, session: MediaSession) -> None:
        """Start the workflow of one inbound call, or hang it up saying why."""
        call_id = session.call_id
        if not self.flows.configured:
            log.warning("inbound call %s: no inbound flow configured; hanging up", call_id)
            await self._refuse(session, "no_flow")
            return
        channel = await self.media.gateway.inbound_channel(call_id, self.caller_wait_s)
        caller = channel.caller if channel is not None else UNKNOWN_CALLER
        did = channel.did if channel is not None else ""
        flow = self.flows.for_number(did)
        if flow is None:
            log.warning(
                "inbound call %s to %r: no flow for this number (VOXFLOW_INBOUND_ROUTES) and no "
                "VOXFLOW_INBOUND_FLOW; hanging up",
                call_id,
                did,
            )
            await self._refuse(session, "no_route")
            return
        tenant = self.flows.tenant_for(did)
        with tenancy.acting_as(tenant):
            await self._start(session, caller, did, flow, tenant)

    async def _start(
        self, session: MediaSession, caller: str, did: str, flow: Flow, tenant: str
    ) -> None:
        """Record the call and start its workflow, for ``tenant`` (the current tenant)."""
        call_id = session.call_id
        try:
            if not await self._record(call_id, caller, flow.hash):
                log.error("inbound call %s: this UUID already names a call; hanging up", call_id)
                await self._refuse(session, "duplicate")
                return
            self.media.hold(session)
            await self.client.start_workflow(
                InboundCallWorkflow.run,
                InboundInput(call_id, caller, flow.hash, self.task_queue, did),
                id=inbound_workflow_id(call_id, tenant),
                task_queue=self.shared_queue,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(search.CAMPAIGN, INBOUND_CAMPAIGN),
                        SearchAttributePair(search.FLOW_HASH, flow.hash),
                        SearchAttributePair(search.TENANT, tenant),
                    ]
                ),
                memo={"caller": caller, "did": did},
            )
        except Exception as exc:
            log.error("inbound call %s: its workflow did not start (%s); hanging up", call_id, exc)
            self.media.release(call_id)
            await self._refuse(session, "start_failed")
            await self._settle_failed(call_id, f"workflow not started: {exc}")

    async def _refuse(self, session: MediaSession, reason: str) -> None:
        self.refused[session.call_id] = reason
        await session.hangup()

    async def _record(self, call_id: str, caller: str, flow_hash: str) -> bool:
        """The attempt and call rows, as an outbound call has them once answered.

        ``False`` when an attempt with this id exists already (then nothing is written).
        """
        if not await attempts.record_dialing(
            self.db,
            call_id,
            campaign=INBOUND_CAMPAIGN,
            contact=caller,
            number=1,
            phone=caller,
            flow_hash=flow_hash,
        ):
            return False
        await attempts.mark_answered(self.db, call_id)
        await calls.start_call(
            self.db,
            call_id,
            direction="inbound",
            campaign=INBOUND_CAMPAIGN,
            contact=caller,
            phone=None if caller == UNKNOWN_CALLER else caller,
            flow_hash=flow_hash,
        )
        return True

    async def _settle_failed(self, call_id: str, detail: str) -> None:
        failed = TelephonyOutcome.FAILED.value
        try:
            await attempts.finish_attempt(
                self.db, call_id, outcome=failed, action="final", detail=detail
            )
            await calls.end_call(self.db, call_id, outcome=failed, error=detail)
        except Exception as exc:  # the call is already hung up; only its record is late
            log.warning("inbound call %s: failure not recorded: %s", call_id, exc)

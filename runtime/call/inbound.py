"""Inbound calls: an AudioSocket session nobody expected starts ``InboundCallWorkflow``.

Asterisk's ``[voxflow-inbound]`` context hands a call from the trunk to one worker's AudioSocket
server under a fresh UUID. That worker:

1. asks the gateway who is calling (the dialplan's ``VarSet`` carries ``CallerIDNum`` and the
   dialled number; ``unknown`` when the PBX never says);
2. picks the flow: ``VOXFLOW_INBOUND_ROUTES`` for the dialled number, else
   ``VOXFLOW_INBOUND_FLOW``; with neither it hangs the call up (AudioSocket hang-up);
3. records the call like an outbound attempt (call row ``direction = inbound``, attempt row of
   campaign ``inbound``), holds the media session, and starts ``InboundCallWorkflow``
   (id ``inbound/<uuid>``) whose ``converse`` activity runs on this worker's own task queue and
   takes the held session through :meth:`CallMedia.accept`, exactly as an outbound call's does.

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
from typing import Any, Protocol

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from dsl.compiler import compile_file
from dsl.ir import Flow
from dsl.outcomes import TelephonyOutcome
from runtime.db import attempts, calls
from runtime.db.flows import save_flow
from runtime.settings import SettingProblem, Settings, SettingsError, env_name
from runtime.workflows import search
from runtime.workflows.inbound import InboundCallWorkflow
from runtime.workflows.messages import SHARED_TASK_QUEUE, InboundInput
from telephony.audiosocket.server import canonical_call_id
from telephony.audiosocket.session import MediaSession
from telephony.gateway import CallEvent, DialRequest, DialResult

log = logging.getLogger(__name__)

INBOUND_CAMPAIGN = "inbound"
"""Campaign name of inbound calls in PostgreSQL and in the ``VoxflowCampaign`` attribute."""
UNKNOWN_CALLER = "unknown"
CALLER_WAIT_S = 2.0
"""How long to wait for the PBX to say who is calling before answering as ``unknown``."""
INBOUND_CONTACT = frozenset({"phone"})
"""What an inbound call knows of its caller: ``contact.phone`` (the caller id)."""
INBOUND_CAMPAIGN_CONTEXT = frozenset({"name"})
HOLD_S = 60.0
"""A held session no conversation claims within this is hung up (the converse activity
waits 30 s for its media, so a started workflow claims it well before)."""


def inbound_workflow_id(call_id: str) -> str:
    return f"inbound/{call_id}"


# --- which flow answers ----------------------------------------------------------------------


@dataclass(frozen=True)
class InboundFlows:
    """The compiled inbound flows: a default one and one per dialled number."""

    default: Flow | None = None
    by_number: Mapping[str, Flow] = field(default_factory=dict)
    """By dialled number without ``+`` (as Asterisk's ``Exten`` carries it)."""

    @property
    def configured(self) -> bool:
        return self.default is not None or bool(self.by_number)

    def for_number(self, did: str) -> Flow | None:
        """The flow for calls to ``did``; the default one when no route names it."""
        return self.by_number.get(did.removeprefix("+"), self.default)

    async def save(self, db: Any) -> None:
        """Store every flow by its hash (the workflow carries only the hash)."""
        for flow in {f.hash: f for f in (self.default, *self.by_number.values()) if f}.values():
            await save_flow(db, flow)


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
    for route in settings.inbound_routes:
        flow = compile_one(route.flow, env_name("inbound_routes"))
        if flow is not None:
            by_number[route.key] = flow
    if problems:
        raise SettingsError(problems)
    return InboundFlows(default, by_number)


# --- the worker's media, as the activities see it --------------------------------------------


class _Server(Protocol):
    def expect(self, call_id: str) -> None: ...

    async def accept(self, call_id: str, timeout: float) -> MediaSession: ...  # noqa: ASYNC109

    def sessions(self) -> AsyncIterator[MediaSession]: ...


class CallMedia:
    """The worker's AudioSocket server and gateway, shared by dial, converse and inbound calls.

    ``gateway`` marks every call it dials as outbound (``server.expect``) before the originate,
    so an answered call whose media arrives before its ``converse`` activity is never taken for
    an inbound one. :meth:`accept` gives ``converse`` an inbound call's held session, or waits
    for an outbound call's as the server does.
    """

    def __init__(self, server: _Server, gateway: Any, *, hold_s: float = HOLD_S) -> None:
        self.server = server
        self.gateway = _MarkingGateway(gateway, server)
        self.hold_s = hold_s
        self._held: dict[str, tuple[MediaSession, asyncio.TimerHandle]] = {}
        self._hangups: set[asyncio.Task[None]] = set()

    def hold(self, session: MediaSession) -> None:
        """Keep ``session`` for the ``converse`` activity of its call (hung up after ``hold_s``)."""
        timer = asyncio.get_running_loop().call_later(self.hold_s, self._expire, session.call_id)
        self._held[session.call_id] = (session, timer)

    def release(self, call_id: str) -> MediaSession | None:
        held = self._held.pop(call_id, None)
        if held is None:
            return None
        held[1].cancel()
        return held[0]

    def held(self) -> list[str]:
        """Call ids of sessions held for a conversation that has not claimed them yet."""
        return list(self._held)

    async def accept(self, call_id: str, timeout: float) -> MediaSession:  # noqa: ASYNC109
        """The media session of ``call_id``: a held inbound one, else the server's."""
        session = self.release(canonical_call_id(call_id))
        if session is not None:
            return session
        return await self.server.accept(call_id, timeout=timeout)

    def _expire(self, call_id: str) -> None:
        session = self.release(call_id)
        if session is None or session.closed.is_set():
            return
        log.warning(
            "inbound call %s: no conversation took its media within %g s; hanging up",
            call_id,
            self.hold_s,
        )
        task = asyncio.create_task(session.hangup())
        self._hangups.add(task)
        task.add_done_callback(self._hangups.discard)


class _MarkingGateway:
    """The worker's gateway; ``place_call`` first tells the AudioSocket server to expect it."""

    def __init__(self, gateway: Any, server: _Server) -> None:
        self._gateway = gateway
        self._server = server

    async def place_call(self, request: DialRequest) -> DialResult:
        self._server.expect(request.attempt_id)
        return await self._gateway.place_call(request)

    def events(self, attempt_id: str) -> AsyncIterator[CallEvent]:
        return self._gateway.events(attempt_id)

    async def hangup(self, attempt_id: str) -> None:
        await self._gateway.hangup(attempt_id)

    async def transfer(self, attempt_id: str, to: str) -> None:
        await self._gateway.transfer(attempt_id, to)

    async def send_dtmf(self, attempt_id: str, digits: str) -> None:
        await self._gateway.send_dtmf(attempt_id, digits)

    async def close(self) -> None:
        await self._gateway.close()

    async def inbound_channel(self, call_id: str, timeout: float) -> Any:  # noqa: ASYNC109
        """The gateway's ``inbound_channel``; ``None`` from a gateway that cannot tell."""
        lookup = getattr(self._gateway, "inbound_channel", None)
        return None if lookup is None else await lookup(call_id, timeout)


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
        db: Any,
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
        try:
            if not await self._record(call_id, caller, flow.hash):
                log.error("inbound call %s: this UUID already names a call; hanging up", call_id)
                await self._refuse(session, "duplicate")
                return
            self.media.hold(session)
            await self.client.start_workflow(
                InboundCallWorkflow.run,
                InboundInput(call_id, caller, flow.hash, self.task_queue, did),
                id=inbound_workflow_id(call_id),
                task_queue=self.shared_queue,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(search.CAMPAIGN, INBOUND_CAMPAIGN),
                        SearchAttributePair(search.FLOW_HASH, flow.hash),
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

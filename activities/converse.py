"""The ``converse`` activity: one live call, from media session to outcome.

The contact workflow calls ``converse`` on the task queue of the worker whose AudioSocket server
the call's media lands on (Temporal's worker-specific task queue pattern). The activity waits
for the media session of ``attempt_id``, has the call assembled (``runtime.call.assemble``:
engine, tools, provider chain, recorder, bridge), heartbeats while the call lasts, hangs up when
cancelled, and returns a ``ConverseResult``. While the call lasts it keeps the call's row in
PostgreSQL up to date (transcript and tool calls as they happen; outcome, node path, provider
usage and cost at the end) and, unless ``VOXFLOW_RECORDING`` is off, records both legs to
``<recordings dir>/<attempt id>.wav`` (stereo: left the caller, right the agent). Its input and
result are the Temporal contract's (``runtime.workflows.messages``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

import asyncpg
from pydantic_core import to_jsonable_python
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contact_watch import how_gone, workflow_gone
from dsl.ir import Flow
from dsl.outcomes import BuiltinOutcome, TelephonyOutcome
from runtime.call.assemble import LiveCall, voice_call
from runtime.call.result import CallResult
from runtime.call.spec import CallServices, CallSpec
from runtime.db import attempts, calls
from runtime.db.flows import load_flow
from runtime.db.knowledge import PgKnowledgeBase, embedder_for
from runtime.db.persistence import PgPersistence
from runtime.db.types import acquire
from runtime.observability import metrics, tracing
from runtime.observability.logs import call_context
from runtime.observability.tracing import call_span
from runtime.providers.breaker import PgBreaker
from runtime.providers.fallback import Breaker
from runtime.providers.registry import Providers
from runtime.settings import Settings
from runtime.workflows.messages import (
    ActivityName,
    ClosedWorkflow,
    ConverseInput,
    ConverseResult,
)
from telephony.audiosocket.session import MediaSession
from telephony.gateway import Gateway
from telephony.media_wait import ChannelGone, wait_for_media

log = logging.getLogger(__name__)


class MediaSource(Protocol):
    """Where a call's media session is taken from (the worker's ``CallMedia``)."""

    async def accept(self, call_id: str, timeout: float) -> MediaSession: ...  # noqa: ASYNC109


# --- the activity ------------------------------------------------------------------------------

FLOWS_KEPT = 32
"""Compiled flows a worker keeps by content hash for the calls that follow (least recently
used out first). A stored flow never changes under its hash and calls only read it, so every
call of a campaign shares one: without this, each call fetched and rebuilt its IR (about 100
tracked objects for ``flows/reminder.flow``, more for larger flows), which every full garbage
collection then walked once per live call (``bench/README.md``, "Round 5")."""
HEARTBEAT_EVERY_S = 5.0
PERSIST_EVERY_S = 1.0
"""How often transcript turns and tool calls of a live call are stored (a live transcript)."""
MEDIA_WAIT_S = 30.0
WIND_DOWN_S = 10.0
"""How long a hung-up call's bridge may take to wind down (its provider session closed, its
tools cancelled) before it is cancelled."""
CANCEL_WAIT_S = 1.0
CANCEL_TRIES = 3
"""Cancellations of a bridge that did not wind down, ``CANCEL_WAIT_S`` apart: a second one
reaches a clean-up step (its ``finally``) that is itself stuck."""
_LINGERING: set[asyncio.Task[CallResult]] = set()
"""Bridges that outlived every cancellation: held until they end, their result unused."""


class CallRecord:
    """The call's row in PostgreSQL, kept up to date while the call lasts.

    Transcript entries and tool calls are stored as they happen (every ``PERSIST_EVERY_S``),
    so ``GET /calls/{id}`` shows a live transcript; every write is idempotent (keyed by entry
    number and tool call id). A failed write is logged and tried again at the next flush: the
    call itself never fails for want of a database.
    """

    def __init__(self, pool: asyncpg.Pool, inp: ConverseInput) -> None:
        self._pool = pool
        self._inp = inp
        self._turns = 0
        self._tools = 0

    async def start(self) -> None:
        inp = self._inp
        try:
            await calls.start_call(
                self._pool,
                inp.attempt_id,
                campaign=inp.campaign,
                contact=inp.contact_id or inp.contact.get("id"),
                phone=inp.contact.get("phone"),
                flow_hash=inp.flow_hash,
            )
        except Exception as exc:  # the call goes on; flush and finish create the row later
            log.warning("call %s: call row not stored: %s", inp.attempt_id, exc)

    async def flush(self, result: CallResult) -> None:
        """Store the transcript entries and tool calls ``result`` gained since the last flush."""
        call_id = self._inp.attempt_id
        entries = result.transcript[self._turns :]
        tool_calls = result.tool_calls[self._tools :]
        try:
            if entries:
                await calls.append_transcript(
                    self._pool,
                    call_id,
                    [
                        calls.Turn(
                            seq=self._turns + i,
                            role=e["role"],
                            text=e["text"],
                            node=e.get("node"),
                            data=to_jsonable_python(e.get("data", {}), fallback=str),
                        )
                        for i, e in enumerate(entries)
                    ],
                )
                self._turns += len(entries)
            for t in tool_calls:
                await calls.record_tool_call(
                    self._pool,
                    call_id,
                    str(t["call_id"]),
                    name=t["name"],
                    arguments=to_jsonable_python(t.get("arguments", {}), fallback=str),
                    result=to_jsonable_python(t.get("result"), fallback=str),
                    error=t.get("error"),
                )
                self._tools += 1
        except Exception as exc:  # kept for the next flush: nothing said in the call is lost
            log.warning("call %s: transcript not stored yet: %s", call_id, exc)

    async def finish(
        self,
        result: CallResult,
        recording: str | None,
        *,
        hung_up_by: str | None = None,
        gone: ClosedWorkflow | str | None = None,
    ) -> None:
        """The call's end: outcome, node path and visits, usage and cost, the recording's file
        name. ``hung_up_by``: who hung up when the flow did not end the call: ``cancelled``,
        the workflow or an operator (the bridge saw the line go down, as when the caller hangs
        up; the heat map must not count it as a drop-off), or ``aborted``, its workflow went
        away mid-call (the outcome is ``aborted`` then, as its attempt's).

        ``gone``: how its workflow went away (``aborted``), as Temporal tells it or, when it
        could not be asked, why not. The attempt, still open, ends ``aborted`` with that
        reason in the same transaction as the call's row, and its contact, if a campaign's
        and not settled yet, ``final`` (:func:`attempts.settle_closed_contact`): nothing else
        ends them for a test call, and an attempt not ended holds its PBX line."""
        inp, call_id = self._inp, self._inp.attempt_id
        aborted = hung_up_by == calls.ABORTED
        why = gone.detail if isinstance(gone, ClosedWorkflow) else gone
        try:
            await calls.start_call(self._pool, call_id, provider=",".join(result.providers) or None)
            if not aborted:
                await self._end_call(self._pool, result, recording, hung_up_by, result.error)
                return
            why = why or "its workflow went away mid-call"
            # Settled first, as the campaign settles it (the end instant, the reason as its
            # error, the event); whichever of the two comes first wins, and the details of
            # the call are filled in after.
            async with acquire(self._pool) as conn, conn.transaction():
                await attempts.end_abandoned(
                    conn,
                    call_id,
                    inp.campaign,
                    inp.contact_id,
                    closed_outcome=gone.outcome if isinstance(gone, ClosedWorkflow) else None,
                    detail=why,
                )
                await self._end_call(conn, result, recording, hung_up_by, result.error)
        except Exception as exc:  # the outcome still reaches the workflow
            log.warning("call %s: end of call not stored: %s", call_id, exc)

    async def _end_call(
        self,
        db: asyncpg.Pool | asyncpg.Connection,
        result: CallResult,
        recording: str | None,
        hung_up_by: str | None,
        error: str | None,
    ) -> None:
        aborted = hung_up_by == calls.ABORTED
        await calls.end_call(
            db,
            self._inp.attempt_id,
            outcome=calls.ABORTED if aborted else result.outcome,
            node_path=result.node_path,
            turns=result.turns,
            duration_ms=result.duration_ms,
            error=error,
            usage=to_jsonable_python(result.usage, fallback=str),
            recording=recording,
            visits=[v.as_json() for v in result.visits],
            ended_by=hung_up_by or result.ended_by or None,
            slots=to_jsonable_python(result.slots, fallback=str),
        )


class ConverseActivities:
    """The ``converse`` activity with the worker's resources.

    Args:
        media: where the call's media session is taken from (the worker's ``CallMedia``).
        pool: the PostgreSQL pool (flows, the call's row, persistence, knowledge, breakers).
        gateway: the telephony gateway (transfers).
        settings: the worker's settings (providers, recordings, embeddings).
        breaker: the shared provider circuit breaker (``PgBreaker`` on ``pool`` by default).
        media_wait_s: how long to wait for the call's AudioSocket connection.
        environ: what HTTP tools read as ``env.NAME``; default the process environment.
    """

    def __init__(
        self,
        *,
        media: MediaSource,
        pool: asyncpg.Pool,
        gateway: Gateway,
        settings: Settings,
        breaker: Breaker | None = None,
        media_wait_s: float = MEDIA_WAIT_S,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.media = media
        self.pool = pool
        self.gateway = gateway
        self.settings = settings
        self.providers = Providers(settings)
        self.breaker = (
            breaker
            if breaker is not None
            else PgBreaker(pool, failure_threshold=settings.provider_breaker_failures)
        )
        self.media_wait_s = media_wait_s
        self.environ = os.environ if environ is None else environ
        self._knowledge = PgKnowledgeBase(pool, embedder_for(settings))
        self._flows: OrderedDict[str, Flow] = OrderedDict()

    @activity.defn(name=ActivityName.CONVERSE)
    async def converse(self, inp: ConverseInput) -> ConverseResult:
        """Run the call of ``inp.attempt_id`` to its end; heartbeats while it lasts.

        Cancellation (the workflow's hang-up, an operator, a timeout) hangs the call up and
        re-raises. A missing flow is a non-retryable ``FlowNotFound`` error.
        """
        with call_context(inp.attempt_id, campaign=inp.campaign, flow_hash=inp.flow_hash):
            return await self._converse(inp)

    async def _flow(self, flow_hash: str) -> Flow | None:
        """The stored flow ``flow_hash``, loaded once per worker (:data:`FLOWS_KEPT`)."""
        flows = self._flows
        flow = flows.get(flow_hash)
        if flow is not None:
            flows.move_to_end(flow_hash)
            return flow
        flow = await load_flow(self.pool, flow_hash)
        if flow is not None:
            flows[flow_hash] = flow
            if len(flows) > FLOWS_KEPT:
                flows.popitem(last=False)
        return flow

    async def _converse(self, inp: ConverseInput) -> ConverseResult:
        flow = await self._flow(inp.flow_hash)
        if flow is None:
            raise ApplicationError(
                f"flow {inp.flow_hash} is not stored; the campaign cannot run it",
                type="FlowNotFound",
                non_retryable=True,
            )
        try:
            with call_span(tracing.AUDIOSOCKET_CONNECT, inp.attempt_id):
                media = await wait_for_media(
                    self.media,
                    self.gateway,
                    inp.attempt_id,
                    self.media_wait_s,
                    heartbeat=lambda: activity.heartbeat("waiting for media"),
                )
        except TimeoutError:
            return ConverseResult(
                outcome=TelephonyOutcome.FAILED.value,
                error=f"call {inp.attempt_id}: no AudioSocket media within {self.media_wait_s:g} s",
            )
        except ChannelGone as gone:  # the callee hung up during AMD or before the media came
            return ConverseResult(outcome=BuiltinOutcome.HUNG_UP.value, error=str(gone))
        spec = CallSpec(
            flow,
            call_id=inp.attempt_id,
            now=datetime.now(UTC),
            contact=inp.contact,
            campaign=campaign_values(inp),
            start_node=inp.start_node,
        )
        services = CallServices(
            persistence=PgPersistence(self.pool, campaign=inp.campaign),
            knowledge=self._knowledge,
            environ=self.environ,
        )

        async def transfer(to: str) -> None:
            await self.gateway.transfer(inp.attempt_id, to)

        call = voice_call(
            spec,
            services,
            media=media,
            providers=self.providers,
            chain=self.providers.chain(inp.provider, flow.agent.provider.fallback),
            breaker=self.breaker,
            transfer=transfer,
            recordings=self.settings.recordings_dir if self.settings.recording else None,
            healthy_after_s=self.settings.provider_healthy_after_s,
        )
        with (
            call_span(tracing.CALL, inp.attempt_id, campaign=inp.campaign, flow_hash=flow.hash),
            metrics.CALLS_IN_PROGRESS.track_inprogress(),
        ):
            return await self._talk(inp, call, media)

    async def _talk(
        self, inp: ConverseInput, call: LiveCall, media: MediaSession
    ) -> ConverseResult:
        """The live call to its end: heartbeats, the call's row, the recording."""
        record = CallRecord(self.pool, inp)
        await record.start()
        bridge = call.bridge
        run = asyncio.create_task(call.run(), name=f"call-{inp.attempt_id}")
        try:
            beat = 0.0
            while not run.done():
                now = asyncio.get_running_loop().time()
                if now - beat >= HEARTBEAT_EVERY_S:
                    activity.heartbeat(call.engine.state.node)
                    beat = now
                await asyncio.wait({run}, timeout=PERSIST_EVERY_S)
                await record.flush(bridge.result)
        except asyncio.CancelledError:
            hung_up_by = _hung_up_by()
            await media.hangup()
            ended, stuck = await _wind_down(run)
            if ended is None:  # the row ends with what is known, the reason as its error
                ended = bridge.result_now(BuiltinOutcome.HUNG_UP.value)
                ended.error = ended.error or stuck
            await record.flush(ended)
            recording = await call.close_recording()
            gone = await how_gone("mid-call") if hung_up_by == calls.ABORTED else None
            await record.finish(ended, recording, hung_up_by=hung_up_by, gone=gone)
            raise
        result = run.result()
        log.info(
            "call %s ended: %s after %d turns, %d ms",
            inp.attempt_id,
            result.outcome,
            result.turns,
            result.duration_ms,
        )
        await record.flush(result)
        await record.finish(result, await call.close_recording())
        return ConverseResult(
            outcome=result.outcome,
            callback_at=result.callback_at,
            opted_out=result.opted_out,
            node_path=result.node_path,
            turns=result.turns,
            duration_ms=result.duration_ms,
            usage=result.usage,
            error=result.error,
        )


def _hung_up_by() -> str:
    """Why this cancelled call was hung up: ``aborted`` when its workflow is gone
    (:func:`workflow_gone`), else ``cancelled`` (the workflow or an operator hung up)."""
    return calls.ABORTED if workflow_gone() else "cancelled"


async def _wind_down(run: asyncio.Task[CallResult]) -> tuple[CallResult | None, str]:
    """The hung-up call's result once its bridge wound down, else ``None`` and why not.

    A bridge stuck after the hang-up (a provider that stopped reading holds its sends, its
    close, and the lock every engine step takes) gets ``WIND_DOWN_S``, then is cancelled, up
    to ``CANCEL_TRIES`` times: its provider session and tools go with it. One that outlives
    that is kept referenced until it ends, and its late result is never stored: the call's
    row ends now with what the engine knew (``CallBridge.result_now``)."""
    await asyncio.wait({run}, timeout=WIND_DOWN_S)
    for _ in range(CANCEL_TRIES):
        if run.done():
            break
        run.cancel()
        await asyncio.wait({run}, timeout=CANCEL_WAIT_S)
    stuck = f"the call did not wind down within {WIND_DOWN_S:g} s of the hang-up"
    if not run.done():
        _LINGERING.add(run)
        run.add_done_callback(_lingered)
        log.error("%s: %s; it is left to end on its own", run.get_name(), stuck)
        return None, stuck
    if run.cancelled():
        return None, f"{stuck}; it was cancelled"
    if (exc := run.exception()) is not None:
        return None, f"the call failed while it wound down: {exc!r}"
    return run.result(), ""


def _lingered(run: asyncio.Task[CallResult]) -> None:
    """A bridge that outlived its cancellations ended at last: forgotten, its end logged."""
    _LINGERING.discard(run)
    failure = None if run.cancelled() else run.exception()
    log.warning("%s ended %s after its row was ended", run.get_name(), failure or "at last")


def campaign_values(inp: ConverseInput) -> dict[str, object]:
    """What the flow reads as ``campaign.<name>``: the campaign's name and the contact's id."""
    values: dict[str, object] = {"name": inp.campaign}
    if inp.contact_id is not None:
        values["contact_id"] = inp.contact_id
    return values

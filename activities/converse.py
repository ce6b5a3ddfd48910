"""The ``converse`` activity: one live call, from media session to outcome.

The contact workflow calls ``converse`` on the task queue of the worker whose AudioSocket server
the call's media lands on (Temporal's worker-specific task queue pattern). The activity waits
for the media session of ``attempt_id``, runs the call bridge (media session, engine, provider,
tools), heartbeats while the call lasts, hangs up when cancelled, and returns a
``ConverseResult``. While the call lasts it keeps the call's row in PostgreSQL up to date
(transcript and tool calls as they happen; outcome, node path, provider usage and cost at the
end) and, unless ``VOXFLOW_RECORDING`` is off, records both legs to
``<recordings dir>/<attempt id>.wav`` (stereo: left the caller, right the agent). Both dataclasses are plain JSON-serialisable values so the workflow and the
activity agree through Temporal's default data converter.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dsl.outcomes import BuiltinOutcome, TelephonyOutcome
from runtime.call.recording import RecordingMedia, StereoRecorder
from runtime.db import calls
from telephony.media_wait import ChannelGone, wait_for_media

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConverseInput:
    attempt_id: str
    """Canonical 36-char UUID of the attempt; also the AudioSocket UUID of the call's media."""
    flow_hash: str
    """``sha256:<hex>`` of the IR the campaign was started with (looked up in the flow store)."""
    contact: dict[str, Any]
    """The contact's columns, readable by the flow as ``contact.<name>``."""
    campaign: dict[str, Any] = field(default_factory=dict)
    """Campaign values readable as ``campaign.<name>``."""
    provider: str | None = None
    """Force a provider (``openai``, ``ultravox``, ``local``); ``None`` = the flow's choice."""


@dataclass(frozen=True)
class ConverseResult:
    outcome: str
    """An agent outcome, a ``BuiltinOutcome`` or a ``TelephonyOutcome`` value."""
    callback_at: str | None = None
    """ISO 8601 aware datetime the callee asked to be called back at, when they did."""
    opted_out: bool = False
    node_path: list[str] = field(default_factory=list)
    """Nodes entered, in order (the start node first)."""
    turns: int = 0
    """Caller turns (utterances or DTMF) handled by the engine."""
    duration_ms: int = 0
    """From the media session's start to hang-up."""
    usage: dict[str, Any] = field(default_factory=dict)
    """Provider usage: ``{"provider": ..., "input_tokens": ..., "output_tokens": ..., "cost_usd": ...}``."""
    error: str | None = None
    """Why the call ended abnormally (provider failure, media timeout), ``None`` otherwise."""


# --- the activity ------------------------------------------------------------------------------

HEARTBEAT_EVERY_S = 5.0
PERSIST_EVERY_S = 1.0
"""How often transcript turns and tool calls of a live call are stored (a live transcript)."""
MEDIA_WAIT_S = 30.0


class CallRecord:
    """The call's row in PostgreSQL, kept up to date while the call lasts.

    Transcript entries and tool calls are stored as they happen (every ``PERSIST_EVERY_S``),
    so ``GET /calls/{id}`` shows a live transcript; every write is idempotent (keyed by entry
    number and tool call id). A failed write is logged and tried again at the next flush: the
    call itself never fails for want of a database.
    """

    def __init__(self, pool: Any, inp: ConverseInput) -> None:
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
                campaign=inp.campaign.get("name"),
                contact=inp.campaign.get("contact_id") or inp.contact.get("id"),
                phone=inp.contact.get("phone"),
                flow_hash=inp.flow_hash,
            )
        except Exception as exc:  # the call goes on; flush and finish create the row later
            log.warning("call %s: call row not stored: %s", inp.attempt_id, exc)

    async def flush(self, result: Any) -> None:
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

    async def finish(self, result: Any, recording: str | None) -> None:
        """The call's end: outcome, node path, usage and cost, the recording's file name."""
        call_id = self._inp.attempt_id
        try:
            await calls.start_call(self._pool, call_id, provider=",".join(result.providers) or None)
            await calls.end_call(
                self._pool,
                call_id,
                outcome=result.outcome,
                node_path=result.node_path,
                turns=result.turns,
                duration_ms=result.duration_ms,
                error=result.error,
                usage=to_jsonable_python(result.usage, fallback=str),
                recording=recording,
            )
        except Exception as exc:  # the outcome still reaches the workflow
            log.warning("call %s: end of call not stored: %s", call_id, exc)


class ConverseActivities:
    """The ``converse`` activity with the worker's resources.

    Args:
        server: the worker's ``AudioSocketServer`` (the call's media lands there).
        pool: the PostgreSQL pool (flows, persistence, provider breakers).
        gateway: the telephony gateway (transfers).
        settings: provider keys and endpoints.
        breaker: shared provider circuit breaker (``PgBreaker`` on ``pool`` by default).
        media_wait_s: how long to wait for the call's AudioSocket connection.
    """

    def __init__(
        self,
        *,
        server: Any,
        pool: Any,
        gateway: Any,
        settings: Any,
        breaker: Any = None,
        media_wait_s: float = MEDIA_WAIT_S,
        openai_audio_format: str = "pcmu",
    ) -> None:
        from runtime.providers.breaker import PgBreaker

        self.server = server
        self.pool = pool
        self.gateway = gateway
        self.settings = settings
        self.breaker = breaker if breaker is not None else PgBreaker(pool)
        self.media_wait_s = media_wait_s
        self.openai_audio_format = openai_audio_format

    @classmethod
    def for_worker(cls, *, server: Any, pool: Any, gateway: Any) -> ConverseActivities:
        from runtime.settings import load_settings

        return cls(server=server, pool=pool, gateway=gateway, settings=load_settings())

    def default_provider(self) -> str:
        """OpenAI when its key is set, else Ultravox when its key is set, else local."""
        if self.settings.openai_api_key is not None:
            return "openai"
        if self.settings.ultravox_api_key is not None:
            return "ultravox"
        return "local"

    def provider_factory(self, engine: Any) -> Any:
        """Builds providers by name for one call; unconfigured ones are unavailable."""
        from runtime.providers.factory import voice_providers

        return voice_providers(self.settings, engine, openai_audio_format=self.openai_audio_format)

    @activity.defn(name="converse")
    async def converse(self, inp: ConverseInput) -> ConverseResult:
        """Run the call of ``inp.attempt_id`` to its end; heartbeats while it lasts.

        Cancellation (the workflow's hang-up, an operator, a timeout) hangs the call up and
        re-raises. A missing flow is a non-retryable ``FlowNotFound`` error.
        """
        from runtime.call import CallBridge
        from runtime.db.flows import load_flow
        from runtime.db.persistence import PgPersistence
        from runtime.engine import Engine
        from runtime.providers.fallback import ProviderChain, provider_order
        from runtime.tools.runner import ToolRunner

        flow = await load_flow(self.pool, inp.flow_hash)
        if flow is None:
            raise ApplicationError(
                f"flow {inp.flow_hash} is not stored; the campaign cannot run it",
                type="FlowNotFound",
                non_retryable=True,
            )
        try:
            media = await wait_for_media(
                self.server,
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
        engine = Engine(
            flow,
            contact=inp.contact,
            call_id=inp.attempt_id,
            now=datetime.now(UTC),
            campaign=inp.campaign,
        )
        persistence = PgPersistence(self.pool, campaign=inp.campaign.get("name"))
        tools = ToolRunner(
            flow,
            call_id=inp.attempt_id,
            contact=engine.contact,
            tz=engine.tz,
            persistence=persistence,
            campaign=inp.campaign,
        )
        names = provider_order(
            inp.provider or self.default_provider(), flow.agent.provider.fallback
        )
        chain = ProviderChain(names, self.provider_factory(engine), self.breaker)

        async def transfer(to: str) -> None:
            await self.gateway.transfer(inp.attempt_id, to)

        recorder = None
        if self.settings.recording:
            try:
                recorder = StereoRecorder(
                    Path(self.settings.recordings_dir), inp.attempt_id, rate=media.wire_rate
                )
            except OSError as exc:  # an unwritable directory costs the recording, not the call
                log.warning("call %s: not recorded: %s", inp.attempt_id, exc)
            else:
                media = RecordingMedia(media, recorder)
        record = CallRecord(self.pool, inp)
        await record.start()
        bridge = CallBridge(
            engine=engine,
            media=media,
            chain=chain,
            tools=tools,
            transfer=transfer,
            start_node=inp.campaign.get("start_node"),
        )
        run = asyncio.create_task(bridge.run(), name=f"call-{inp.attempt_id}")
        try:
            beat = 0.0
            while not run.done():
                now = asyncio.get_running_loop().time()
                if now - beat >= HEARTBEAT_EVERY_S:
                    activity.heartbeat(engine.state.node)
                    beat = now
                await asyncio.wait({run}, timeout=PERSIST_EVERY_S)
                await record.flush(bridge.result)
        except asyncio.CancelledError:
            await media.hangup()
            await asyncio.wait({run}, timeout=10)
            await record.flush(bridge.result)
            recording = await _close(recorder, inp.attempt_id)
            if run.done() and not run.cancelled() and run.exception() is None:
                await record.finish(run.result(), recording)
            raise
        result = run.result()
        await record.flush(result)
        await record.finish(result, await _close(recorder, inp.attempt_id))
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


async def _close(recorder: StereoRecorder | None, call_id: str) -> str | None:
    """Write the recording's WAV; its file name, or ``None`` when there is none."""
    if recorder is None:
        return None
    try:
        return (await asyncio.to_thread(recorder.close)).name
    except OSError as exc:  # a full disk loses the recording, never the call's outcome
        log.warning("call %s: recording not written: %s", call_id, exc)
        return None

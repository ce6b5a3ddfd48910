"""The call bridge: runs one live call, media session ↔ provider ↔ engine ↔ tools.

Tasks (one ``asyncio.TaskGroup``, so one failure cancels the others):

* ``media``: caller frames (a provider chunk at a time, ``input_chunk_ms``) → resampled to
  the provider's rate → provider; DTMF → engine; the end of the iteration is the caller
  hanging up.
* ``provider``: provider events → playout (agent audio), engine (transcripts, function
  calls), barge-in (flush the playout, tell the provider what was really played).
* ``clock``: ``Tick`` every second, ``Silence`` when the current node's threshold passes,
  ``SpeechFinished`` when the playout has drained; it wakes only when one is due, as found
  by the loop's shared 100 ms watch (``runtime/call/watch.py``).
* one task per tool call (``ToolRunner``), answered to the engine and the provider.

The media session paces the frames it is given; the bridge never sleeps on the audio path.
The engine is fed under one lock, so its events stay strictly ordered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from runtime.call.result import CallResult, Interruption, timed_visits
from runtime.call.watch import WATCH_S, QuietTimer, shared_watch
from runtime.engine import Engine
from runtime.engine.events import (
    AgentSaid,
    CallerSaid,
    CallerUnheard,
    CallTool,
    Command,
    DtmfPressed,
    End,
    Event,
    HungUp,
    NodeEntered,
    ProviderFailed,
    Respond,
    Say,
    SetOutcome,
    Silence,
    SpeechFinished,
    Tick,
    ToolResult,
    Transfer,
    TransitionCalled,
    UpdateSession,
)
from runtime.observability.calls import CallTelemetry
from runtime.observability.logs import call_context
from runtime.providers.base import (
    AgentAudio,
    AgentAudioDone,
    AgentTranscript,
    CallerSpeechStarted,
    CallerTranscript,
    CallSetup,
    FunctionCall,
    ProviderEnded,
    ProviderError,
    TranscriptionFailed,
    VoiceProvider,
)
from runtime.providers.fallback import ProviderChain
from telephony.audio.frames import AudioFrame, checked_frame
from telephony.audio.resample import Resampler
from telephony.audio.simspeech import encode as simspeech_encode
from telephony.audiosocket.session import Dtmf, MediaSession

log = logging.getLogger(__name__)

TICK_S = 1.0
FRAME_MS = 20
"""A caller frame on the line (AudioSocket sends one every 20 ms)."""
DRAIN_LIMIT_S = 30.0
"""Longest wait for queued agent speech to play out before hanging up."""


def simspeech_voice(text: str) -> AudioFrame:
    """Last-resort voice for the apology when no provider is left: simulated speech.

    Intelligible only to the simulated PBX; production deployments should pass a recorded
    prompt (``apology_voice``) instead.
    """
    return AudioFrame(simspeech_encode(text, 8000), 8000)


class Tools(Protocol):
    """Runs the engine's ``CallTool`` commands (``runtime.tools.ToolRunner``)."""

    async def run(
        self, call: CallTool, *, now: datetime, values: Mapping[str, Any] | None = None
    ) -> ToolResult: ...


class _Stop(Exception):
    """Internal: the call is over; unwinds the task group."""


class CallBridge:
    """One call. ``await CallBridge(...).run()`` returns the :class:`CallResult`.

    Args:
        engine: a fresh engine for the call (``start`` not called yet).
        media: the call's AudioSocket media session.
        chain: the providers to use, in order.
        tools: runs ``CallTool`` (``runtime.tools.ToolRunner`` or anything with ``run``).
        transfer: carries out ``Transfer`` (e.g. the gateway's ``transfer``), optional.
        apology_voice: renders text when no provider is left to speak it.
        start_node: enter this node instead of the flow's start (e.g. the campaign's
            ``amd_node`` when a machine answered).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        media: MediaSession,
        chain: ProviderChain,
        tools: Tools,
        transfer: Callable[[str], Awaitable[None]] | None = None,
        apology_voice: Callable[[str], AudioFrame] = simspeech_voice,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        start_node: str | None = None,
    ) -> None:
        self.engine = engine
        self._start_node = start_node
        self.media = media
        self.chain = chain
        self.tools = tools
        self._transfer = transfer
        self._apology_voice = apology_voice
        self._clock = clock
        self.provider: VoiceProvider | None = None
        self.result = CallResult(call_id=engine.call_id, outcome="")
        self._lock = asyncio.Lock()
        self._errors_noted = 0
        self._ended = asyncio.Event()
        self._stop = asyncio.Event()
        self._resampler: Resampler | None = None
        self._segments: list[tuple[str, int, int]] = []
        """(item_id, start_ms, duration_ms) of agent audio queued since the playout counter reset."""
        self._item: str | None = None
        self._speaking = False
        self._silence = QuietTimer(engine)
        self._model_calls: set[str] = set()
        self._tool_tasks: set[asyncio.Task[None]] = set()
        self._usages: list[VoiceProvider] = []
        self._finisher: asyncio.Task[None] | None = None
        self._transferring: asyncio.Task[None] | None = None
        self._started = time.monotonic()
        self._entered_ms: list[int] = []
        """When each ``NodeEntered`` was carried out, in ms from the start of the call."""
        self._pending_says = 0
        """``say`` requests sent to the provider whose speech has not finished yet."""
        self.telemetry = CallTelemetry(engine.call_id)
        self._next_tick = 0.0
        self._clock_due: asyncio.Future[None] | None = None
        """Set by the shared watch when :meth:`_clock_loop` has something due."""

    # ---- the call ---------------------------------------------------------------------

    async def run(self) -> CallResult:
        # Every line logged during the call names it (the activity may have said more).
        with call_context(self.engine.call_id, flow_hash=self.engine.flow.hash):
            return await self._run()

    async def _run(self) -> CallResult:
        self._started = time.monotonic()
        setup = CallSetup(
            call_id=self.engine.call_id,
            settings=self.engine.agent.provider,
            first=None,
            wire_rate=self.media.wire_rate,
        )
        self._setup = setup
        try:
            async with asyncio.TaskGroup() as tg:
                async with self._lock:
                    commands = await self._off_loop(self.engine.start, self._start_node)
                    first = next((c for c in commands if isinstance(c, UpdateSession)), None)
                    setup = CallSetup(setup.call_id, setup.settings, first, setup.wire_rate)
                    self._setup = setup
                    provider = await self.chain.connect(setup)
                    if provider is not None:
                        self._adopt(provider)
                        commands = [c for c in commands if c is not first]
                    else:
                        reason = self._no_provider_reason()
                        self.result.error, self.result.ended_by = reason, "provider"
                        commands += await self._off_loop(self.engine.handle, ProviderFailed(reason))
                    tg.create_task(self._media_loop())
                    tg.create_task(self._provider_loop())
                    tg.create_task(self._clock_loop())
                    tg.create_task(self._stopper())
                    await self._execute(commands)
        except* _Stop:
            pass
        finally:
            self.telemetry.close()
            for task in list(self._tool_tasks):
                task.cancel()
            if self._transferring is not None and not self._transferring.done():
                self._transferring.cancel()
            if self.provider is not None:
                await self.provider.hangup()
            await self.chain.close()
            if not self.media.closed.is_set():
                await self.media.hangup()
        return self.result_now("completed")

    def result_now(self, unset: str) -> CallResult:
        """The call's result as the engine knows it now (its outcome ``unset`` if it set none)."""
        state, r = self.engine.state, self.result
        r.outcome = state.outcome or unset
        r.node_path = list(state.path)
        r.turns = state.turns
        r.callback_at, r.opted_out = state.callback_at, state.opted_out
        r.transfer_to = state.transfer_to
        r.slots = dict(state.slots)
        r.duration_ms = int((time.monotonic() - self._started) * 1000)
        r.visits = timed_visits(state.trail, self._entered_ms, r.duration_ms)
        r.usage = {p.name: p.usage.as_dict() for p in self._usages}
        return r

    async def _stopper(self) -> None:
        await self._stop.wait()
        raise _Stop

    def _adopt(self, provider: VoiceProvider) -> None:
        self.provider = provider
        self._usages.append(provider)
        self.result.providers.append(provider.name)
        self._resampler = Resampler(self.media.wire_rate, provider.input_rate)

    def _no_provider_reason(self) -> str:
        tried = "; ".join(f"{a.provider}: {a.reason}" for a in self.chain.attempts if not a.ok)
        return f"no provider could take the call ({tried or 'none configured'})"

    # ---- engine -----------------------------------------------------------------------

    @staticmethod
    async def _off_loop(step: Callable[..., list[Command]], *args: object) -> list[Command]:
        """Run one engine step in a thread: a flow's templates render there, so a slow one
        (bounded by ``dsl.bounds``) costs the loop at most a GIL switch interval at a time,
        never the media of every other call. The lock held by the callers keeps the engine's
        events strictly ordered."""
        return await asyncio.to_thread(step, *args)

    async def _feed(self, event: Event, *, origin: str | None = None) -> None:
        async with self._lock:
            if self.engine.state.ended:
                return
            if isinstance(event, Tick):
                # Every call ticks each second, and a tick rarely renders anything: a thread
                # hop (~90 us of CPU) on each would cost ~4 % of a core at 500 calls.
                commands = self.engine.handle(event)
            else:
                commands = await self._off_loop(self.engine.handle, event)
            await self._execute(commands, origin=origin)

    async def _execute(self, commands: list[Command], *, origin: str | None = None) -> None:
        """Carry out engine commands in order; ``origin`` is the function call that caused them."""
        provider = self.provider
        if origin is not None and not any(
            isinstance(c, CallTool) and c.call_id == origin for c in commands
        ):
            update = next((c for c in commands if isinstance(c, UpdateSession)), None)
            commands = [c for c in commands if c is not update]
            if provider is not None:
                self.telemetry.asked()
                await provider.function_result(
                    origin, {"ok": True, "node": self.engine.state.node}, update=update
                )
        for c in commands:
            match c:
                case NodeEntered(name=name):
                    self._entered_ms.append(int((time.monotonic() - self._started) * 1000))
                    self._note("event", f"entered {name}", via=c.via)
                case UpdateSession():
                    if provider is not None:
                        await provider.update_session(c)
                case Say(text=text):
                    self._note("agent", text, verbatim=True)
                    if provider is not None:
                        self._pending_says += 1
                        self.telemetry.asked()
                        await provider.say(text)
                    else:
                        await self._speak_locally(text)
                case Respond():
                    if provider is not None:
                        self.telemetry.asked()
                        await provider.respond()
                case CallTool():
                    task = asyncio.create_task(self._run_tool(c))
                    self._tool_tasks.add(task)
                    task.add_done_callback(self._tool_tasks.discard)
                case SetOutcome(outcome=outcome):
                    self._note("event", f"outcome {outcome}")
                case Transfer(to=to):
                    self._note("event", f"transfer to {to}")
                    if self._transfer is not None and self._transferring is None:
                        # After what the agent is saying ("Transferring you...") has played:
                        # the redirect takes the channel away from this media session.
                        self._transferring = asyncio.create_task(self._transfer_when_said(to))
                        self._transferring.add_done_callback(_log_failure)
                case End(outcome=outcome):
                    self._note("event", f"end {outcome}")
                    if not self.result.ended_by:
                        self.result.ended_by = "agent"
                    if not self._ended.is_set():
                        self._ended.set()
                        self._finisher = asyncio.create_task(self._finish())
                        self._finisher.add_done_callback(_log_failure)
        # Errors the engine met (a template over its bounds, a failed condition) are the
        # call's own: stored as events of its transcript, after what it did; the call goes on.
        errors = self.engine.state.errors
        for message in errors[self._errors_noted :]:
            self._note("event", f"error: {message}")
        self._errors_noted = len(errors)
        if provider is not None:
            await provider.flush()

    async def _run_tool(self, call: CallTool) -> None:
        with self.telemetry.tool_call(call.name) as span:
            result: ToolResult = await self.tools.run(
                call, now=self._clock(), values=self.engine.values()
            )
            span.set_attribute("voxflow.ok", result.ok)
        entry: dict[str, Any] = {"call_id": call.call_id, "name": call.name,
                                 "arguments": call.arguments, "ok": result.ok}  # fmt: skip
        entry["result" if result.ok else "error"] = result.result if result.ok else result.error
        self.result.tool_calls.append(entry)
        self._note("tool", call.name, ok=result.ok)
        async with self._lock:
            if self.engine.state.ended:
                return
            commands = await self._off_loop(self.engine.handle, result)
            if call.call_id in self._model_calls and self.provider is not None:
                output = result.result if result.ok else {"error": result.error}
                self.telemetry.asked()
                await self.provider.function_result(call.call_id, output)
            await self._execute(commands)

    async def _finish(self) -> None:
        """After ``End``: let queued speech play out (and a transfer happen), then hang up."""
        deadline = time.monotonic() + DRAIN_LIMIT_S
        if self._tool_tasks:
            await asyncio.wait(set(self._tool_tasks), timeout=DRAIN_LIMIT_S)
        await self._speech_played(deadline)
        if self._transferring is not None:
            await asyncio.wait({self._transferring}, timeout=DRAIN_LIMIT_S)
        self._stop.set()

    async def _speech_played(self, deadline: float) -> None:
        """Wait until the agent's queued and requested speech has been sent (or ``deadline``)."""
        while time.monotonic() < deadline and not self.media.closed.is_set():
            if self.media.queued_ms == 0 and not self._speaking and not self._pending_says:
                return
            await asyncio.sleep(WATCH_S)

    async def _transfer_when_said(self, to: str) -> None:
        await self._speech_played(time.monotonic() + DRAIN_LIMIT_S)
        if self.media.closed.is_set():
            self._note("event", f"transfer to {to} not made: the caller hung up")
            return
        try:
            await self._transfer(to)  # type: ignore[misc]
        except Exception as err:  # the PBX refused: the call goes on to its end
            log.warning("call %s: transfer to %s failed: %s", self.engine.call_id, to, err)
            self._note("event", f"transfer to {to} failed: {err}")

    # ---- media → provider ---------------------------------------------------------------

    async def _media_loop(self) -> None:
        # A provider that sends caller audio in chunks (OpenAI: ``input_chunk_ms``, 40 ms per
        # append) is fed a chunk per wake-up of this loop rather than a frame: half the task
        # switches, and no later than it would send them anyway. Audio that must be resampled
        # goes through soxr a chunk at a time too (half the calls; its delay does not grow).
        chunk_ms: int = getattr(self.provider, "input_chunk_ms", FRAME_MS)
        batch = max(1, chunk_ms // FRAME_MS)
        held: list[AudioFrame] = []
        async for item in self.media.incoming(batch=batch):
            if isinstance(item, Dtmf):
                self._quiet()
                await self._feed(DtmfPressed(item.digit))
                continue
            provider, resampler = self.provider, self._resampler
            if provider is None or resampler is None:
                continue
            if resampler.in_rate != resampler.out_rate:
                if batch > 1:
                    held.append(item)
                    if len(held) < batch:
                        continue
                    # Checked frames make a checked chunk: no dataclass checks 25 times a second
                    item = checked_frame(b"".join([f.pcm for f in held]), item.rate)
                    held.clear()
                item = resampler.process(item)
            elif item.rate != resampler.in_rate:
                resampler.process(item)  # raises: the line changed rate under the provider
            if item.pcm:
                await provider.send_audio(item)
        if not self._ended.is_set():
            self.result.ended_by = "caller"
            await self._feed(HungUp())
        self._stop.set()

    # ---- provider → media / engine ------------------------------------------------------

    async def _provider_loop(self) -> None:
        while True:
            provider = self.provider
            if provider is None:
                await self._stop.wait()
                return
            failure: str | None = None
            async for event in provider.events():
                if provider is not self.provider:
                    break
                failure = await self._on_provider_event(event)
                if failure is not None:
                    break
            else:
                if self._stop.is_set() or self._ended.is_set():
                    await self._stop.wait()
                    return
                failure = failure or f"{provider.name} ended the session"
            if failure is None:
                continue
            await self._fail_over(provider, failure)

    async def _on_provider_event(self, event: object) -> str | None:
        match event:
            case AgentAudio(frame=frame, item_id=item_id):
                if item_id != self._item:
                    self._new_item(item_id)
                start, ms = self._segments[-1][1], self._segments[-1][2]
                self._segments[-1] = (item_id, start, ms + int(frame.duration_ms))
                self._speaking = True
                self.telemetry.audio(self._provider_name, item_id)
                await self.media.play(frame)
            case AgentAudioDone():
                self.telemetry.turn_done()
                self.media.end_response()
            case AgentTranscript(text=text, verbatim=verbatim):
                if verbatim:
                    self._pending_says = max(0, self._pending_says - 1)
                elif text:
                    self._note("agent", text)
                    await self._feed(AgentSaid(text))
            case CallerSpeechStarted():
                self._quiet()
                await self._barge_in(time.perf_counter())
            case CallerTranscript(text=text, final=final):
                self._quiet()
                if final:
                    self.telemetry.asked()  # a realtime model answers on its own
                    self._note("caller", text)
                await self._feed(CallerSaid(text, final=final))
            case TranscriptionFailed(reason=reason):
                self._quiet()
                await self._feed(CallerUnheard(reason))
            case FunctionCall(call_id=call_id, name=name, arguments=arguments):
                self._model_calls.add(call_id)
                self._note("event", f"function {name}", arguments=arguments)
                await self._feed(TransitionCalled(name, arguments, call_id), origin=call_id)
            case ProviderError(reason=reason, fatal=fatal, code=code):
                self.telemetry.provider_error(self._provider_name, code, fatal=fatal)
                if fatal:
                    return reason
            case ProviderEnded(reason=reason):
                return f"the provider ended the call: {reason}"
        return None

    def _new_item(self, item_id: str) -> None:
        if self.media.queued_ms == 0:
            self.media.new_response()
            self._segments = []
        start = self._segments[-1][1] + self._segments[-1][2] if self._segments else 0
        self._segments.append((item_id, start, 0))
        self._item = item_id

    @property
    def _provider_name(self) -> str:
        return self.provider.name if self.provider is not None else "none"

    async def _barge_in(self, started: float) -> None:
        """``started``: when the caller's speech was reported (``time.perf_counter()``)."""
        if self.media.queued_ms == 0 and not self._speaking:
            return
        played = self.media.interrupt()
        item_id: str | None = None
        offset = 0
        for seg_id, start, ms in self._segments:
            if start <= played < start + ms or (played >= start + ms and seg_id == self._item):
                item_id, offset = seg_id, min(played - start, ms)
                break
        self._segments = []
        self._item = None
        self._speaking = False
        self.result.interruptions.append(Interruption(item_id, offset))
        self._note("event", "barge-in", item_id=item_id, played_ms=offset)
        if self.provider is not None:
            await self.provider.interrupted(item_id, offset)
        self.telemetry.barge_in(started)

    async def _fail_over(self, failed: VoiceProvider, reason: str) -> None:
        log.warning("call %s: provider %s failed: %s", self.engine.call_id, failed.name, reason)
        self._note("event", f"provider {failed.name} failed", reason=reason)
        self.media.interrupt()
        self._speaking = False
        self._pending_says = 0
        await failed.hangup()
        await self.chain.failed(failed, reason)
        if self._ended.is_set():
            self.provider = None
            return
        setup = CallSetup(
            call_id=self._setup.call_id,
            settings=self._setup.settings,
            first=self.engine.session(),
            wire_rate=self.media.wire_rate,
        )
        nxt = await self.chain.connect(setup)
        if nxt is not None:
            self._adopt(nxt)
            await nxt.respond()
            return
        self.provider = None
        self.result.error = reason
        self.result.ended_by = "provider"
        await self._feed(ProviderFailed(self._no_provider_reason()))

    async def _speak_locally(self, text: str) -> None:
        self.media.new_response()
        await self.media.play(self._apology_voice(text))
        self.media.end_response()

    # ---- time ---------------------------------------------------------------------------

    def _quiet(self) -> None:
        self._silence.reset(time.monotonic())

    async def _clock_loop(self) -> None:
        """``SpeechFinished``, ``Tick``, ``Silence``: checked every ``WATCH_S`` by the loop's
        shared watch (one timer for every call), which wakes this task when one is due."""
        self._next_tick = time.monotonic() + TICK_S
        watch = shared_watch()
        check = self._check_clock
        watch.add(check)
        try:
            while True:
                self._clock_due = asyncio.get_running_loop().create_future()
                await self._clock_due
                self._clock_due = None
                await self._clock_step()
        finally:
            watch.discard(check)

    def _check_clock(self, now: float) -> None:
        """From the shared watch: wake :meth:`_clock_loop` when it has something to do."""
        due = self._clock_due
        if due is None or due.done():
            return
        if (
            now >= self._next_tick
            or (self._speaking and self.media.queued_ms == 0)
            or (not self._speaking and self._silence.due(now))
        ):
            due.set_result(None)

    async def _clock_step(self) -> None:
        if self._speaking and self.media.queued_ms == 0:
            self._speaking = False
            self._quiet()
            await self._feed(SpeechFinished())
        now = time.monotonic()
        if now >= self._next_tick:
            self._next_tick = now + TICK_S
            await self._feed(Tick(self._clock()))
        if not self._speaking and self._silence.due(now):
            await self._feed(Silence(self._silence.fire(now)))

    def _note(self, role: str, text: str, **data: Any) -> None:
        entry: dict[str, Any] = {"role": role, "text": text, "node": self.engine.state.node}
        if data:
            entry["data"] = data
        self.result.transcript.append(entry)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("call bridge task failed", exc_info=task.exception())

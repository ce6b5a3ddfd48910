"""A live test call from the browser: a real AudioSocket line into a real call bridge.

The studio plays the part Asterisk plays in production. A :class:`VoiceCall` owns a private
event loop on a background thread; on it run an :class:`~telephony.audiosocket.AudioSocketServer`
on ``127.0.0.1:0``, the AudioSocket client that dials into it (the caller's leg), and the live
call that ``runtime.call.assemble.voice_call`` puts together over the server's media session,
exactly as for the ``converse`` activity (no database: in-memory persistence, the designer's
knowledge, no circuit breaker, no recording). The caller's leg streams 20 ms slin
frames continuously, as a phone line does: the clip of a turn, silence otherwise (so a
realtime provider's voice-activity detection hears the caller stop).

A turn sends one clip and collects every frame of agent audio the line carries until the
agent is done: audio has come and then the line has been quiet for ``quiet_s``, or the call
ended, or nothing came for ``reply_wait_s``. The call is live between turns too: a silence
timer of the flow fires while the designer records, and what the agent said meanwhile is part
of the next turn. The call hangs itself up after ``idle_s`` without a turn, so a closed browser
tab leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dsl import ir
from runtime.call import CallBridge, CallResult
from runtime.call.assemble import voice_call
from runtime.call.spec import CallServices, CallSpec
from runtime.knowledge import InMemoryKnowledgeBase
from runtime.persistence import InMemoryPersistence
from runtime.providers.registry import Providers
from studio.voice.clip import WIRE_RATE, wav_bytes
from telephony.audio.frames import AudioFrame
from telephony.audiosocket import AudioSocketClient, AudioSocketServer
from telephony.audiosocket.codec import Audio

FRAME_BYTES = WIRE_RATE * 2 // 50
"""One 20 ms slin frame at 8 kHz."""
FRAME_S = 0.020
SILENCE = bytes(FRAME_BYTES)


class VoiceCallError(RuntimeError):
    """The call could not start, or a turn could not be carried out (the reason says why)."""


@dataclass(frozen=True)
class VoiceTurn:
    """What one turn of the call carried: the caller's clip and everything the agent did."""

    caller: str
    """What the caller sent: ``""`` for the call's opening, else a description of the clip."""
    reply: AudioFrame
    """Agent audio the line carried during the turn, 8 kHz slin, gaps left out."""
    lines: tuple[dict[str, Any], ...]
    """Transcript entries of the turn (``role`` agent/caller/tool/event, ``text``, ``node``)."""
    node_path: tuple[str, ...]
    """Nodes entered since the call started, after the turn."""
    tool_calls: tuple[dict[str, Any], ...]
    """Tool calls run during the turn (``name``, ``arguments``, ``ok``, ``result``/``error``)."""
    ended: bool
    """The call is over (``outcome`` says how)."""
    outcome: str | None = None

    @property
    def reply_wav(self) -> bytes:
        return wav_bytes(self.reply)

    @property
    def agent_lines(self) -> list[str]:
        return [line["text"] for line in self.lines if line["role"] == "agent"]


@dataclass
class _Line:
    """The caller's leg: frames to send, agent audio received, and when it last arrived."""

    outgoing: deque[bytes] = field(default_factory=deque)
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    heard: bytearray = field(default_factory=bytearray)
    last_audio: float = 0.0
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    hung_up: bool = False
    """The caller hung up: nothing more is sent."""


class VoiceCall:
    """One live call of ``flow``; create it with :meth:`start`, drive it with :meth:`send`.

    Every public method is called from the page's thread and blocks until the call's own loop
    has done the work; none may be called from the call's loop.
    """

    def __init__(
        self,
        flow: ir.Flow,
        *,
        providers: Providers,
        chain: Sequence[str],
        contact: Mapping[str, Any],
        now: datetime | None = None,
        knowledge: Mapping[str, list[str]] | None = None,
        quiet_s: float = 0.8,
        reply_wait_s: float = 20.0,
        idle_s: float = 600.0,
    ) -> None:
        self.flow = flow
        self.providers = list(chain)
        """The provider names the call tries, in order."""
        self._registry = providers
        self.call_id = str(uuid.uuid4())
        self.quiet_s = quiet_s
        self.reply_wait_s = reply_wait_s
        self.idle_s = idle_s
        self.turns: list[VoiceTurn] = []
        self.result: CallResult | None = None
        self.error: str | None = None
        self._contact = dict(contact)
        self._now = now or datetime.now(UTC).replace(microsecond=0)
        self._knowledge = InMemoryKnowledgeBase(knowledge or {})
        self._bridge: CallBridge | None = None
        self._line: _Line | None = None
        self._client: AudioSocketClient | None = None
        self._marks = (0, 0, 0)
        """(bytes heard, transcript entries, tool calls) already given to a turn."""
        self._last_turn = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"voice-call-{self.call_id[:8]}", daemon=True
        )
        self._started: asyncio.Future[None] = self._loop.create_future()
        self._finished = asyncio.Event()
        """Set once the bridge has returned its record (or failed)."""
        self._run: Any = None

    # ---- page API ------------------------------------------------------------------------

    @classmethod
    def start(cls, flow: ir.Flow, **kwargs: Any) -> VoiceCall:
        """Dial in, let the flow open the call, and record its opening as the first turn.

        Raises:
            VoiceCallError: the call could not be set up (the call is cleaned up).
        """
        call = cls(flow, **kwargs)
        call._thread.start()
        call._run = asyncio.run_coroutine_threadsafe(call._main(), call._loop)
        try:
            call._submit(call._wait_started(), timeout=30)
            call._submit(call._collect(""), timeout=call.reply_wait_s + 60)
        except BaseException:
            call.close()
            raise
        return call

    def send(self, clip: AudioFrame, caller: str) -> VoiceTurn:
        """Stream ``clip`` (8 kHz) at 20 ms pace and return the agent's reply turn.

        Raises:
            VoiceCallError: the call has ended, or the clip is not 8 kHz audio.
        """
        if clip.rate != WIRE_RATE:
            raise VoiceCallError(f"the line carries {WIRE_RATE} Hz audio, got {clip.rate} Hz")
        if self.ended:
            raise VoiceCallError("the call has ended; start a new one")
        timeout = clip.duration_ms / 1000 + self.reply_wait_s + 60
        return self._submit(self._turn(clip.pcm, caller), timeout=timeout)

    def hang_up(self) -> VoiceTurn | None:
        """Hang up as the caller; returns what the agent said since the last turn, if anything."""
        try:
            return None if self.ended else self._submit(self._hang_up(), timeout=60)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the call's loop and thread (hanging up first if the call is still live)."""
        if self._loop.is_closed():
            return
        if self._run is not None and not self._run.done() and self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._drop(), self._loop).result(timeout=15)
            with contextlib.suppress(Exception):
                self._run.result(timeout=30)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    @property
    def ended(self) -> bool:
        return self._run is None or self._run.done() or bool(self.turns and self.turns[-1].ended)

    @property
    def outcome(self) -> str | None:
        return self.result.outcome if self.result is not None else None

    @property
    def node_path(self) -> list[str]:
        return list(self.turns[-1].node_path) if self.turns else []

    def tool_calls(self) -> list[dict[str, Any]]:
        return [c for t in self.turns for c in t.tool_calls]

    # ---- on the call's loop --------------------------------------------------------------

    def _submit(self, coro: Any, *, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise VoiceCallError(f"call {self.call_id}: no answer within {timeout:.0f} s") from None

    async def _main(self) -> None:
        self._last_turn = asyncio.get_running_loop().time()
        try:
            # No keep-alive: the browser's leg has no AudioSocket() inactivity timer to feed,
            # and a turn ends when the agent's frames stop (see _collect).
            async with AudioSocketServer("127.0.0.1", 0, keepalive=False) as server:
                server.expect(self.call_id)
                host, port = server.address
                client = self._client = await AudioSocketClient.connect(host, port, self.call_id)
                try:
                    media = await server.accept(self.call_id, timeout=5)
                    spec = CallSpec(
                        self.flow, call_id=self.call_id, now=self._now, contact=self._contact
                    )
                    services = CallServices(
                        InMemoryPersistence(), knowledge=self._knowledge, environ=os.environ
                    )
                    call = voice_call(
                        spec,
                        services,
                        media=media,
                        providers=self._registry,
                        chain=self.providers,
                    )
                    self._bridge = call.bridge
                    self._line = line = _Line()
                    async with asyncio.TaskGroup() as tg:
                        bridge = tg.create_task(self._bridge.run())
                        sender = tg.create_task(self._send_loop(client, line))
                        tg.create_task(self._receive_loop(client, line))
                        watchdog = tg.create_task(self._watchdog())
                        self._started.set_result(None)
                        self.result = await bridge
                        self._finished.set()
                        sender.cancel()
                        watchdog.cancel()
                finally:
                    await client.close()
        except BaseException as exc:
            self.error = self.error or f"{type(exc).__name__}: {exc}"
            if not self._started.done():
                self._started.set_exception(VoiceCallError(f"the call could not start: {exc}"))
            raise
        finally:
            self._finished.set()

    async def _wait_started(self) -> None:
        await self._started

    async def _send_loop(self, client: AudioSocketClient, line: _Line) -> None:
        """One frame every 20 ms on absolute deadlines: the clip's, or silence."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while not line.hung_up and not line.closed.is_set():
            if line.outgoing:
                pcm = line.outgoing.popleft()
                if not line.outgoing:
                    line.sent.set()
            else:
                pcm = SILENCE
            try:
                client.send_audio(AudioFrame(pcm, WIRE_RATE))
                await client.drain()
            except (ConnectionError, OSError):
                return  # the line is down; the receiver sees it and the bridge ends the call
            deadline += FRAME_S
            delay = deadline - loop.time()
            if delay < -0.2:  # the loop stalled: restart the schedule rather than burst
                deadline, delay = loop.time(), 0.0
            await asyncio.sleep(max(delay, 0.0))

    async def _receive_loop(self, client: AudioSocketClient, line: _Line) -> None:
        loop = asyncio.get_running_loop()
        try:
            while messages := await client.receive():
                for message in messages:
                    if isinstance(message, Audio):
                        line.heard += message.frame.pcm
                        line.last_audio = loop.time()
        except (ConnectionError, OSError):
            pass
        finally:
            line.closed.set()

    async def _watchdog(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            left = self._last_turn + self.idle_s - loop.time()
            if left <= 0:
                break
            await asyncio.sleep(left)
        self.error = f"hung up after {self.idle_s:.0f} s without a turn"
        await self._drop()

    async def _turn(self, pcm: bytes, caller: str) -> VoiceTurn:
        line = self._line
        assert line is not None
        self._last_turn = asyncio.get_running_loop().time()
        pcm += bytes(-len(pcm) % FRAME_BYTES)
        line.sent.clear()
        line.outgoing.extend(pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES))
        if line.outgoing:
            waiter = asyncio.ensure_future(line.sent.wait())
            closed = asyncio.ensure_future(line.closed.wait())
            await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            closed.cancel()
        return await self._collect(caller)

    async def _collect(self, caller: str) -> VoiceTurn:
        """Wait until the agent is done, then record everything since the last turn."""
        loop = asyncio.get_running_loop()
        line, bridge = self._line, self._bridge
        assert line is not None and bridge is not None
        since = loop.time()
        heard_at_start = len(line.heard)
        while not line.closed.is_set() and not self._finished.is_set():
            now = loop.time()
            replied = len(line.heard) > heard_at_start
            if replied and now - line.last_audio >= self.quiet_s:
                break
            if not replied and now - since >= self.reply_wait_s:
                break
            await asyncio.sleep(FRAME_S)
        if line.closed.is_set() and self.result is None:
            # the line is down: let the bridge finish writing its record
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), 10)
        return self._record(caller)

    def _record(self, caller: str) -> VoiceTurn:
        line, bridge = self._line, self._bridge
        assert line is not None and bridge is not None
        heard, lines, tools = self._marks
        record = self.result or bridge.result
        transcript, tool_calls = list(record.transcript), list(record.tool_calls)
        self._marks = (len(line.heard), len(transcript), len(tool_calls))
        state = bridge.engine.state
        ended = self.result is not None or line.closed.is_set()
        turn = VoiceTurn(
            caller=caller,
            reply=AudioFrame(bytes(line.heard[heard:]), WIRE_RATE),
            lines=tuple(transcript[lines:]),
            node_path=tuple(self.result.node_path if self.result else state.path),
            tool_calls=tuple(tool_calls[tools:]),
            ended=ended,
            outcome=(self.result.outcome if self.result else state.outcome) if ended else None,
        )
        self.turns.append(turn)
        return turn

    async def _hang_up(self) -> VoiceTurn:
        await self._drop()
        await self._finished.wait()
        return self._record("(hung up)")

    async def _drop(self) -> None:
        """The caller hangs up: close the caller's leg as Asterisk does."""
        line, client = self._line, self._client
        if line is not None:
            line.outgoing.clear()
            line.hung_up = True
        if client is not None:
            await client.close()

"""Ultravox over the ``serverWebSocket`` medium (protocol facts: ``docs/protocols.md``).

``POST {base}/calls`` creates the call (8 kHz in and out, the AudioSocket line rate, so audio
passes through untouched); the returned ``joinUrl`` carries raw s16le audio as binary frames
and JSON data messages as text frames, over the lean socket the OpenAI adapter uses too
(``runtime/providers/realtime_socket.py``: a send is one masked frame written to the
transport; a read takes a queued message without a future of its own).

How a flow maps onto Ultravox:

* a node is a **call stage**: the start node's instructions and tools go into the create-call
  body; a transition the model takes (a client tool) is answered with a ``client_tool_result``
  of ``responseType: "new-stage"`` whose ``result`` is the new stage (``systemPrompt``,
  ``selectedTools``);
* transitions and node tools are **client tools** (``temporaryTool`` with ``client: {}``);
* ``say`` is a ``forced_agent_message`` (spoken as given);
* barge-in: ``playback_clear_buffer`` means the caller spoke over the agent: the bridge drops
  the unplayed audio; Ultravox keeps its own record of what was heard, so nothing is sent back;
* a node the engine enters on its own (``when``, DTMF, silence) cannot change the stage without
  a tool call; its instructions are sent as a context-only ``user_text_message``
  (``urgency: "later"``) and its tools take effect at the next stage change;
* transcripts arrive as ``text`` (the whole line so far) or ``delta`` (a fragment to add) per
  ``ordinal``; a line is reported when its ``final`` message arrives, with all its fragments;
* voice activity detection is set once per call (``vadSettings`` from the agent's
  ``silence``): a node's own turn detection is not applied (the compiler warns, VF207) and
  the adapter logs it once per call;
* hanging up with a farewell sends ``hang_up`` with ``message`` and lets the service speak it
  and close the socket, for at most :data:`FAREWELL_LIMIT_S`.

A tool result is held until the engine's next command for the call: when a ``say`` follows,
it is sent with ``agentReaction: "listens"`` (the forced message speaks instead); when the
engine asks the model to respond, with ``"speaks"``. Asked to respond with no tool result
held (a task node without a ``say``, the first turn after a fail-over), the adapter sends a
``user_text_message`` of urgency ``immediate``, which makes the agent take its turn now.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
from collections import deque
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidStatus

from dsl.ir import TurnDetection
from dsl.providers import OPENAI_VOICES
from runtime.engine.events import UpdateSession
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
    ProviderEvent,
    ProviderUnavailable,
    ResponseDone,
    Usage,
)
from runtime.providers.realtime_socket import RealtimeSocket
from runtime.providers.stream import EventStream
from telephony.audio.frames import AudioFrame

log = logging.getLogger(__name__)

RATE = 8000
FAREWELL_LIMIT_S = 15.0
"""Longest wait for the service to speak a farewell and close the call."""
TAKE_TURN = "(The caller is waiting for you: take your turn now, following your instructions.)"
PRICE_PER_MINUTE = 0.05
"""Ultravox list price in USD per call minute (2025); ``cost_usd`` is an estimate."""


def _duration(ms: int) -> str:
    return f"{ms / 1000:g}s"


@functools.cache
def rest_tls() -> ssl.SSLContext:
    """httpx's own default TLS context (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``),
    built once per process: building one loads the CA bundle, about 25 ms of CPU, which a new
    ``AsyncClient`` per call used to pay at every call start."""
    return httpx.create_ssl_context()


def _describe(exc: BaseException) -> str:
    """An exception's kind, and the HTTP status of a refused handshake (never the URL)."""
    if isinstance(exc, InvalidStatus):
        return f"{type(exc).__name__} (HTTP {exc.response.status_code})"
    return type(exc).__name__


def stage(update: UpdateSession) -> dict[str, Any]:
    """The call-stage parameters of a node: system prompt and client tools."""
    return {
        "systemPrompt": update.instructions,
        "selectedTools": [tool.ultravox() for tool in update.tools],
    }


class UltravoxProvider(EventStream):
    """The Ultravox adapter for one call.

    Args:
        api_key: sent as ``X-API-Key`` (never logged).
        base_url: e.g. ``https://api.ultravox.ai/api``.
        model / voice: override the account defaults when given.
    """

    name = "ultravox"
    input_rate = RATE

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.ultravox.ai/api",
        model: str | None = None,
        voice: str | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self.model = model
        self.voice = voice
        self._timeout = connect_timeout
        self._ws: RealtimeSocket | None = None
        self._init_stream()
        self._usage = Usage(provider=self.name, model=model or "")
        self._held: tuple[str, str, UpdateSession | None] | None = None
        self._forced: deque[str] = deque()
        self._turn = 0
        self._agent_speaking = False
        self._lines: dict[tuple[str, int], str] = {}
        """Transcript lines being received, by (role, ordinal)."""
        self.call_id: str | None = None
        self._call_turn: TurnDetection | None = None
        """The call's turn detection (its ``vadSettings``); a node's own is logged once."""

    # ---- lifecycle ----------------------------------------------------------------------

    def create_call_body(self, setup: CallSetup) -> dict[str, Any]:
        settings = setup.settings
        body: dict[str, Any] = {
            "medium": {
                "serverWebSocket": {
                    "inputSampleRate": RATE,
                    "outputSampleRate": RATE,
                    "clientBufferSizeMs": 30000,
                }
            },  # fmt: skip
            # The engine speaks first (the start node's say), so the agent waits.
            "firstSpeakerSettings": {"user": {}},
            "languageHint": settings.language,
            "metadata": {"voxflow_call_id": setup.call_id, **setup.metadata},
        }
        if setup.first is not None:
            body.update(stage(setup.first))
        if self.model:
            body["model"] = self.model
        voice = settings.voice_for("ultravox")
        if voice in OPENAI_VOICES and "ultravox" not in dict(settings.voices):
            voice = None  # a shared OpenAI voice name: Ultravox would refuse the call
        if voice or self.voice:
            body["voice"] = voice or self.voice
        if settings.silence_duration_ms is not None:
            body["vadSettings"] = {"turnEndpointDelay": _duration(settings.silence_duration_ms)}
        return body

    def sip_call_body(self, setup: CallSetup) -> dict[str, Any]:
        """The create-call body for the SIP medium (Asterisk context ``voxflow-ultravox-sip``).

        Ultravox then takes the caller's audio as a SIP peer; no joinUrl is used and the
        engine only sets the first stage (see ``telephony/asterisk/extensions_ultravox_sip.conf``).
        """
        body = self.create_call_body(setup)
        body["medium"] = {"sip": {"incoming": {}}}
        return body

    async def start(self, setup: CallSetup) -> None:
        self._call_turn = setup.settings.turn
        body = self.create_call_body(setup)
        try:
            async with httpx.AsyncClient(timeout=self._timeout, verify=rest_tls()) as client:
                response = await client.post(
                    f"{self._base_url}/calls", json=body, headers={"X-API-Key": self._api_key}
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                self.name, f"cannot create a call: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code != 201:
            raise ProviderUnavailable(
                self.name, f"create call answered {response.status_code}: {response.text[:200]}"
            )
        call = response.json()
        self.call_id = call.get("callId")
        join = call.get("joinUrl")
        if not join:
            raise ProviderUnavailable(self.name, "create call returned no joinUrl")
        parts = urlsplit(join)
        query = parts.query + ("&" if parts.query else "") + urlencode({"apiVersion": 1})
        try:
            self._ws = await RealtimeSocket.connect(
                urlunsplit(parts._replace(query=query)), {}, open_timeout=self._timeout
            )
        except Exception as exc:
            raise ProviderUnavailable(
                self.name, f"cannot join the call: {_describe(exc)}"
            ) from None
        self._reader = asyncio.create_task(self._read_loop(), name=f"ultravox-{setup.call_id}")

    async def hangup(self, farewell: str | None = None) -> None:
        if self._closing:
            return
        self._closing = True
        message: dict[str, Any] = {"type": "hang_up"}
        if farewell:
            message["message"] = farewell
        await self._send(message)
        if farewell and self._reader is not None and not self._finished:
            # The service speaks the farewell, then closes the socket; its audio keeps flowing
            # to the bridge meanwhile.
            await asyncio.wait({self._reader}, timeout=FAREWELL_LIMIT_S)
        await self._shut_down(self._close_ws)

    @property
    def usage(self) -> Usage:
        minutes = max(self._usage.audio_in_ms, self._usage.audio_out_ms) / 60000
        self._usage.cost_usd = round(minutes * PRICE_PER_MINUTE, 6)
        return self._usage

    # ---- commands -----------------------------------------------------------------------

    async def send_audio(self, frame: AudioFrame) -> None:
        if frame.rate != RATE:
            raise ValueError(f"ultravox expects {RATE} Hz audio, got {frame.rate} Hz")
        self._usage.audio_in_ms += int(frame.duration_ms)
        ws = self._ws
        if ws is not None and not self._finished:
            try:
                ws.send_binary(frame.pcm)  # in the transport now
                if ws.writing_paused:
                    await ws.drain()
            except ConnectionClosed:
                pass  # the reader reports it

    async def update_session(self, update: UpdateSession) -> None:
        self._keep_turn(update)
        await self._release("listens")
        await self._send({"type": "user_text_message", "urgency": "later",
                          "text": f"[The conversation moved on. New instructions]\n{update.instructions}"})  # fmt: skip

    async def say(self, text: str) -> None:
        await self._release("listens")
        self._forced.append(text)
        await self._send({"type": "forced_agent_message", "content": text, "urgency": "soon"})

    async def respond(self) -> None:
        if self._held is not None:
            await self._release("speaks")
            return
        await self._send({"type": "user_text_message", "text": TAKE_TURN, "urgency": "immediate"})

    async def flush(self) -> None:
        await self._release("listens")

    async def function_result(
        self, call_id: str, output: Any, *, update: UpdateSession | None = None
    ) -> None:
        if update is not None:
            self._keep_turn(update)
        await self._release("listens")
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        self._held = (call_id, text, update)

    async def interrupted(self, item_id: str | None, played_ms: int) -> None:
        """Nothing to send: Ultravox asked for the flush and tracks what was heard itself."""

    # ---- internals ----------------------------------------------------------------------

    def _keep_turn(self, update: UpdateSession) -> None:
        """Ultravox's VAD is per call: a node's own turn detection stays unapplied (logged once)."""
        if update.turn is None or self._call_turn is None or update.turn == self._call_turn:
            return
        log.info("ultravox call %s: a node's own turn detection is not applied (VAD is set "
                 "per call); the call keeps %s", self.call_id, self._call_turn)  # fmt: skip
        self._call_turn = None

    async def _release(self, reaction: str) -> None:
        if self._held is None:
            return
        call_id, text, update = self._held
        self._held = None
        message: dict[str, Any] = {"type": "client_tool_result", "invocationId": call_id,
                                   "agentReaction": reaction}  # fmt: skip
        if update is not None:
            message["responseType"] = "new-stage"
            message["result"] = json.dumps(stage(update))
        else:
            message["result"] = text
        await self._send(message)

    async def _send(self, message: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None or self._finished:
            return
        try:
            ws.send(json.dumps(message))
            if ws.writing_paused:
                await ws.drain()
        except ConnectionClosed:
            pass  # the reader reports it

    async def _read_loop(self) -> None:
        assert self._ws is not None
        reason: ProviderEvent = ProviderEnded("the call ended on the Ultravox side")
        recv = self._ws.recv
        try:
            while True:
                try:
                    message = await recv()
                except ConnectionClosedOK:  # 1000 or 1001 both ways: judged by the code below
                    break
                if isinstance(message, bytes):
                    self._on_audio(message)
                else:
                    self._on_data(message)
        except asyncio.CancelledError:
            raise
        except ConnectionClosed as exc:
            # No close frame received: 1006, abnormal closure (RFC 6455, section 7.1.5).
            close = exc.rcvd.code if exc.rcvd is not None else 1006
            reason = ProviderError(
                f"the Ultravox connection failed (close code {close})",
                fatal=True,
                code=f"close_{close}",
            )
        if self._ws.close_code not in (None, 1000) and isinstance(reason, ProviderEnded):
            reason = ProviderError(
                f"the Ultravox connection failed (close code {self._ws.close_code})",
                code=f"close_{self._ws.close_code}",
            )
        if not self._closing:
            self._emit(reason)
        self._finish()

    def _on_audio(self, pcm: bytes) -> None:
        if len(pcm) % 2:
            pcm = pcm[:-1]
        if not self._agent_speaking:
            self._agent_speaking = True
            self._turn += 1
        self._usage.audio_out_ms += len(pcm) * 1000 // (RATE * 2)
        self._emit(AgentAudio(AudioFrame(pcm, RATE), f"agent-{self._turn}"))

    def _on_data(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            log.warning("ultravox: ignoring a data message that is not JSON")
            return
        match message.get("type"):
            case "state":
                if message.get("state") != "speaking" and self._agent_speaking:
                    self._agent_speaking = False
                    self._emit(AgentAudioDone(f"agent-{self._turn}"))
                    self._emit(ResponseDone("completed"))
            case "transcript":
                self._on_transcript(message)
            case "client_tool_invocation":
                params = message.get("parameters")
                self._emit(FunctionCall(str(message.get("invocationId")), str(message.get("toolName")),
                                        params if isinstance(params, dict) else {}))  # fmt: skip
            case "playback_clear_buffer":
                self._agent_speaking = False
                self._emit(CallerSpeechStarted())
            case _:
                pass

    def _on_transcript(self, message: dict[str, Any]) -> None:
        role = "user" if message.get("role") == "user" else "agent"
        ordinal = message.get("ordinal")
        key = (role, ordinal if isinstance(ordinal, int) else -1)
        if isinstance(message.get("text"), str):
            line = message["text"]
        else:
            line = self._lines.get(key, "") + str(message.get("delta") or "")
        final = bool(message.get("final"))
        if final:
            self._lines.pop(key, None)
        else:
            self._lines[key] = line
        if role == "user":
            self._emit(CallerTranscript(line, final=final))
            return
        if not final:
            return
        if self._agent_speaking:
            self._agent_speaking = False
            self._emit(AgentAudioDone(f"agent-{self._turn}"))
        verbatim = bool(self._forced)
        if verbatim:
            self._forced.popleft()
        self._emit(AgentTranscript(line, f"agent-{self._turn}", verbatim=verbatim))

    async def _close_ws(self) -> None:
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 2.0)
            except Exception:
                pass

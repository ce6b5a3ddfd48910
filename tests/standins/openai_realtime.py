"""A local stand-in for the OpenAI Realtime WebSocket API (GA events, ``docs/protocols.md``).

The official ``openai`` SDK connects to it unchanged but for ``base_url`` and ``api_key``
(``ws://127.0.0.1:PORT/v1/realtime?model=...``, ``Authorization: Bearer <key>``).

It is meant to be as strict as the service, never kinder:

* ``session.created`` first; ``session.update`` needs ``session.type``, refuses beta names and
  merges like the service: ``audio``, ``audio.input`` and ``audio.output`` field by field,
  every other object (a format, ``turn_detection``, ``transcription``) replaced whole;
* ``response.create`` opens a response at once (``response.created`` echoes its
  ``metadata``); a second one while a response is active gets the service's
  ``conversation_already_has_active_response`` error naming the client ``event_id``;
* under server or semantic VAD with ``create_response`` the server answers each caller turn
  with a response of its own (no ``metadata``), and with ``interrupt_response`` it cancels
  the active response when the caller starts speaking (reason ``turn_detected``);
* ``response.cancel`` ends the active response with reason ``client_cancelled``, but audio
  already in flight keeps arriving for ``cancel_tail_ms`` first; cancelling nothing is the
  ``response_cancel_not_active`` error;
* ``input_audio_buffer.commit`` needs at least 100 ms of audio and never starts a response;
* ``conversation.item.truncate`` past the audio sent is an ``invalid_value`` error.

Every event it sends and every event it receives is validated against the SDK's models with
unknown fields forbidden (``tests/standins/sdk_models.py``); any invalid one makes the
stand-in's ``async with`` fail. What the model says or calls is scripted per test with
:class:`RealtimeCall` helpers.

Two transports serve the same session logic (``transport=``): ``"reference"``, uvicorn and
starlette (``tests/standins/harness.py``), and ``"lean"``, websockets' Sans-I/O server on an
asyncio transport (``tests/standins/wsserver.py``), cheap enough for ``bench/call.py`` to
drive hundreds of sessions from one core. Both refuse a bad key with HTTP 403, ping every
20 s and fail a connection whose pong is 20 s late.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
import json
from binascii import a2b_base64
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.exceptions import ConnectionClosed

from telephony.audio.frames import AudioFrame
from telephony.audio.g711 import ulaw_decode, ulaw_encode
from telephony.audio.simspeech import SimSpeechDecoder, encode
from tests.standins.harness import LocalServer, b64, louder_than
from tests.standins.realtime_session import BETA_FIELDS, bytes_per_ms, default_session, merge
from tests.standins.recorded import RecordedCall
from tests.standins.sdk_models import (
    CLIENT_EVENTS,
    client_event_problems,
    server_event_problems,
)
from tests.standins.wsserver import LeanWebSocket, LeanWebSocketServer

Script = Callable[["RealtimeCall"], Awaitable[None]]
Transport = Literal["reference", "lean"]
DISCONNECTED = (WebSocketDisconnect, ConnectionClosed, RuntimeError)
"""How each transport tells the endpoint the client has gone (uvicorn and starlette raise
the first or a ``RuntimeError``, the lean server websockets' own)."""
PATH = "/v1/realtime"
DEFAULT_TRANSPORT: Transport = "reference"
"""The transport of a stand-in built without ``transport=`` (tests switch it to run the same
checks over both)."""

SPEECH_RMS = 500.0
MIN_COMMIT_MS = 100
CANCEL_TAIL_MS = 300


class RealtimeCall(RecordedCall):
    """One WebSocket connection to the stand-in, as the test script sees it."""

    def __init__(
        self, server: OpenAIRealtimeStandin, ws: WebSocket | LeanWebSocket, model: str
    ) -> None:
        super().__init__()
        self.server = server
        self.ws = ws
        self.model = model
        self.session = default_session(model)
        self.updates: list[dict[str, Any]] = []
        """Every accepted ``session.update`` payload, in order."""
        self._ids = itertools.count(1)
        self._audio_ms: dict[str, int] = {}
        """Assistant item id → ms of audio sent for it."""
        self.input_ms = 0
        self._buffer_ms = 0
        """Input audio appended since the last commit or clear."""
        self._speech_at: int | None = None
        self._silence_since: int | None = None
        self.active_response: str | None = None
        self._unfilled: str | None = None
        """A response opened (by ``response.create`` or VAD) that the script has not played yet."""
        self.cancelled: dict[str, str] = {}
        """Response id → why it was cancelled (``client_cancelled``, ``turn_detected``)."""
        self.responses: list[dict[str, Any]] = []
        """Every response opened: ``id``, ``origin`` (``client``/``server``), ``metadata``."""
        self.cancel_tail_ms = CANCEL_TAIL_MS
        """Audio of a cancelled response that still arrives after the cancel."""
        self.pre_empt_creates = 0
        """Make the server start its own response just before this many ``response.create``."""
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self.closed = False
        self._decoder: SimSpeechDecoder | None = None
        self.heard: list[str] = []
        """Caller utterances decoded from the input audio (simulated speech), in order."""
        self.items: Any = None
        """Free for the test script to keep what it wants to assert on."""

    # ---- plumbing ---------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):04d}"

    async def emit(self, event: dict[str, Any]) -> None:
        event = {"event_id": self.new_id("event"), **event}
        for problem in server_event_problems(event) if self.server.validate else ():
            self.server.invalid.append(f"server → client {problem}")
        if self.server.keep_audio or event["type"] != "response.output_audio.delta":
            self.server.sent.append(event)
        await self.ws.send_text(json.dumps(event))

    async def next_event(self, kind: str, index: int = 0, wait_s: float = 10.0) -> dict[str, Any]:
        """The ``index``-th (0-based) client event of type ``kind``, waiting for it."""
        await self.wait_until(lambda: len(self.of_type(kind)) > index, wait_s)
        return self.of_type(kind)[index]

    @property
    def _vad(self) -> dict[str, Any] | None:
        return self.session["audio"]["input"].get("turn_detection")

    # ---- automatic protocol behaviour ---------------------------------------------------

    async def error(self, message: str, code: str, event_id: str | None = None,
                    kind: str = "invalid_request_error", param: str | None = None) -> None:  # fmt: skip
        await self.emit({"type": "error", "error": {
            "type": kind, "code": code, "message": message, "param": param, "event_id": event_id}})  # fmt: skip

    async def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        eid = event.get("event_id")
        if kind not in CLIENT_EVENTS:
            await self.error(f"Invalid value: '{kind}'.", "invalid_value", eid, param="type")
            return
        if kind == "session.update":
            update = event.get("session") or {}
            beta = sorted(BETA_FIELDS & update.keys())
            if beta:
                await self.error(f"Unknown parameter: 'session.{beta[0]}'.", "unknown_parameter",
                                 eid, param=f"session.{beta[0]}")  # fmt: skip
                return
            if update.get("type") not in ("realtime", "transcription"):
                await self.error("Missing required parameter: 'session.type'.",
                                 "missing_required_parameter", eid, param="session.type")  # fmt: skip
                return
            merge(self.session, update)
            self.updates.append(copy.deepcopy(update))
            await self.emit({"type": "session.updated", "session": copy.deepcopy(self.session)})
        elif kind == "input_audio_buffer.append":
            await self._on_audio(a2b_base64(event.get("audio", "")))
        elif kind == "input_audio_buffer.clear":
            self._buffer_ms = 0
            await self.emit({"type": "input_audio_buffer.cleared"})
        elif kind == "input_audio_buffer.commit":
            if self._buffer_ms < MIN_COMMIT_MS:
                await self.error(
                    f"Error committing input audio buffer: buffer too small. Expected at least "
                    f"{MIN_COMMIT_MS}ms of audio, but buffer only has {self._buffer_ms}ms of audio.",
                    "input_audio_buffer_commit_empty", eid)  # fmt: skip
                return
            item_id = self.new_id("item")
            await self._commit(item_id)
            await self._transcribe(item_id, self.heard.pop(0) if self.heard else "")
        elif kind == "conversation.item.create":
            item = dict(event.get("item") or {})
            item.setdefault("id", self.new_id("item"))
            item.setdefault("object", "realtime.item")
            item["status"] = "completed"
            await self.emit(
                {"type": "conversation.item.added", "previous_item_id": None, "item": item}
            )
            await self.emit(
                {"type": "conversation.item.done", "previous_item_id": None, "item": item}
            )
        elif kind == "conversation.item.retrieve":
            item_id = event.get("item_id")
            await self.error(f"Item with id '{item_id}' not found.", "item_not_found", eid)
        elif kind == "conversation.item.truncate":
            item_id = event.get("item_id")
            end = event.get("audio_end_ms")
            if item_id not in self._audio_ms:
                await self.error(f"Item with id '{item_id}' not found.", "item_not_found", eid)
            elif not isinstance(end, int) or end < 0 or end > self._audio_ms[item_id]:
                await self.error(
                    f"Audio content of {self._audio_ms[item_id]}ms is shorter than {end}ms.",
                    "invalid_value", eid, param="audio_end_ms")  # fmt: skip
            else:
                await self.emit({"type": "conversation.item.truncated", "item_id": item_id,
                                 "content_index": event.get("content_index", 0), "audio_end_ms": end})  # fmt: skip
        elif kind == "response.create":
            if self.pre_empt_creates > 0 and self.active_response is None:
                # Server VAD started a response of its own just before this one arrived.
                self.pre_empt_creates -= 1
                self._unfilled = await self._open("server", None)
            if self.active_response is not None:
                await self.error(
                    f"Conversation already has an active response in progress: "
                    f"{self.active_response}. Wait until the response is finished before "
                    "creating a new one.", "conversation_already_has_active_response", eid)  # fmt: skip
                return
            metadata = (event.get("response") or {}).get("metadata")
            self._unfilled = await self._open("client", metadata)
        elif kind == "response.cancel":
            wanted = event.get("response_id")
            if self.active_response is None or (wanted and wanted != self.active_response):
                await self.error("Cancellation failed: no active response found.",
                                 "response_cancel_not_active", eid)  # fmt: skip
            else:
                await self._cancel(self.active_response, "client_cancelled")
        # delete and output_audio_buffer.clear are recorded only.

    async def _on_audio(self, data: bytes) -> None:
        fmt = self.session["audio"]["input"]["format"]
        pcm = ulaw_decode(data).pcm if fmt.get("type") == "audio/pcmu" else data
        chunk_ms = len(data) // bytes_per_ms(fmt)
        rate = 24000 if fmt.get("type") == "audio/pcm" else 8000
        if self.server.decode_speech:
            if self._decoder is None or self._decoder.rate != rate:
                self._decoder = SimSpeechDecoder(rate)
            self.heard.extend(self._decoder.feed(pcm))
        loud = louder_than(pcm, SPEECH_RMS)
        if loud and self._speech_at is None:
            self._speech_at = self.input_ms
        if self._speech_at is not None:
            if loud:
                self._silence_since = None
            elif self._silence_since is None:
                self._silence_since = self.input_ms
        self.input_ms += chunk_ms
        self._buffer_ms += chunk_ms

    async def _commit(self, item_id: str) -> None:
        self._buffer_ms = 0
        await self.emit(
            {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None}
        )
        item = {"id": item_id, "object": "realtime.item", "type": "message", "role": "user",
                "status": "completed", "content": [{"type": "input_audio", "transcript": None}]}  # fmt: skip
        await self.emit({"type": "conversation.item.added", "previous_item_id": None, "item": item})
        await self.emit({"type": "conversation.item.done", "previous_item_id": None, "item": item})

    async def _transcribe(self, item_id: str, transcript: str, *, fails: bool = False,
                          seconds: float = 0.5) -> None:  # fmt: skip
        """The transcription of a committed caller item: it runs beside the response, so its
        result arrives after the server's own ``response.created``."""
        if not self.session["audio"]["input"].get("transcription"):
            return
        if fails:
            await self.emit({"type": "conversation.item.input_audio_transcription.failed",
                             "item_id": item_id, "content_index": 0,
                             "error": {"type": "transcription_error", "code": "audio_unintelligible",
                                       "message": "Audio could not be transcribed.", "param": None}})  # fmt: skip
        else:
            await self.emit({"type": "conversation.item.input_audio_transcription.completed",
                             "item_id": item_id, "content_index": 0, "transcript": transcript,
                             "usage": {"type": "duration", "seconds": seconds}})  # fmt: skip

    async def _open(self, origin: str, metadata: dict[str, str] | None) -> str:
        """Start a response now (``response.created``, then the rate limits)."""
        response_id = self.new_id("resp")
        self.active_response = response_id
        self.responses.append({"id": response_id, "origin": origin, "metadata": metadata})
        await self.emit({"type": "response.created", "response": {
            "id": response_id, "object": "realtime.response", "status": "in_progress",
            "output": [], "metadata": metadata, "output_modalities": ["audio"]}})  # fmt: skip
        await self.emit({"type": "rate_limits.updated", "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 400000, "remaining": 398000, "reset_seconds": 0.3}]})  # fmt: skip
        await self._notify()
        return response_id

    async def _cancel(self, response_id: str, reason: str) -> None:
        self.cancelled[response_id] = reason
        if self._unfilled == response_id:
            # Nothing was generated yet: the response ends at once.
            self._unfilled = None
            await self._close(response_id, [], {"input_tokens": 0, "output_tokens": 0})

    # ---- scripted model behaviour -------------------------------------------------------

    async def caller_turn(self, transcript: str | None = None, *, wait_s: float = 15.0,
                          transcription_fails: bool = False) -> str:  # fmt: skip
        """Wait for caller speech in the input audio, then behave like server VAD + transcription.

        The transcript is ``transcript`` or, when omitted, the simulated speech decoded from the
        caller's audio (the stand-in's "transcription model"); ``transcription_fails`` sends
        ``conversation.item.input_audio_transcription.failed`` instead.

        Emits ``speech_started`` (cancelling an active response when ``interrupt_response``),
        then after silence ``speech_stopped``, ``committed``, the user item and its transcript,
        and with ``create_response`` opens the server's own response (for the script's next
        :meth:`speak` or :meth:`call_function` to fill). Returns the user item id.
        """
        assert self._vad is not None, "no turn detection: only the client commits the audio"
        await self.wait_until(lambda: self._speech_at is not None, wait_s)
        item_id = self.new_id("item")
        start = self._speech_at or 0
        await self.emit({"type": "input_audio_buffer.speech_started", "audio_start_ms": start,
                         "item_id": item_id})  # fmt: skip
        vad = self._vad or {}
        if self.active_response is not None and vad.get("interrupt_response", True):
            await self._cancel(self.active_response, "turn_detected")
        silence = int(vad.get("silence_duration_ms") or 500)
        await self.wait_until(
            lambda: (
                self._silence_since is not None and self.input_ms - self._silence_since >= silence
            ),
            wait_s,
        )
        end = self._silence_since or self.input_ms
        self._speech_at = self._silence_since = None
        if transcript is None and not transcription_fails:
            await self.wait_until(lambda: bool(self.heard), wait_s)
            transcript = self.heard.pop(0)
        await self.emit(
            {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": end, "item_id": item_id}
        )
        await self._commit(item_id)
        self.usage["input_tokens"] += max(1, (end - start) // 100)
        if vad.get("create_response", True):
            await self.wait_until(lambda: self.active_response is None, wait_s)
            self._unfilled = await self._open("server", None)
        await self._transcribe(item_id, transcript or "", fails=transcription_fails,
                               seconds=(end - start) / 1000)  # fmt: skip
        return item_id

    async def _take_response(self) -> str:
        """The response the script plays next: the one opened and waiting, else a new one."""
        if self._unfilled is not None:
            response_id, self._unfilled = self._unfilled, None
            return response_id
        await self.wait_until(lambda: self.active_response is None)
        return await self._open("server", None)

    async def _close(self, response_id: str, output: list[dict[str, Any]],
                     usage: dict[str, int]) -> None:  # fmt: skip
        reason = self.cancelled.get(response_id)
        self.active_response = None
        for k in usage:
            self.usage[k] += usage[k]
        meta = next(r["metadata"] for r in self.responses if r["id"] == response_id)
        await self.emit({"type": "response.done", "response": {
            "id": response_id, "object": "realtime.response", "metadata": meta,
            "status": "cancelled" if reason else "completed",
            "status_details": {"type": "cancelled", "reason": reason} if reason else {"type": "completed"},
            "output": output, "output_modalities": ["audio"],
            "usage": {"total_tokens": sum(usage.values()), **usage,
                      "input_token_details": {"text_tokens": usage["input_tokens"], "audio_tokens": 0},
                      "output_token_details": {"text_tokens": 0, "audio_tokens": usage["output_tokens"]}},
        }})  # fmt: skip
        await self._notify()

    async def _response(self, build: Callable[[str], Awaitable[list[dict[str, Any]]]],
                        usage: dict[str, int]) -> str:  # fmt: skip
        response_id = await self._take_response()
        output = await build(response_id)
        await self._close(response_id, output, usage)
        return response_id

    async def speak(self, text: str, audio_ms: int | None = None, *, chunk_ms: int = 100,
                    pace: float = 0.0, input_tokens: int = 50) -> str:  # fmt: skip
        """One audio response speaking ``text`` as simulated speech (decodable by the callee).

        It plays the response opened by the client's ``response.create`` or by VAD, or opens
        one of its own. ``audio_ms`` pads (with silence) or cuts the audio to that length.
        ``pace`` seconds between chunks keeps the response active (for cancel tests). A
        cancelled response goes on sending audio for ``cancel_tail_ms`` (it was already on its
        way), then stops. Returns the assistant item id.
        """
        item_id = self.new_id("item")
        fmt = self.session["audio"]["output"]["format"]
        rate = 24000 if fmt.get("type") == "audio/pcm" else 8000
        deltas = _deltas(text, rate, audio_ms, chunk_ms)
        audio_ms = sum(ms for ms, _ in deltas)

        async def build(response_id: str) -> list[dict[str, Any]]:
            ids = {
                "response_id": response_id,
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
            }
            item = {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant",
                    "status": "in_progress", "content": [{"type": "output_audio", "transcript": ""}]}  # fmt: skip
            await self.emit({"type": "response.output_item.added", "response_id": response_id,
                             "output_index": 0, "item": item})  # fmt: skip
            await self.emit(
                {"type": "conversation.item.added", "previous_item_id": None, "item": item}
            )
            self._audio_ms[item_id] = 0
            sent = 0
            cut_at: int | None = None
            for ms, delta in deltas:
                if response_id in self.cancelled:
                    cut_at = sent if cut_at is None else cut_at
                    if sent - cut_at >= self.cancel_tail_ms:
                        break
                await self.emit({"type": "response.output_audio.delta", **ids, "delta": delta})
                sent += ms
                self._audio_ms[item_id] = sent
                if pace:
                    await asyncio.sleep(pace)
            cancelled = response_id in self.cancelled
            heard = text if not cancelled else text[: len(text) * sent // max(audio_ms, 1)]
            await self.emit({"type": "response.output_audio.done", **ids})
            await self.emit(
                {"type": "response.output_audio_transcript.delta", **ids, "delta": heard}
            )
            await self.emit(
                {"type": "response.output_audio_transcript.done", **ids, "transcript": heard}
            )
            done = {**item, "status": "incomplete" if cancelled else "completed",
                    "content": [{"type": "output_audio", "transcript": heard}]}  # fmt: skip
            await self.emit({"type": "response.output_item.done", "response_id": response_id,
                             "output_index": 0, "item": done})  # fmt: skip
            await self.emit(
                {"type": "conversation.item.done", "previous_item_id": None, "item": done}
            )
            return [done]

        await self._response(
            build, {"input_tokens": input_tokens, "output_tokens": max(1, audio_ms // 50)}
        )
        return item_id

    async def call_function(
        self, name: str, arguments: dict[str, Any], *, input_tokens: int = 40
    ) -> str:
        """A response whose output is one function call; returns its ``call_id``."""
        call_id = self.new_id("call")
        item_id = self.new_id("item")
        args = json.dumps(arguments)

        async def build(response_id: str) -> list[dict[str, Any]]:
            item = {"id": item_id, "object": "realtime.item", "type": "function_call", "status": "in_progress",
                    "name": name, "call_id": call_id, "arguments": ""}  # fmt: skip
            await self.emit({"type": "response.output_item.added", "response_id": response_id,
                             "output_index": 0, "item": item})  # fmt: skip
            await self.emit(
                {"type": "conversation.item.added", "previous_item_id": None, "item": item}
            )
            ids = {
                "response_id": response_id,
                "item_id": item_id,
                "output_index": 0,
                "call_id": call_id,
            }
            await self.emit(
                {"type": "response.function_call_arguments.delta", **ids, "delta": args}
            )
            await self.emit({"type": "response.function_call_arguments.done", **ids, "name": name,
                             "arguments": args})  # fmt: skip
            done = {**item, "status": "completed", "arguments": args}
            await self.emit({"type": "response.output_item.done", "response_id": response_id,
                             "output_index": 0, "item": done})  # fmt: skip
            await self.emit(
                {"type": "conversation.item.done", "previous_item_id": None, "item": done}
            )
            return [done]

        await self._response(build, {"input_tokens": input_tokens, "output_tokens": 10})
        return call_id

    async def function_output(self, call_id: str, wait_s: float = 10.0) -> dict[str, Any]:
        """Wait for the client's ``function_call_output`` item for ``call_id``; return the item."""

        def found() -> dict[str, Any] | None:
            for e in self.of_type("conversation.item.create"):
                item = e.get("item") or {}
                if item.get("type") == "function_call_output" and item.get("call_id") == call_id:
                    return item
            return None

        await self.wait_until(lambda: found() is not None, wait_s)
        item = found()
        assert item is not None
        return item

    async def drop(self) -> None:
        """Close the socket abruptly, as a network failure would."""
        self.closed = True
        await self.ws.close(code=1011)


@functools.lru_cache(maxsize=64)
def _deltas(
    text: str, rate: int, audio_ms: int | None, chunk_ms: int
) -> tuple[tuple[int, str], ...]:
    """``text`` as simulated speech at ``rate`` (padded with silence or cut to ``audio_ms``),
    in ``chunk_ms`` deltas: (ms, base64 of the chunk in the output format: 16-bit PCM at
    24 kHz, μ-law at 8 kHz). Kept: a benchmark's model says the same answer thousands of
    times, and encoding it is the same work every time."""
    pcm = encode(text, rate)
    if audio_ms is not None:
        want = rate * audio_ms // 1000 * 2
        pcm = pcm[:want] + bytes(max(0, want - len(pcm)))
    total = len(pcm) * 1000 // (rate * 2)
    out = []
    sent = 0
    while sent < total:
        ms = min(chunk_ms, total - sent)
        chunk = pcm[rate * sent // 1000 * 2 : rate * (sent + ms) // 1000 * 2]
        if rate == 8000:
            chunk = ulaw_encode(AudioFrame(chunk, 8000))
        out.append((ms, b64(chunk)))
        sent += ms
    return tuple(out)


class OpenAIRealtimeStandin:
    """``async with OpenAIRealtimeStandin(script) as s``; ``s.base_url`` for ``AsyncOpenAI``."""

    def __init__(
        self,
        script: Script | None = None,
        *,
        api_key: str = "sk-standin",
        validate: bool = True,
        keep_audio: bool = True,
        decode_speech: bool = True,
        transport: Transport | None = None,
    ) -> None:
        self.script = script
        self.api_key = api_key
        self.validate = validate
        """Check every event against the SDK's models (off only for benchmarks: the check
        runs on the event loop the adapter under measure shares)."""
        self.keep_audio = keep_audio
        """Keep audio events (``input_audio_buffer.append``, ``response.output_audio.delta``)
        in :attr:`sent` and each call's ``received`` (off only for long benchmarks, whose
        hundreds of calls would otherwise hold every second of audio in memory)."""
        self.decode_speech = decode_speech
        """Decode the caller's simulated speech into :attr:`RealtimeCall.heard` (off only for
        benchmarks whose scripts give every transcript: it is the stand-in's own cost)."""
        self.calls: list[RealtimeCall] = []
        self.sent: list[dict[str, Any]] = []
        self.rejected = 0
        self.invalid: list[str] = []
        """Events either side sent that the SDK's models refuse (the test fails on exit)."""
        self.errors: list[BaseException] = []
        self.connected = asyncio.Event()
        self.transport = DEFAULT_TRANSPORT if transport is None else transport
        self._server: LocalServer | LeanWebSocketServer = (
            LeanWebSocketServer(self._endpoint, PATH)
            if self.transport == "lean"
            else LocalServer(Starlette(routes=[WebSocketRoute(PATH, self._endpoint)]))
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/v1"

    async def __aenter__(self) -> OpenAIRealtimeStandin:
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.__aexit__(*exc)
        if self.invalid and exc[0] is None:
            raise AssertionError("events the SDK's models refuse:\n" + "\n".join(self.invalid))

    async def _endpoint(self, ws: WebSocket | LeanWebSocket) -> None:
        model = ws.query_params.get("model")
        if ws.headers.get("authorization") != f"Bearer {self.api_key}" or not model:
            self.rejected += 1
            await ws.close(code=1008)
            return
        await ws.accept()
        call = RealtimeCall(self, ws, model)
        self.calls.append(call)
        self.connected.set()
        await call.emit({"type": "session.created", "session": copy.deepcopy(call.session)})
        script = asyncio.create_task(self._run_script(call))
        try:
            while True:
                raw = await ws.receive_text()
                try:
                    event = json.loads(raw)
                except json.JSONDecodeError:
                    await call.error("Invalid JSON.", "invalid_json")
                    continue
                if self.keep_audio or event.get("type") != "input_audio_buffer.append":
                    call.received.append(event)
                for problem in client_event_problems(event) if self.validate else ():
                    self.invalid.append(f"client → server {problem}")
                await call.handle(event)
                call._changed()
        except DISCONNECTED:
            pass
        finally:
            call.closed = True
            await call._notify()
            script.cancel()
            await asyncio.gather(script, return_exceptions=True)

    async def _run_script(self, call: RealtimeCall) -> None:
        if self.script is None:
            return
        try:
            await self.script(call)
        except asyncio.CancelledError:
            raise
        except DISCONNECTED:
            pass
        except BaseException as exc:
            self.errors.append(exc)
            raise

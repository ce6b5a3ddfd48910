"""OpenAI Realtime over WebSocket (GA events; protocol facts in ``docs/protocols.md``).

One :class:`OpenAIRealtimeProvider` serves one call. The socket goes where the SDK's
``realtime.connect(model=...)`` goes, with its headers (``endpoint.py``), opened by
``runtime/providers/realtime_socket.py`` (a message is one frame write); a reader task turns
server events into :data:`~runtime.providers.base.ProviderEvent` values.

Responses: the service runs one response at a time and refuses a second
(``conversation_already_has_active_response``), and under server VAD it starts responses of
its own after each caller turn. Every ``response.create`` voxflow sends (a ``say`` or an
engine-driven turn) carries a key, as its client ``event_id`` and in ``metadata``; the
``response.created`` that echoes the key is that request's response, one without it is the
server's own. Requests wait in a queue while a response is active; a request refused because
the server's own response started first goes back to the front of the queue. So each ``say``
is spoken once, after whatever is being spoken.

Barge-in: when the caller's speech starts, the active response is cancelled whatever has
reached the caller yet; its audio still in flight is dropped, queued ``say`` lines behind it
are dropped (reported as empty, interrupted transcripts), and its transcript is cut to what
was played (``interrupted`` reports the played ms and truncates the item to them).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
from binascii import b2a_base64
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosedOK

from dsl.ir import TurnDetection
from runtime.engine.events import UpdateSession
from runtime.providers.base import (
    AgentAudio,
    AgentAudioDone,
    AgentTranscript,
    CallerSpeechStarted,
    CallerTranscript,
    CallSetup,
    FunctionCall,
    ProviderError,
    ProviderEvent,
    ProviderUnavailable,
    ResponseDone,
    TranscriptionFailed,
    Usage,
)
from runtime.providers.openai_realtime.endpoint import realtime_headers, realtime_url
from runtime.providers.openai_realtime.pricing import add_usage
from runtime.providers.openai_realtime.session import (
    BYTES_PER_MS,
    FORMAT_RATES,
    AudioFormat,
    initial_session,
    node_session,
    verbatim_response,
)
from runtime.providers.realtime_socket import RealtimeSocket
from runtime.providers.stream import EventStream
from telephony.audio.frames import SAMPLE_WIDTH, AudioFrame
from telephony.audio.g711 import lin2ulaw, ulaw_decode

log = logging.getLogger(__name__)

FATAL_ERROR_TYPES = frozenset(
    {"server_error", "authentication_error", "permission_error", "rate_limit_error"}
)
FATAL_ERROR_CODES = frozenset(
    {"session_expired", "beta_api_shape_disabled", "insufficient_quota", "invalid_api_key"}
)
"""Errors that end the session. Others (a late ``response.cancel``, a truncate past the end)
are reported as non-fatal: the service documents most errors as recoverable."""
APPEND_MS = 40
"""Caller audio per ``input_audio_buffer.append``: two 20 ms line frames per message.

Each message costs base64, the JSON text, a masked WebSocket frame and a write; one per
20 ms frame was the largest part of a whole call's CPU (``bench/README.md``, "Whole calls on
one core"). The price is latency: the first frame of each pair reaches the provider 20 ms
later (10 ms on average); a partial chunk is sent before any other event (so the provider
sees the same audio in the same order against its other events), on ``flush`` and on hang-up.
"""
_APPEND_HEAD = '{"type": "input_audio_buffer.append", "audio": "'
SENT_EVENTS_KEPT = 64
"""Kinds of the last non-audio events sent, kept for debugging and tests (a bounded window:
a long call sends thousands)."""


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_dict(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    return dump() if dump else None


def realtime_client(api_key: str, base_url: str | None = None) -> AsyncOpenAI:
    """The SDK client sessions take their URL and headers from (no retries: chains fail over)."""
    return AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0)


@dataclass
class _Request:
    """One ``response.create`` voxflow asked for: a ``say`` or an engine-driven turn."""

    key: str
    """Sent as the client ``event_id`` and in ``metadata`` (``voxflow_request``)."""
    kind: str
    payload: dict[str, Any]


class OpenAIRealtimeProvider(EventStream):
    """The OpenAI Realtime adapter for one call.

    Args:
        api_key: the OpenAI key (never logged).
        base_url: ``None`` for api.openai.com, or e.g. ``http://127.0.0.1:PORT/v1``.
        model: a realtime model (``gpt-realtime``).
        audio_format: ``pcmu`` (G.711 μ-law 8 kHz both ways: no resampling, only μ-law
            conversion against the 8 kHz slin line) or ``pcm24k`` (s16le 24 kHz: the bridge
            resamples caller audio up, the playout buffer resamples agent audio down).
        client: an ``AsyncOpenAI`` client to share (``api_key`` and ``base_url`` are then
            ignored): building one loads the TLS trust store (60-180 ms of CPU), so a worker
            builds it once for all its calls (``Providers``).
        append_ms: caller audio gathered per ``input_audio_buffer.append`` (see
            :data:`APPEND_MS`); 20 sends each line frame as it comes.
    """

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = "gpt-realtime",
        audio_format: AudioFormat = "pcmu",
        connect_timeout: float = 10.0,
        client: AsyncOpenAI | None = None,
        append_ms: int = APPEND_MS,
    ) -> None:
        self._client = client or realtime_client(api_key, base_url)
        self.model = model
        self.audio_format: AudioFormat = audio_format
        self.input_rate = FORMAT_RATES[audio_format]
        self._connect_timeout = connect_timeout
        if append_ms <= 0:
            raise ValueError(f"append_ms must be positive, got {append_ms}")
        self._append_bytes = append_ms * BYTES_PER_MS[audio_format]
        self._ulaw = audio_format == "pcmu"
        self.input_chunk_ms = append_ms
        """Caller audio sent per message: the bridge hands it over a chunk at a time."""
        self._audio = bytearray()
        """Caller audio not sent yet (less than ``append_ms`` of it)."""
        self._conn: RealtimeSocket | None = None
        self._init_stream()
        self._usage = Usage(provider=self.name, model=model)
        self._yield_now = False
        self._keys = itertools.count(1)
        self._queue: deque[_Request] = deque()
        """Requests not sent yet: one response at a time (the service refuses a second)."""
        self._sent: dict[str, _Request] = {}
        """Requests sent, by key, until their ``response.created`` (or refusal) arrives."""
        self._active: str | None = None
        """The response in progress (ours, or one the server made after caller speech)."""
        self._owner: dict[str, _Request | None] = {}
        """Response id → the request it answers (``None``: the server's own response)."""
        self._cancelled: set[str] = set()
        self._item_response: dict[str, str] = {}
        self._item_ms: dict[str, int] = {}
        """Assistant item → ms of audio received for it (played or not)."""
        self._played_ms: dict[str, int] = {}
        """Assistant item cut by the caller → ms of it the caller heard (as the bridge says)."""
        self._delivered_ms: dict[str, int] = {}
        """Assistant item → ms of its audio handed to the bridge."""
        self._stale: set[str] = set()
        """Request keys sent before a barge-in whose response had not started yet."""
        self._committed: str | None = None
        self._answers: dict[str, str] = {}
        """Server response id → the caller item it answers."""
        self._unheard: set[str] = set()
        """Caller items whose transcription failed."""
        self.sent_events: deque[str] = deque(maxlen=SENT_EVENTS_KEPT)
        self._turn: TurnDetection | None = None
        """The turn detection the session has (sent again only when a node changes it)."""

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self, setup: CallSetup) -> None:
        try:
            url, headers = realtime_url(self._client, self.model), realtime_headers(self._client)
            self._conn = await asyncio.wait_for(
                RealtimeSocket.connect(url, headers, open_timeout=None), self._connect_timeout
            )
            first = json.loads(await asyncio.wait_for(self._conn.recv(), self._connect_timeout))
        except Exception as exc:
            await self._close_conn()
            raise ProviderUnavailable(
                self.name, f"cannot open a realtime session: {_describe(exc)}"
            ) from None
        if _field(first, "type") != "session.created":
            await self._close_conn()
            raise ProviderUnavailable(
                self.name, f"expected session.created, got {_describe_event(first)}"
            )
        first = setup.first
        self._turn = (first.turn if first is not None else None) or setup.settings.turn
        session = initial_session(setup.settings, self.audio_format, self.model, self._turn)
        if first is not None:
            session.update(node_session(first, self._turn))  # no "audio": the turn is in
        await self._send("session.update", session=session)
        self._reader = asyncio.create_task(
            self._read_loop(self._conn), name=f"openai-realtime-{setup.call_id}"
        )

    async def hangup(self, farewell: str | None = None) -> None:
        await self._send_audio()
        await self._shut_down(self._close_conn)

    @property
    def usage(self) -> Usage:
        return self._usage

    # ---- commands -----------------------------------------------------------------------

    async def send_audio(self, frame: AudioFrame) -> None:
        pcm, rate = frame.pcm, frame.rate  # 50 times a second: no property or helper calls
        if rate != self.input_rate:
            raise ValueError(
                f"openai ({self.audio_format}) expects {self.input_rate} Hz audio, got {rate} Hz"
            )
        self._audio += lin2ulaw(pcm, SAMPLE_WIDTH) if self._ulaw else pcm
        self._usage.audio_in_ms += len(pcm) // SAMPLE_WIDTH * 1000 // rate
        if len(self._audio) >= self._append_bytes:
            await self._send_audio()

    async def _send_audio(self) -> None:
        """Send the caller audio gathered so far, if any, as one append."""
        audio = self._audio
        if not audio:
            return
        data = b2a_base64(audio, newline=False).decode("ascii")
        audio.clear()
        # The text ``json.dumps`` gives (base64 needs no escaping), without the JSON encoder.
        await self._send_text("input_audio_buffer.append", _APPEND_HEAD + data + '"}')

    async def update_session(self, update: UpdateSession) -> None:
        await self._send("session.update", session=node_session(update, self._turn))
        if update.turn is not None:
            self._turn = update.turn

    async def say(self, text: str) -> None:
        await self._request("say", verbatim_response(text))

    async def respond(self) -> None:
        await self._request("respond", {"metadata": {"voxflow": "respond"}})

    async def function_result(
        self, call_id: str, output: Any, *, update: UpdateSession | None = None
    ) -> None:
        if update is not None:
            await self.update_session(update)
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        await self._send(
            "conversation.item.create",
            item={"type": "function_call_output", "call_id": call_id, "output": text},
        )

    async def flush(self) -> None:
        """Send the caller audio held back (less than ``append_ms``); commands are sent as
        they come."""
        await self._send_audio()

    async def interrupted(self, item_id: str | None, played_ms: int) -> None:
        """Barge-in as the bridge saw it: truncate the item to what the caller heard.

        The response itself was already cancelled when the caller's speech started; it is
        cancelled here too in case it was not (a barge-in the bridge detected first).
        """
        if item_id is None or item_id not in self._item_ms:
            return
        end = max(0, min(played_ms, self._item_ms[item_id]))
        self._played_ms[item_id] = end
        response = self._item_response.get(item_id)
        if response is not None and response == self._active:
            await self._cancel(response)
        await self._send(
            "conversation.item.truncate", item_id=item_id, content_index=0, audio_end_ms=end
        )

    # ---- responses ----------------------------------------------------------------------

    async def _request(self, kind: str, payload: dict[str, Any]) -> None:
        key = f"voxflow_{next(self._keys)}"
        metadata = {**payload.get("metadata", {}), "voxflow_request": key}
        self._queue.append(_Request(key, kind, {**payload, "metadata": metadata}))
        await self._next_response()

    async def _next_response(self) -> None:
        """Send the next queued request when no response is active or on its way."""
        if self._active is not None or self._sent or not self._queue:
            return
        request = self._queue.popleft()
        self._sent[request.key] = request
        await self._send("response.create", event_id=request.key, response=request.payload)

    async def _on_response_created(self, response: Any) -> None:
        response_id = _field(response, "id")
        metadata = _as_dict(_field(response, "metadata")) or {}
        request = self._sent.pop(str(metadata.get("voxflow_request")), None)
        self._active = response_id
        self._owner[response_id] = request
        if request is not None and request.key in self._stale:
            await self._cancel(response_id)  # asked for before the caller took the turn
        if request is None and self._committed is not None:
            self._answers[response_id] = self._committed
            if self._committed in self._unheard:
                await self._cancel(response_id)  # see _on_transcription_failed

    async def _cancel(self, response_id: str) -> None:
        if response_id in self._cancelled:
            return
        self._cancelled.add(response_id)
        await self._send("response.cancel", response_id=response_id)

    async def _on_speech_started(self) -> None:
        """Barge-in: cancel the active response whatever has reached the caller yet, and drop
        the ``say`` lines queued behind it (the caller has taken the turn; the flow answers
        what they say)."""
        self._emit(CallerSpeechStarted())
        self._stale.update(self._sent)
        if self._active is None:
            return
        await self._cancel(self._active)
        kept: deque[_Request] = deque()
        for request in self._queue:
            if request.kind == "say":
                self._emit(AgentTranscript("", "", verbatim=True, interrupted=True))
            else:
                kept.append(request)
        self._queue = kept

    async def _on_response_done(self, response: Any) -> None:
        response_id = _field(response, "id")
        if response_id == self._active:
            self._active = None
        self._usage.responses += 1
        add_usage(self._usage, _as_dict(_field(response, "usage")))
        status = _field(response, "status") or "completed"
        if status == "cancelled":
            self._cancelled.add(response_id)
        if status == "failed":
            details = _as_dict(_field(response, "status_details")) or {}
            self._emit(
                ProviderError(
                    f"the model response failed: {details.get('error') or details}",
                    fatal=True,
                    code="response_failed",
                )
            )
            return
        self._emit(ResponseDone(status))
        await self._next_response()

    def _deliver(self, event: ProviderEvent) -> ProviderEvent | None:
        # Checked as the bridge takes each event: its barge-in (``interrupted``) runs between
        # two events, so audio queued before the cut is dropped here, and a cut transcript
        # knows how much of its audio was played.
        if isinstance(event, AgentAudio):
            ms = int(event.frame.duration_ms)
            if self._item_response.get(event.item_id) in self._cancelled:
                self._usage.dropped_audio_ms += ms
                return None
            self._delivered_ms[event.item_id] = self._delivered_ms.get(event.item_id, 0) + ms
        if (
            isinstance(event, AgentTranscript)
            and not event.interrupted
            and self._item_response.get(event.item_id) in self._cancelled
        ):
            # Without a report from the bridge, nothing of it was waiting to be played: the
            # caller heard all that was handed over.
            played = self._played_ms.get(event.item_id, self._delivered_ms.get(event.item_id, 0))
            total = self._item_ms.get(event.item_id, 0)
            return replace(event, text=_cut(event.text, played, total), interrupted=True)
        return event

    # ---- internals ----------------------------------------------------------------------

    async def _send(self, kind: str, **fields: Any) -> None:
        if self._conn is None or self._finished:
            return
        # Audio the caller said before this event goes first, as it would unbatched.
        await self._send_audio()
        self.sent_events.append(kind)
        # Our events are plain JSON already named as the API names them; the SDK's ``send``
        # ran its typed transform over each one (about 0.3 ms), which changed nothing.
        await self._send_text(kind, json.dumps({"type": kind, **fields}))

    async def _send_text(self, kind: str, text: str) -> None:
        conn = self._conn
        if conn is None or self._finished:
            return
        try:
            conn.send(text)  # in the transport now; wait only while it is over its buffer
            if conn.writing_paused:
                await conn.drain()
        except Exception as exc:  # the reader reports the dropped connection
            if not self._closing:
                log.warning("openai realtime: cannot send %s: %s", kind, _describe(exc))

    async def _read_loop(self, conn: RealtimeSocket) -> None:
        reason = "the realtime connection closed"
        try:
            while True:
                # Raw JSON, not the SDK's typed events: building a pydantic model per event
                # (about 0.13 ms for an audio delta) would cost more than the rest of the
                # event's handling; ``_field`` reads dicts and models alike.
                try:
                    event = json.loads(await conn.recv())
                except ConnectionClosedOK:
                    break
                await self._dispatch(event)
                if self._finished:
                    return
                if self._yield_now:
                    # Messages already received come without yielding: let the consumer
                    # play this audio before the events queued behind it are parsed.
                    self._yield_now = False
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"the realtime connection failed: {_describe(exc)}"
        if not self._closing:
            self._emit(ProviderError(reason, fatal=True, code="connection"))
        self._finish()

    async def _dispatch(self, event: Any) -> None:
        kind = _field(event, "type")
        match kind:
            case "response.created":
                await self._on_response_created(_field(event, "response"))
            case "response.output_audio.delta":
                self._on_audio(event)
            case "response.output_audio.done":
                self._emit(AgentAudioDone(_field(event, "item_id")))
            case "response.output_audio_transcript.done":
                owner = self._owner.get(_field(event, "response_id"))
                self._emit(
                    AgentTranscript(
                        _field(event, "transcript") or "",
                        _field(event, "item_id"),
                        verbatim=owner is not None and owner.kind == "say",
                    )
                )
            case "response.function_call_arguments.done":
                self._on_function_call(event)
            case "response.done":
                await self._on_response_done(_field(event, "response"))
            case "input_audio_buffer.speech_started":
                await self._on_speech_started()
            case "input_audio_buffer.committed":
                self._committed = _field(event, "item_id")
            case "conversation.item.input_audio_transcription.delta":
                self._emit(CallerTranscript(_field(event, "delta") or "", final=False))
            case "conversation.item.input_audio_transcription.completed":
                self._emit(CallerTranscript(_field(event, "transcript") or "", final=True))
            case "conversation.item.input_audio_transcription.failed":
                await self._on_transcription_failed(event)
            case "rate_limits.updated":
                self._on_rate_limits(_field(event, "rate_limits") or [])
            case "error":
                self._on_error(_field(event, "error"))
            case _:
                pass

    def _on_audio(self, event: Any) -> None:
        raw = base64.b64decode(_field(event, "delta") or "")
        item_id = _field(event, "item_id")
        response_id = _field(event, "response_id")
        self._item_response[item_id] = response_id
        ms = len(raw) // BYTES_PER_MS[self.audio_format]
        self._item_ms[item_id] = self._item_ms.get(item_id, 0) + ms
        self._usage.audio_out_ms += ms
        if response_id in self._cancelled:
            self._usage.dropped_audio_ms += ms  # still in flight when the cancel was sent
            return
        frame = ulaw_decode(raw) if self.audio_format == "pcmu" else AudioFrame(raw, 24000)
        self._emit(AgentAudio(frame, item_id))
        self._yield_now = True

    def _on_function_call(self, event: Any) -> None:
        raw_args = _field(event, "arguments") or "{}"
        try:
            args = json.loads(raw_args)
        except json.JSONDecodeError:
            args = {}
            log.warning(
                "openai realtime: function %s sent invalid JSON arguments", _field(event, "name")
            )
        self._emit(
            FunctionCall(
                _field(event, "call_id"),
                _field(event, "name"),
                args if isinstance(args, dict) else {},
            )
        )

    async def _on_transcription_failed(self, event: Any) -> None:
        """The caller's words are lost. The server may already be answering that audio on its
        own; that answer is cancelled, so the flow's re-prompt is the one reply the caller
        hears."""
        item_id = _field(event, "item_id")
        err = _as_dict(_field(event, "error")) or {}
        self._unheard.add(item_id)
        active = self._active
        if active is not None and self._answers.get(active) == item_id:
            await self._cancel(active)
        log.warning("openai realtime: caller audio not transcribed: %s", err.get("message"))
        self._emit(
            TranscriptionFailed(f"transcription failed: {err.get('code') or err.get('message')}")
        )

    def _on_rate_limits(self, limits: list[Any]) -> None:
        for limit in limits:
            name, remaining, cap = (_field(limit, k) for k in ("name", "remaining", "limit"))
            if not isinstance(name, str) or not isinstance(remaining, int):
                continue
            self._usage.rate_limits[name] = remaining
            if isinstance(cap, int) and cap > 0 and remaining <= cap // 20:
                log.warning(
                    "openai realtime: %s rate limit nearly spent (%d of %d left, reset in %ss)",
                    name, remaining, cap, _field(limit, "reset_seconds"),
                )  # fmt: skip

    def _on_error(self, error: Any) -> None:
        err = _as_dict(error) or {}
        kind, code, event_id = err.get("type"), err.get("code"), err.get("event_id")
        message = f"openai error {kind}/{code}: {err.get('message')}"
        self._usage.errors += 1
        if code == "conversation_already_has_active_response" and event_id in self._sent:
            # Our response.create lost a race with a response the server started on its own:
            # it goes back to the front of the queue and is sent when that response is done.
            self._queue.appendleft(self._sent.pop(event_id))
            log.info("openai realtime: %s waits for the server's own response", event_id)
            return
        if code == "response_cancel_not_active":
            log.debug("openai realtime: the cancelled response had already finished")
            return
        fatal = kind in FATAL_ERROR_TYPES or code in FATAL_ERROR_CODES
        log.log(logging.ERROR if fatal else logging.WARNING, "%s", message)
        self._emit(ProviderError(message, fatal=fatal, code=str(code or kind or "unknown")))

    async def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), 2.0)
            except Exception:
                pass


def _cut(text: str, played_ms: int, total_ms: int) -> str:
    """The part of ``text`` spoken in the first ``played_ms`` of ``total_ms`` of its audio.

    Speech is taken as evenly paced, and the cut falls back to the last whole word.
    """
    if total_ms <= 0 or played_ms <= 0:
        return ""
    if played_ms >= total_ms:
        return text
    head = text[: len(text) * played_ms // total_ms]
    if len(head) < len(text) and not text[len(head)].isspace():
        head = head.rsplit(" ", 1)[0] if " " in head else ""
    return head.rstrip()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _describe_event(event: Any) -> str:
    kind = _field(event, "type")
    if kind == "error":
        err = _as_dict(_field(event, "error")) or {}
        return f"error {err.get('type')}/{err.get('code')}: {err.get('message')}"
    return str(kind)

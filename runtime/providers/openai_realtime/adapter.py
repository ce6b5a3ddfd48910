"""OpenAI Realtime over WebSocket through the official ``openai`` SDK (GA events, PROTOCOLS.md §3).

One :class:`OpenAIRealtimeProvider` serves one call. ``AsyncOpenAI(base_url=..., api_key=...)
.realtime.connect(model=...)`` opens the socket; a reader task turns server events into
:data:`~runtime.providers.base.ProviderEvent` values. Responses are serialised: a
``response.create`` is only sent when no response is active (the service refuses a second one),
so a ``say`` issued while the model talks is spoken right after it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import deque
from typing import Any

from openai import AsyncOpenAI

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
    ProviderUnavailable,
    ResponseDone,
    Usage,
)
from runtime.providers.openai_realtime.pricing import add_usage
from runtime.providers.openai_realtime.session import (
    BYTES_PER_MS,
    FORMAT_RATES,
    AudioFormat,
    initial_session,
    node_session,
    verbatim_response,
)
from runtime.providers.stream import EventStream
from telephony.audio.frames import AudioFrame
from telephony.audio.g711 import ulaw_decode, ulaw_encode

log = logging.getLogger(__name__)

FATAL_ERROR_TYPES = frozenset(
    {"server_error", "authentication_error", "permission_error", "rate_limit_error"}
)
FATAL_ERROR_CODES = frozenset(
    {"session_expired", "beta_api_shape_disabled", "insufficient_quota", "invalid_api_key"}
)
"""Errors that end the session. Others (a late ``response.cancel``, a truncate past the end)
are reported as non-fatal: the service documents most errors as recoverable."""


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


class OpenAIRealtimeProvider(EventStream):
    """The OpenAI Realtime adapter for one call.

    Args:
        api_key: the OpenAI key (never logged).
        base_url: ``None`` for api.openai.com, or e.g. ``http://127.0.0.1:PORT/v1``.
        model: a realtime model (``gpt-realtime``).
        audio_format: ``pcmu`` (G.711 μ-law 8 kHz both ways: no resampling, only μ-law
            conversion against the 8 kHz slin line) or ``pcm24k`` (s16le 24 kHz: the bridge
            resamples caller audio up, the playout buffer resamples agent audio down).
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
    ) -> None:
        self._client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0)
        self.model = model
        self.audio_format: AudioFormat = audio_format
        self.input_rate = FORMAT_RATES[audio_format]
        self._connect_timeout = connect_timeout
        self._conn: Any = None
        self._init_stream()
        self._usage = Usage(provider=self.name, model=model)
        self._yield_now = False
        self._active = False
        """A response is in progress (ours or one the server created after caller speech)."""
        self._pending: deque[dict[str, Any]] = deque()
        self._requested: deque[tuple[str, dict[str, Any] | None]] = deque()
        """Our ``response.create`` calls awaiting ``response.created``: (kind, payload)."""
        self._response_kind = "auto"
        self._item_ms: dict[str, int] = {}
        self.sent_events: list[str] = []

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self, setup: CallSetup) -> None:
        try:
            self._conn = await asyncio.wait_for(
                self._client.realtime.connect(model=self.model).enter(), self._connect_timeout
            )
            first = await asyncio.wait_for(self._conn.recv(), self._connect_timeout)
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
        session = initial_session(setup.settings, self.audio_format, self.model)
        if setup.first is not None:
            session.update(node_session(setup.first))
        await self._send("session.update", session=session)
        self._reader = asyncio.create_task(
            self._read_loop(), name=f"openai-realtime-{setup.call_id}"
        )

    async def hangup(self, farewell: str | None = None) -> None:
        await self._shut_down(self._close_conn)

    @property
    def usage(self) -> Usage:
        return self._usage

    # ---- commands -----------------------------------------------------------------------

    async def send_audio(self, frame: AudioFrame) -> None:
        if frame.rate != self.input_rate:
            raise ValueError(
                f"openai ({self.audio_format}) expects {self.input_rate} Hz audio, got {frame.rate} Hz"
            )
        data = ulaw_encode(frame) if self.audio_format == "pcmu" else frame.pcm
        self._usage.audio_in_ms += int(frame.duration_ms)
        await self._send(
            "input_audio_buffer.append", audio=base64.b64encode(data).decode("ascii"), quiet=True
        )

    async def update_session(self, update: UpdateSession) -> None:
        await self._send("session.update", session=node_session(update))

    async def say(self, text: str) -> None:
        await self._request_response("say", verbatim_response(text))

    async def respond(self) -> None:
        await self._request_response("respond", None)

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
        """Nothing is held back: every command was sent as it came."""

    async def interrupted(self, item_id: str | None, played_ms: int) -> None:
        """Barge-in: cancel the active response, then truncate the item to what was heard."""
        if self._active:
            await self._send("response.cancel")
        if item_id is not None and item_id in self._item_ms:
            end = max(0, min(played_ms, self._item_ms[item_id]))
            await self._send(
                "conversation.item.truncate", item_id=item_id, content_index=0, audio_end_ms=end
            )

    # ---- internals ----------------------------------------------------------------------

    async def _request_response(self, kind: str, payload: dict[str, Any] | None) -> None:
        if self._active or self._requested:
            self._pending.append({"kind": kind, "response": payload})
            return
        await self._create_response(kind, payload)

    async def _create_response(self, kind: str, payload: dict[str, Any] | None) -> None:
        self._requested.append((kind, payload))
        if payload is None:
            await self._send("response.create")
        else:
            await self._send("response.create", response=payload)

    async def _send(self, kind: str, *, quiet: bool = False, **fields: Any) -> None:
        if self._conn is None or self._finished:
            return
        if not quiet:
            self.sent_events.append(kind)
        try:
            await self._conn.send({"type": kind, **fields})
        except Exception as exc:  # the reader reports the dropped connection
            if not self._closing:
                log.warning("openai realtime: cannot send %s: %s", kind, _describe(exc))

    async def _read_loop(self) -> None:
        reason = "the realtime connection closed"
        try:
            async for event in self._conn:
                await self._dispatch(event)
                if self._finished:
                    return
                if self._yield_now:
                    # The SDK returns already-buffered messages without yielding: let the
                    # consumer play this audio before the events queued behind it are parsed.
                    self._yield_now = False
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"the realtime connection failed: {_describe(exc)}"
        if not self._closing:
            self._emit(ProviderError(reason, fatal=True))
        self._finish()

    async def _dispatch(self, event: Any) -> None:
        kind = _field(event, "type")
        match kind:
            case "response.created":
                self._active = True
                self._response_kind = self._requested.popleft()[0] if self._requested else "auto"
            case "response.output_audio.delta":
                raw = base64.b64decode(_field(event, "delta") or "")
                item_id = _field(event, "item_id")
                frame = ulaw_decode(raw) if self.audio_format == "pcmu" else AudioFrame(raw, 24000)
                ms = len(raw) // BYTES_PER_MS[self.audio_format]
                self._item_ms[item_id] = self._item_ms.get(item_id, 0) + ms
                self._usage.audio_out_ms += ms
                self._emit(AgentAudio(frame, item_id))
                self._yield_now = True
            case "response.output_audio.done":
                self._emit(AgentAudioDone(_field(event, "item_id")))
            case "response.output_audio_transcript.done":
                self._emit(
                    AgentTranscript(
                        _field(event, "transcript") or "",
                        _field(event, "item_id"),
                        verbatim=self._response_kind == "say",
                    )
                )
            case "response.function_call_arguments.done":
                raw_args = _field(event, "arguments") or "{}"
                try:
                    args = json.loads(raw_args)
                except json.JSONDecodeError:
                    args = {}
                    log.warning(
                        "openai realtime: function %s sent invalid JSON arguments",
                        _field(event, "name"),
                    )
                self._emit(
                    FunctionCall(
                        _field(event, "call_id"),
                        _field(event, "name"),
                        args if isinstance(args, dict) else {},
                    )
                )
            case "response.done":
                await self._on_response_done(_field(event, "response"))
            case "input_audio_buffer.speech_started":
                self._emit(CallerSpeechStarted())
            case "conversation.item.input_audio_transcription.delta":
                self._emit(CallerTranscript(_field(event, "delta") or "", final=False))
            case "conversation.item.input_audio_transcription.completed":
                self._emit(CallerTranscript(_field(event, "transcript") or "", final=True))
            case "error":
                self._on_error(_field(event, "error"))
            case _:
                pass

    async def _on_response_done(self, response: Any) -> None:
        self._active = False
        self._usage.responses += 1
        add_usage(self._usage, _as_dict(_field(response, "usage")))
        status = _field(response, "status") or "completed"
        if status == "failed":
            details = _as_dict(_field(response, "status_details")) or {}
            self._emit(
                ProviderError(
                    f"the model response failed: {details.get('error') or details}", fatal=True
                )
            )
            return
        self._emit(ResponseDone(status))
        if self._pending and not self._requested:
            nxt = self._pending.popleft()
            await self._create_response(nxt["kind"], nxt["response"])

    def _on_error(self, error: Any) -> None:
        err = _as_dict(error) or {}
        kind, code = err.get("type"), err.get("code")
        message = f"openai error {kind}/{code}: {err.get('message')}"
        fatal = kind in FATAL_ERROR_TYPES or code in FATAL_ERROR_CODES
        if code == "conversation_already_has_active_response" and self._requested:
            # Our response.create lost a race with a server-created response: retry after it.
            lost, payload = self._requested.pop()
            self._pending.appendleft({"kind": lost, "response": payload})
        log.log(logging.ERROR if fatal else logging.WARNING, "%s", message)
        self._emit(ProviderError(message, fatal=fatal))

    async def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), 2.0)
            except Exception:
                pass


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _describe_event(event: Any) -> str:
    kind = _field(event, "type")
    if kind == "error":
        err = _as_dict(_field(event, "error")) or {}
        return f"error {err.get('type')}/{err.get('code')}: {err.get('message')}"
    return str(kind)

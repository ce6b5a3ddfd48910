"""A local stand-in for the Ultravox REST API and the ``serverWebSocket`` joinUrl protocol.

``docs/protocols.md``: ``POST /api/calls`` (``X-API-Key``, camelCase StartCallRequest) answers 201
with ``callId`` and ``joinUrl``; on the joinUrl, binary frames are s16le PCM at the medium's
sample rates and text frames are JSON data messages (``call_started``, ``state``,
``transcript``, ``client_tool_invocation``, ``playback_clear_buffer`` from the server;
``client_tool_result``, ``forced_agent_message``, ``user_text_message``, ``hang_up`` from the
client). A ``client_tool_result`` with ``responseType: "new-stage"`` starts a new call stage
whose parameters are the ``result`` JSON.

Automatic behaviour, as strict as the service (``docs/protocols.md``): forced agent messages
are spoken (simulated speech, so the simulated callee can decode them); agent transcripts come
as ``delta`` fragments of one ``ordinal``, the last one with ``final: true``, so a client that
does not add them up keeps only a fragment; caller speech over agent audio sends
``playback_clear_buffer`` (barge-in). The agent takes a turn of its own (:attr:`UltravoxCall.reply`)
after a ``user_text_message`` of urgency ``immediate`` or ``soon`` and after a tool result whose
``agentReaction`` is ``speaks`` (the default) or ``speaks-once``; a ``hang_up`` with a
``message`` speaks it before the call ends. A new stage may change only what a stage can
change. Every data message the client sends is checked against the documented fields; an
unknown type or field makes the stand-in's ``async with`` fail. The agent's decisions are
scripted per test.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from telephony.audio.simspeech import SimSpeechDecoder, encode
from tests.standins.harness import LocalServer, louder_than
from tests.standins.recorded import RecordedCall
from tests.standins.sdk_models import COUNTS

Script = Callable[["UltravoxCall"], Awaitable[None]]
CLIENT_MESSAGES: dict[str, frozenset[str]] = {
    "ping": frozenset({"timestamp"}),
    "user_text_message": frozenset({"text", "urgency", "deferResponse"}),
    "set_output_medium": frozenset({"medium"}),
    "client_tool_result": frozenset({"invocationId", "result", "responseType", "agentReaction",
                                     "errorType", "errorMessage", "updateCallState"}),
    "forced_agent_message": frozenset({"content", "toolCalls", "uninterruptible", "urgency"}),
    "hang_up": frozenset({"message"}),
}  # fmt: skip
"""Client data messages and their fields, besides ``type``."""
STAGE_FIELDS = frozenset({"systemPrompt", "temperature", "voice", "languageHint",
                          "initialMessages", "selectedTools", "toolOverrides", "initialState"})  # fmt: skip
"""What a new call stage may change; the rest of the call is fixed at creation."""
REACTIONS = frozenset({"speaks", "listens", "speaks-once"})
URGENCIES = frozenset({"immediate", "soon", "later"})


def message_problems(message: dict[str, Any]) -> list[str]:
    """What is wrong with a client data message (empty when it is valid)."""
    kind = message.get("type")
    allowed = CLIENT_MESSAGES.get(kind) if isinstance(kind, str) else None
    if allowed is None:
        return [f"unknown client message type {kind!r}"]
    out = [f"{kind}.{key}: not a documented field" for key in message.keys() - allowed - {"type"}]
    if kind == "client_tool_result":
        if not message.get("invocationId"):
            out.append("client_tool_result.invocationId: required")
        if message.get("agentReaction", "speaks") not in REACTIONS:
            out.append(f"client_tool_result.agentReaction: {message.get('agentReaction')!r}")
        if message.get("responseType", "tool-response") not in (
            "tool-response",
            "hang-up",
            "new-stage",
        ):
            out.append(f"client_tool_result.responseType: {message.get('responseType')!r}")
        if message.get("responseType") == "new-stage":
            try:
                stage = json.loads(message.get("result") or "{}")
            except json.JSONDecodeError:
                stage = None
            if not isinstance(stage, dict):
                out.append("client_tool_result.result: a new stage must be a JSON object")
            else:
                out += [
                    f"new stage: {key!r} cannot change in a stage"
                    for key in stage.keys() - STAGE_FIELDS
                ]
    if kind in ("user_text_message", "forced_agent_message"):
        if message.get("urgency", "soon") not in URGENCIES:
            out.append(f"{kind}.urgency: {message.get('urgency')!r}")
    return out


TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SPEECH_RMS = 500.0
SILENCE_MS = 500


def _problems(body: dict[str, Any]) -> list[str]:
    out: list[str] = []
    medium = body.get("medium") or {}
    if len(medium) != 1:
        out.append("medium: exactly one medium must be set")
    ws = medium.get("serverWebSocket")
    if ws is not None and not isinstance(ws.get("inputSampleRate"), int):
        out.append("medium.serverWebSocket.inputSampleRate: required")
    for i, tool in enumerate(body.get("selectedTools") or []):
        keys = {"toolId", "toolName", "temporaryTool"} & tool.keys()
        if len(keys) != 1:
            out.append(f"selectedTools[{i}]: exactly one of toolId, toolName, temporaryTool")
            continue
        temp = tool.get("temporaryTool")
        if temp is not None:
            if not TOOL_NAME.match(str(temp.get("modelToolName", ""))):
                out.append(f"selectedTools[{i}].temporaryTool.modelToolName: invalid")
            if len({"http", "client", "dataConnection"} & temp.keys()) != 1:
                out.append(f"selectedTools[{i}].temporaryTool: exactly one implementation")
    return out


class UltravoxCall(RecordedCall):
    """One joined call, as the test script sees it."""

    WAIT_S = 15.0

    def __init__(self, server: UltravoxStandin, call_id: str, body: dict[str, Any]) -> None:
        super().__init__()
        self.server = server
        self.call_id = call_id
        self.body = body
        medium = body["medium"].get("serverWebSocket") or {}
        self.input_rate = int(medium.get("inputSampleRate", 8000))
        self.output_rate = int(medium.get("outputSampleRate", self.input_rate))
        self.stages: list[dict[str, Any]] = [
            {
                "systemPrompt": body.get("systemPrompt", ""),
                "selectedTools": body.get("selectedTools", []),
            }
        ]
        self.ws: WebSocket | None = None
        self.end_reason: str | None = None
        self.input_ms = 0
        self.heard: list[str] = []
        self.cleared = 0
        self._decoder = SimSpeechDecoder(self.input_rate)
        self._speech_at: int | None = None
        self._silence_since: int | None = None
        self._speaking = False
        self._interrupt = False
        self._ids = itertools.count(1)
        self._ordinal = itertools.count(1)
        self.spoken: list[str] = []
        self.speech_pad_ms = 0
        """Silence appended to every agent utterance (a long turn, for barge-in tests)."""
        self.pace = 0.0
        self.reply = "Sure, tell me more."
        """What the agent says when it takes a turn of its own (the model's reply)."""
        self._speech_tasks: set[asyncio.Task[None]] = set()
        self._voice = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        self.server.sent.append(message)
        await self.ws.send_text(json.dumps(message))

    # ---- automatic behaviour ------------------------------------------------------------

    async def on_audio(self, pcm: bytes) -> None:
        self.heard.extend(self._decoder.feed(pcm))
        loud = louder_than(pcm, SPEECH_RMS)
        if loud and self._speech_at is None:
            self._speech_at = self.input_ms
            if self._speaking:
                self._interrupt = True
                self.cleared += 1
                await self.send({"type": "playback_clear_buffer"})
        if self._speech_at is not None:
            if loud:
                self._silence_since = None
            elif self._silence_since is None:
                self._silence_since = self.input_ms
        self.input_ms += len(pcm) * 1000 // (self.input_rate * 2)

    async def on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "forced_agent_message":
            self._say(str(message.get("content", "")))
        elif kind == "user_text_message":
            if message.get("urgency", "soon") in ("immediate", "soon"):
                self._say(self.reply)
        elif kind == "client_tool_result":
            if message.get("responseType") == "new-stage":
                self.stages.append(json.loads(message.get("result") or "{}"))
            if message.get("responseType") == "hang-up":
                await self._end("agent_hangup")
            elif message.get("agentReaction", "speaks") in ("speaks", "speaks-once"):
                self._say(self.reply)
        elif kind == "hang_up":
            if message.get("message"):
                await self._say(str(message["message"]))
            await self._end("hangup")

    def _say(self, text: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self.speak(text))
        self._speech_tasks.add(task)
        task.add_done_callback(self._speech_tasks.discard)
        return task

    async def _end(self, reason: str) -> None:
        self.end_reason = reason
        assert self.ws is not None
        await self.ws.close()

    async def speak(self, text: str) -> None:
        """Speak ``text`` as the agent: state, audio frames (fast, then paced), transcript."""
        async with self._voice:
            self._speaking, self._interrupt = True, False
            await self.send({"type": "state", "state": "speaking"})
            pcm = encode(text, self.output_rate) + bytes(
                self.output_rate * self.speech_pad_ms // 1000 * 2
            )
            chunk = self.output_rate // 10 * 2  # 100 ms
            sent = 0
            assert self.ws is not None
            for start in range(0, len(pcm), chunk):
                if self._interrupt:
                    break
                await self.ws.send_bytes(pcm[start : start + chunk])
                sent += len(pcm[start : start + chunk])
                if self.pace:
                    await asyncio.sleep(self.pace)
            heard = text if not self._interrupt else text[: len(text) * sent // max(len(pcm), 1)]
            self.spoken.append(heard)
            ordinal = next(self._ordinal)
            words = heard.split(" ")
            for i, word in enumerate(words):
                last = i == len(words) - 1
                await self.send({"type": "transcript", "role": "agent", "medium": "voice",
                                 "delta": word if last else word + " ", "final": last,
                                 "ordinal": ordinal})  # fmt: skip
            self._speaking = False
            await self.send({"type": "state", "state": "listening"})
            await self._notify()

    # ---- scripted agent behaviour -------------------------------------------------------

    async def caller_turn(self, wait_s: float = 15.0) -> str:
        """Wait for a caller utterance (VAD + decoded simulated speech); send its transcript."""
        await self.wait_until(
            lambda: (
                self._speech_at is not None
                and self._silence_since is not None
                and self.input_ms - self._silence_since >= SILENCE_MS
                and bool(self.heard)
            ),
            wait_s,
        )
        self._speech_at = self._silence_since = None
        text = self.heard.pop(0)
        await self.send({"type": "transcript", "role": "user", "medium": "voice", "text": text,
                         "final": True, "ordinal": next(self._ordinal)})  # fmt: skip
        return text

    async def invoke(
        self, tool: str, parameters: dict[str, Any], wait_s: float = 15.0
    ) -> dict[str, Any]:
        """The agent calls client tool ``tool``; returns the client's ``client_tool_result``."""
        invocation = f"inv-{next(self._ids)}"
        await self.send({"type": "client_tool_invocation", "toolName": tool,
                         "invocationId": invocation, "parameters": parameters})  # fmt: skip

        def answered() -> bool:
            return any(
                m.get("invocationId") == invocation for m in self.of_type("client_tool_result")
            )

        await self.wait_until(answered, wait_s)
        return next(
            m for m in self.of_type("client_tool_result") if m["invocationId"] == invocation
        )

    async def next_message(self, kind: str, index: int = 0, wait_s: float = 15.0) -> dict[str, Any]:
        await self.wait_until(lambda: len(self.of_type(kind)) > index, wait_s)
        return self.of_type(kind)[index]

    async def drop(self) -> None:
        self.end_reason = "connection_error"
        assert self.ws is not None
        await self.ws.close(code=1011)


class UltravoxStandin:
    """``async with UltravoxStandin(script) as uv``; ``uv.base_url`` is the ``/api`` base."""

    def __init__(self, script: Script | None = None, *, api_key: str = "uv-standin",
                 speech_pad_ms: int = 0, pace: float = 0.0) -> None:  # fmt: skip
        self.script = script
        self.api_key = api_key
        self.speech_pad_ms = speech_pad_ms
        self.pace = pace
        self.calls: dict[str, UltravoxCall] = {}
        self.created: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.invalid: list[str] = []
        """Client data messages that break the documented protocol (the test fails on exit)."""
        self.fail_creates = 0
        """Answer this many create-call requests with 503 (a provider outage)."""
        self.join_url: str | None = None
        """The ``joinUrl`` create-call answers with instead of the stand-in's own (a test's
        peer that refuses, never answers or closes the socket its own way)."""
        self._server = LocalServer(
            Starlette(routes=[
                Route("/api/calls", self._create, methods=["POST"]),
                Route("/api/calls/{call_id}", self._get, methods=["GET"]),
                WebSocketRoute("/api/calls/{call_id}/ws", self._join),
            ])
        )  # fmt: skip

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/api"

    async def __aenter__(self) -> UltravoxStandin:
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.__aexit__(*exc)
        if self.invalid and exc[0] is None:
            raise AssertionError("invalid Ultravox data messages:\n" + "\n".join(self.invalid))

    async def _create(self, request: Request) -> JSONResponse:
        if request.headers.get("x-api-key") != self.api_key:
            return JSONResponse({"detail": "Invalid API key."}, status_code=403)
        if self.fail_creates > 0:
            self.fail_creates -= 1
            return JSONResponse({"detail": "Service unavailable."}, status_code=503)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return JSONResponse({"detail": "invalid JSON"}, status_code=400)
        problems = _problems(body)
        if problems:
            return JSONResponse({"detail": problems}, status_code=400)
        call_id = str(uuid.uuid4())
        self.created.append(body)
        call = UltravoxCall(self, call_id, body)
        call.speech_pad_ms, call.pace = self.speech_pad_ms, self.pace
        self.calls[call_id] = call
        join = self.join_url or f"ws://127.0.0.1:{self._server.port}/api/calls/{call_id}/ws"
        return JSONResponse({"callId": call_id, "joinUrl": join, "created": "2026-11-22T00:00:00Z",
                             "medium": body["medium"], "systemPrompt": body.get("systemPrompt"),
                             "metadata": body.get("metadata", {}), "endReason": None}, status_code=201)  # fmt: skip

    async def _get(self, request: Request) -> JSONResponse:
        call = self.calls.get(request.path_params["call_id"])
        if call is None:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        return JSONResponse({"callId": call.call_id, "endReason": call.end_reason})

    async def _join(self, ws: WebSocket) -> None:
        call = self.calls.get(ws.path_params["call_id"])
        if call is None or call.ws is not None:
            await ws.close(code=1008)
            return
        await ws.accept()
        call.ws = ws
        await call.send({"type": "call_started", "callId": call.call_id})
        await call.send({"type": "state", "state": "listening"})
        script = asyncio.create_task(self._run_script(call))
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    await call.on_audio(message["bytes"])
                elif message.get("text") is not None:
                    data = json.loads(message["text"])
                    call.received.append(data)
                    COUNTS["ultravox"] += 1
                    self.invalid += message_problems(data)
                    await call.on_message(data)
                await call._notify()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            call.end_reason = call.end_reason or "hangup"
            await call._notify()
            script.cancel()
            for task in list(call._speech_tasks):
                task.cancel()
            await asyncio.gather(script, *call._speech_tasks, return_exceptions=True)

    async def _run_script(self, call: UltravoxCall) -> None:
        if self.script is None:
            return
        try:
            await self.script(call)
        except asyncio.CancelledError:
            raise
        except (WebSocketDisconnect, RuntimeError):
            pass
        except BaseException as exc:
            self.errors.append(exc)
            raise

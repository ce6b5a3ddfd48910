"""The Ultravox adapter's joinUrl socket when the peer misbehaves: a refused or unanswered
join is ``ProviderUnavailable``; a close mid-call is the provider event its close code
means. REST goes to the stand-in (``tests/standins/ultravox.py``); the ``joinUrl`` it answers
with points at a peer of the test's own (websockets' asyncio server, or raw TCP)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus

import pytest
from websockets.asyncio.server import ServerConnection, serve

from runtime.providers.base import (
    AgentAudio,
    CallSetup,
    ProviderEnded,
    ProviderError,
    ProviderEvent,
    ProviderUnavailable,
)
from runtime.providers.ultravox import UltravoxProvider
from telephony.audio.frames import AudioFrame
from tests.standins.ultravox import UltravoxStandin

WAIT_S = 15
"""Longest a test waits for the adapter (a lost event fails the test instead of hanging)."""

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def peer(handler: Handler, **kw: object) -> AsyncIterator[str]:
    """websockets' asyncio server on 127.0.0.1 as the joinUrl; yields its ``ws://`` URL."""
    async with serve(handler, "127.0.0.1", 0, **kw) as server:  # type: ignore[arg-type]
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/calls/c1/ws?token=t"


async def events_until_the_end(p: UltravoxProvider) -> list[ProviderEvent]:
    async with asyncio.timeout(WAIT_S):
        return [e async for e in p.events()]


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN])
async def test_a_refused_join_is_provider_unavailable_with_its_http_status(
    status: HTTPStatus,
) -> None:
    def refuse(ws: ServerConnection, request: object) -> object:
        return ws.respond(status, "no\n")

    async def never(ws: ServerConnection) -> None:
        raise AssertionError("never opened")

    async with UltravoxStandin() as uv, peer(never, process_request=refuse) as url:
        uv.join_url = url
        with pytest.raises(ProviderUnavailable) as refused:
            await UltravoxProvider(api_key="uv-standin", base_url=uv.base_url).start(
                CallSetup("c1")
            )
    assert refused.value.provider == "ultravox"
    assert refused.value.reason.startswith("cannot join the call: InvalidStatus")
    assert str(int(status)) in refused.value.reason and "token" not in refused.value.reason


async def test_a_join_never_answered_is_provider_unavailable_after_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with UltravoxStandin() as uv:
            uv.join_url = f"ws://127.0.0.1:{port}/calls/c1/ws"
            p = UltravoxProvider(api_key="uv-standin", base_url=uv.base_url, connect_timeout=0.3)
            with pytest.raises(ProviderUnavailable, match="cannot join the call: TimeoutError"):
                await p.start(CallSetup("c1"))
    finally:
        server.close()
        await server.wait_closed()


async def test_a_join_to_a_closed_port_is_provider_unavailable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with UltravoxStandin() as uv:
        uv.join_url = f"ws://127.0.0.1:{port}/calls/c1/ws"
        with pytest.raises(ProviderUnavailable, match="cannot join the call: ConnectionRefused"):
            await UltravoxProvider(api_key="uv-standin", base_url=uv.base_url).start(
                CallSetup("c1")
            )


@pytest.mark.parametrize(
    ("close", "expected"),
    [
        (1000, ProviderEnded("the call ended on the Ultravox side")),
        (1001, ProviderError("the Ultravox connection failed (close code 1001)", code="close_1001")),
        (1011, ProviderError("the Ultravox connection failed (close code 1011)", code="close_1011")),
        (4000, ProviderError("the Ultravox connection failed (close code 4000)", code="close_4000")),
        (None, ProviderError("the Ultravox connection failed (close code 1006)", code="close_1006")),
    ],
    ids=["1000-normal", "1001-going-away", "1011-error", "4000-application", "tcp-dropped"],
)  # fmt: skip
async def test_a_close_mid_call_ends_the_events_with_what_its_code_means(
    close: int | None, expected: ProviderEvent
) -> None:
    """A close the service sends (or a TCP connection dropped without one) after audio both
    ways: the audio before it arrives, then exactly one closing event."""
    heard = asyncio.Event()

    async def service(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "call_started", "callId": "c1"}))
        await ws.send(bytes(320))
        await ws.recv()  # the caller's first frame
        heard.set()
        if close is None:
            ws.transport.abort()
        else:
            await ws.close(close, "closing")

    async with UltravoxStandin() as uv, peer(service) as url:
        uv.join_url = url
        p = UltravoxProvider(api_key="uv-standin", base_url=uv.base_url)
        await p.start(CallSetup("c1"))
        await p.send_audio(AudioFrame(bytes(320), 8000))
        events = await events_until_the_end(p)
        await p.hangup()
    assert heard.is_set()
    assert events[0] == AgentAudio(AudioFrame(bytes(320), 8000), "agent-1")
    assert events[1:] == [expected]


async def test_audio_goes_as_one_binary_message_per_frame_and_data_as_text() -> None:
    """What the service receives: each caller frame's bytes as one binary message, in order,
    and the data messages as JSON text; agent audio of odd length loses its last byte."""
    received: list[str | bytes] = []

    async def service(ws: ServerConnection) -> None:
        await ws.send(bytes(range(161)))  # 80.5 samples
        async for message in ws:
            received.append(message)

    frames = [bytes((i,)) * 320 for i in range(10)]
    async with UltravoxStandin() as uv, peer(service) as url:
        uv.join_url = url
        p = UltravoxProvider(api_key="uv-standin", base_url=uv.base_url)
        await p.start(CallSetup("c1"))
        for frame in frames[:5]:
            await p.send_audio(AudioFrame(frame, 8000))
        await p.say("One moment.")
        for frame in frames[5:]:
            await p.send_audio(AudioFrame(frame, 8000))
        async with asyncio.timeout(WAIT_S):
            first = await anext(e async for e in p.events() if isinstance(e, AgentAudio))
        await p.hangup()
    assert first.frame.pcm == bytes(range(160))
    assert received[:5] == frames[:5] and received[6:11] == frames[5:]
    assert json.loads(received[5]) == {"type": "forced_agent_message", "content": "One moment.",
                                       "urgency": "soon"}  # fmt: skip
    assert json.loads(received[11]) == {"type": "hang_up"}
    assert p.usage.audio_in_ms == 200

"""The adapter's own socket connects where the SDK's ``client.realtime.connect`` does, with
the same headers, and its failures reach the call as the SDK's did: ``ProviderUnavailable``
while opening, a fatal ``ProviderError`` once open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from openai import AsyncOpenAI
from websockets.asyncio.server import ServerConnection, serve
from websockets.server import ServerProtocol

from runtime.providers.base import CallSetup, ProviderError, ProviderUnavailable
from runtime.providers.openai_realtime import OpenAIRealtimeProvider
from runtime.providers.openai_realtime.endpoint import realtime_headers, realtime_url
from runtime.providers.realtime_socket import RealtimeSocket

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[str]:
    """websockets' asyncio server on 127.0.0.1; yields an ``http://…/v1`` base URL."""
    async with serve(handler, "127.0.0.1", 0) as srv:
        yield f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/v1"


async def test_url_and_headers_are_the_ones_the_sdk_sends() -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        headers = {k.lower(): v for k, v in ws.request.headers.raw_items()}
        headers.pop("sec-websocket-key")
        seen.append((ws.request.path, headers))
        await ws.close()

    async with server(handler) as base_url:
        client = AsyncOpenAI(
            api_key="sk-test",
            base_url=base_url,
            organization="org-1",
            project="proj-1",
            default_headers={"X-Deployment": "eu"},
            max_retries=0,
        )
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.close()
        sock = await RealtimeSocket.connect(
            realtime_url(client, "gpt-realtime"), realtime_headers(client)
        )
        await sock.close()
    (sdk_path, sdk_headers), (our_path, our_headers) = seen
    assert our_path == sdk_path == "/v1/realtime?model=gpt-realtime"
    assert our_headers == sdk_headers
    assert our_headers["authorization"] == "Bearer sk-test"
    assert our_headers["openai-organization"] == "org-1"
    assert our_headers["openai-project"] == "proj-1"


def test_a_websocket_base_url_and_an_https_base_url_map_as_the_sdk_maps_them() -> None:
    ws_base = AsyncOpenAI(api_key="k", websocket_base_url="wss://proxy.example/openai/v1/")
    assert realtime_url(ws_base, "m") == "wss://proxy.example/openai/v1/realtime?model=m"
    default = AsyncOpenAI(api_key="k")
    assert realtime_url(default, "gpt-realtime") == (
        "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    )


async def test_a_peer_that_never_answers_the_handshake_is_unavailable_after_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    tcp = await asyncio.start_server(silent, "127.0.0.1", 0)
    base_url = f"http://127.0.0.1:{tcp.sockets[0].getsockname()[1]}/v1"
    p = OpenAIRealtimeProvider(api_key="sk-test", base_url=base_url, connect_timeout=0.3)
    with pytest.raises(ProviderUnavailable) as unavailable:
        await p.start(CallSetup("c1"))
    tcp.close()
    await tcp.wait_closed()
    assert unavailable.value.provider == "openai" and "TimeoutError" in str(unavailable.value)


async def open_then(after_update: Callable[[ServerConnection], Awaitable[None]]) -> list[object]:
    """The events a call gets when the server opens a session normally, reads the first
    ``session.update``, then does ``after_update``."""

    async def handler(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {}}))
        assert json.loads(await ws.recv())["type"] == "session.update"
        await after_update(ws)

    async with server(handler) as base_url:
        p = OpenAIRealtimeProvider(api_key="sk-test", base_url=base_url)
        await p.start(CallSetup("c1"))
        return [e async for e in p.events()]


@pytest.mark.parametrize(
    ("close", "expected"),
    [(4000, "4000"), (1011, "1011"), (1000, "the realtime connection closed")],
)
async def test_a_close_mid_call_is_one_fatal_connection_error(close: int, expected: str) -> None:
    async def closing(ws: ServerConnection) -> None:
        await ws.close(close, "bye")

    events = await open_then(closing)
    assert len(events) == 1 and isinstance(events[0], ProviderError)
    assert events[0].fatal and events[0].code == "connection" and expected in events[0].reason


async def test_invalid_utf8_mid_call_is_a_fatal_connection_error_not_a_crash() -> None:
    async def bad_bytes(ws: ServerConnection) -> None:
        protocol: ServerProtocol = ws.protocol  # type: ignore[assignment]
        protocol.send_text(b'{"type": "\xff"}')
        ws.transport.write(b"".join(protocol.data_to_send()))
        await ws.wait_closed()

    events = await open_then(bad_bytes)
    assert len(events) == 1 and isinstance(events[0], ProviderError) and events[0].fatal
    assert "1007" in events[0].reason

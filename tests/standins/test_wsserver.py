"""The lean WebSocket server behaves as a real one: framing, keepalive, close handshakes.

Clients are websockets' own asyncio client, or websockets' Sans-I/O ``ClientProtocol`` writing
raw bytes where a test needs control of every byte (frames split across reads, fragments, a
client that never answers a ping).
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, ConnectionClosedOK
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from tests.standins import wsserver
from tests.standins.wsserver import LeanWebSocket, LeanWebSocketServer

PATH = "/v1/echo"


class Echo:
    """A handler that echoes text until the client goes, keeping how the connection ended."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.ended: BaseException | None = None
        self.done = asyncio.Event()

    async def __call__(self, ws: LeanWebSocket) -> None:
        if ws.query_params.get("refuse"):
            await ws.close(code=1008)
            return
        await ws.accept()
        try:
            while True:
                message = await ws.receive_text()
                self.received.append(message)
                if message == "close please":
                    await ws.close(code=1011, reason="asked to")
                    return
                await ws.send_text(message)
        except ConnectionClosed as exc:
            self.ended = exc
        finally:
            self.done.set()


class RawClient(asyncio.Protocol):
    """A client that writes exactly the bytes it is given and keeps what comes back."""

    def __init__(self, port: int) -> None:
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}{PATH}"))
        self.transport: asyncio.Transport | None = None
        self.events: list[object] = []
        self.changed = asyncio.Event()
        self.lost = asyncio.Event()
        self.answer_pings = True

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self.flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self.events += self.protocol.events_received()
        if self.answer_pings:
            self.flush()
        else:
            self.protocol.data_to_send()  # the pongs are dropped
        self.changed.set()

    def connection_lost(self, exc) -> None:  # type: ignore[no-untyped-def]
        self.lost.set()

    def flush(self) -> bytes:
        out = b"".join(self.protocol.data_to_send())
        assert self.transport is not None
        self.transport.write(out)
        return out

    def frames(self) -> list[Frame]:
        return [e for e in self.events if isinstance(e, Frame)]

    async def until(self, predicate) -> None:  # type: ignore[no-untyped-def]
        while not predicate():
            self.changed.clear()
            await self.changed.wait()


async def raw_client(port: int) -> RawClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: RawClient(port), "127.0.0.1", port)
    await client.until(lambda: client.events)  # the handshake response
    return client


async def test_text_messages_echo_and_a_client_close_ends_the_handler_normally() -> None:
    echo = Echo()
    async with LeanWebSocketServer(echo, PATH) as server:
        async with connect(f"ws://127.0.0.1:{server.port}{PATH}?model=x") as ws:
            for text in ("hello", "é" * 70, "x" * 70_000):  # 7-, 16- and 64-bit lengths
                await ws.send(text)
                assert await ws.recv() == text
        await echo.done.wait()
    assert isinstance(echo.ended, ConnectionClosedOK)
    assert echo.ended.rcvd is not None and echo.ended.rcvd.code == 1000


async def test_closing_before_accepting_refuses_the_handshake_with_403() -> None:
    async with LeanWebSocketServer(Echo(), PATH) as server:
        with pytest.raises(Exception, match="403"):
            async with connect(f"ws://127.0.0.1:{server.port}{PATH}?refuse=1"):
                pass
        with pytest.raises(Exception, match="403"):  # no such endpoint
            async with connect(f"ws://127.0.0.1:{server.port}/elsewhere"):
                pass


async def test_a_server_close_reaches_the_client_with_its_code_and_reason() -> None:
    async with LeanWebSocketServer(Echo(), PATH) as server:
        async with connect(f"ws://127.0.0.1:{server.port}{PATH}") as ws:
            await ws.send("close please")
            with pytest.raises(ConnectionClosedError) as closed:
                await ws.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1011, "asked to")


@pytest.mark.parametrize("chunk", [1, 5, 7, 64, 100_000])
async def test_frames_split_anyhow_fragments_and_pings_arrive_as_the_same_messages(
    chunk: int,
) -> None:
    echo = Echo()
    async with LeanWebSocketServer(echo, PATH) as server:
        client = await raw_client(server.port)
        protocol = client.protocol
        protocol.send_text(b"one")
        protocol.send_text(b"two, in two"[:4], fin=False)
        protocol.send_ping(b"are you there")
        protocol.send_continuation(b", in two"[1:], fin=True)
        protocol.send_text(b"three " * 30)  # a 16-bit length
        stream = b"".join(protocol.data_to_send())
        assert client.transport is not None
        for at in range(0, len(stream), chunk):
            client.transport.write(stream[at : at + chunk])
            await asyncio.sleep(0)  # one read per chunk, as far as the loop allows
        await client.until(lambda: len(client.frames()) >= 4)
        client.transport.close()
        await echo.done.wait()
    assert echo.received == ["one", "two, in two", "three " * 30]
    kinds = [f.opcode for f in client.frames()]
    assert kinds.count(Opcode.PONG) == 1 and kinds.count(Opcode.TEXT) == 3


async def test_invalid_utf8_fails_the_connection_with_1007() -> None:
    echo = Echo()
    async with LeanWebSocketServer(echo, PATH) as server:
        client = await raw_client(server.port)
        client.protocol.send_frame(Frame(Opcode.TEXT, b"ok \xff"))
        client.flush()
        await client.until(lambda: any(f.opcode is Opcode.CLOSE for f in client.frames()))
        close = next(f for f in client.frames() if f.opcode is Opcode.CLOSE)
        await echo.done.wait()
    assert close.data[:2] == (1007).to_bytes(2, "big")
    assert echo.received == []


async def test_a_client_that_never_answers_a_ping_is_closed_with_1011(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wsserver, "PING_INTERVAL_S", 0.05)
    monkeypatch.setattr(wsserver, "PING_TIMEOUT_S", 0.05)
    monkeypatch.setattr(wsserver, "CLOSE_TIMEOUT_S", 0.2)
    echo = Echo()
    async with LeanWebSocketServer(echo, PATH) as server:
        client = await raw_client(server.port)
        client.answer_pings = False
        await client.lost.wait()  # the server gave up on the close handshake and closed TCP
        await echo.done.wait()
    close = next(f for f in client.frames() if f.opcode is Opcode.CLOSE)
    assert close.data[2:] == b"keepalive ping timeout"
    assert close.data[:2] == (1011).to_bytes(2, "big")
    assert isinstance(echo.ended, ConnectionClosedError)


async def test_a_client_that_answers_pings_stays_connected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wsserver, "PING_INTERVAL_S", 0.02)
    echo = Echo()
    async with LeanWebSocketServer(echo, PATH) as server:
        client = await raw_client(server.port)
        await client.until(lambda: sum(f.opcode is Opcode.PING for f in client.frames()) >= 3)
        client.protocol.send_text(b"still here")
        client.flush()
        await client.until(lambda: any(f.opcode is Opcode.TEXT for f in client.frames()))
        assert client.transport is not None
        client.transport.close()
        await echo.done.wait()
    assert echo.received == ["still here"]

"""The lean provider WebSocket against real peers: websockets' own asyncio server, and raw
TCP servers speaking websockets' Sans-I/O server protocol where a peer must misbehave (never
answer, ignore pings, send invalid frames)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus

import pytest
import uvloop
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    InvalidStatus,
)
from websockets.frames import CloseCode, Frame, Opcode
from websockets.server import ServerProtocol

from runtime.providers.realtime_socket import RealtimeSocket

Handler = Callable[[ServerConnection], Awaitable[None]]


LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def on_both_loops(test: Callable[[], Awaitable[None]]) -> Callable[[str], None]:
    """Run an async test on asyncio's loop and on uvloop (what workers run,
    ``runtime/eventloop.py``): their transports differ (uvloop's is no ``asyncio.Transport``)."""

    @pytest.mark.parametrize("loop", list(LOOPS))
    def run(loop: str) -> None:
        with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
            runner.run(test())  # type: ignore[arg-type]

    run.__name__, run.__doc__ = test.__name__, test.__doc__
    return run


@asynccontextmanager
async def ws_server(handler: Handler, **kw: object) -> AsyncIterator[str]:
    """websockets' asyncio server on 127.0.0.1; yields its ``ws://`` URL."""
    async with serve(handler, "127.0.0.1", 0, **kw) as server:  # type: ignore[arg-type]
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/realtime?model=m"


RawBehaviour = Callable[
    [ServerProtocol, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]
]


@asynccontextmanager
async def raw_server(behaviour: RawBehaviour, *, handshake: bool = True) -> AsyncIterator[str]:
    """A TCP server that completes the WebSocket handshake with the Sans-I/O server protocol
    (or, ``handshake=False``, never answers it) and then does what ``behaviour`` says."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        protocol = ServerProtocol()
        try:
            if handshake:
                request = None
                while request is None:
                    protocol.receive_data(await reader.read(65536))
                    request = next(iter(protocol.events_received()), None)
                protocol.send_response(protocol.accept(request))  # type: ignore[arg-type]
                writer.write(b"".join(protocol.data_to_send()))
            await behaviour(protocol, reader, writer)
        finally:
            writer.close()

    async def start(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handle(reader, writer)
        finally:
            tasks.discard(task)

    server = await asyncio.start_server(start, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/v1/realtime"
    finally:
        for task in tasks:
            task.cancel()
        server.close()
        await server.wait_closed()


async def read_until_eof(protocol: ServerProtocol, reader: asyncio.StreamReader) -> list[object]:
    """Everything the client sent, as the server protocol parsed it, until it closed TCP."""
    frames: list[object] = []
    while data := await reader.read(65536):
        protocol.receive_data(data)
        frames += protocol.events_received()
    return frames


@on_both_loops
async def test_messages_round_trip_in_order_and_close_normally() -> None:
    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with ws_server(handler) as url:
        sock = await RealtimeSocket.connect(url, {})
        for i in range(200):
            sock.send(json.dumps({"n": i, "text": "é"}))
        assert [json.loads(await sock.recv())["n"] for _ in range(200)] == list(range(200))
        await sock.close()
    assert sock.close_code == CloseCode.NORMAL_CLOSURE


@on_both_loops
async def test_a_fragmented_large_message_and_a_binary_one_arrive_whole() -> None:
    big = "y" * 3_000_000

    async def handler(ws: ServerConnection) -> None:
        await ws.send(big[i : i + 65536] for i in range(0, len(big), 65536))
        await ws.send(b"\x00\xff")
        await ws.wait_closed()

    async with ws_server(handler, max_size=None) as url:
        sock = await RealtimeSocket.connect(url, {})
        assert await sock.recv() == big
        assert await sock.recv() == b"\x00\xff"
        await sock.close()


@on_both_loops
async def test_the_handshake_carries_the_path_query_and_headers_given() -> None:
    seen: dict[str, object] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen["path"] = ws.request.path
        seen["auth"] = ws.request.headers.get("Authorization")
        seen["extensions"] = ws.request.headers.get("Sec-WebSocket-Extensions")
        await ws.close()

    async with ws_server(handler) as url:
        sock = await RealtimeSocket.connect(url, {"Authorization": "Bearer sk-1"})
        with pytest.raises(ConnectionClosedOK):
            await sock.recv()
    assert seen == {"path": "/v1/realtime?model=m", "auth": "Bearer sk-1", "extensions": None}


@on_both_loops
async def test_a_refused_handshake_raises_invalid_status_with_the_http_status() -> None:
    def refuse(ws: ServerConnection, request: object) -> object:
        return ws.respond(HTTPStatus.FORBIDDEN, "no\n")

    async def handler(ws: ServerConnection) -> None:
        raise AssertionError("never opened")

    async with ws_server(handler, process_request=refuse) as url:
        with pytest.raises(InvalidStatus) as refused:
            await RealtimeSocket.connect(url, {})
    assert refused.value.response.status_code == 403


@on_both_loops
async def test_a_peer_that_never_answers_the_handshake_times_out() -> None:
    async def silent(
        protocol: ServerProtocol, reader: asyncio.StreamReader, writer: object
    ) -> None:
        await reader.read()  # until the client gives up

    async with raw_server(silent, handshake=False) as url:
        with pytest.raises(TimeoutError):
            await RealtimeSocket.connect(url, {}, open_timeout=0.3)


@on_both_loops
async def test_pings_from_the_server_are_answered() -> None:
    async def handler(ws: ServerConnection) -> None:
        for _ in range(3):
            await (await ws.ping())  # waits for the client's pong
        await ws.send("pinged")
        await ws.wait_closed()

    async with ws_server(handler, ping_interval=None) as url:
        sock = await RealtimeSocket.connect(url, {})
        assert await sock.recv() == "pinged"
        await sock.close()


@on_both_loops
async def test_keepalive_pings_keep_an_answering_peer_open() -> None:
    async def handler(ws: ServerConnection) -> None:
        await asyncio.sleep(0.5)  # five of the client's ping intervals
        await ws.send("still here")
        await ws.wait_closed()

    async with ws_server(handler, ping_interval=None) as url:
        sock = await RealtimeSocket.connect(url, {}, ping_interval=0.1, ping_timeout=0.1)
        assert await sock.recv() == "still here"
        await sock.close()
    assert sock.close_code == CloseCode.NORMAL_CLOSURE


@on_both_loops
async def test_a_peer_that_ignores_pings_fails_the_connection_with_1011() -> None:
    async def deaf(protocol: ServerProtocol, reader: asyncio.StreamReader, writer: object) -> None:
        await read_until_eof(protocol, reader)  # reads, never writes: no pong, no close echo

    async with raw_server(deaf) as url:
        sock = await RealtimeSocket.connect(
            url, {}, ping_interval=0.05, ping_timeout=0.05, close_timeout=0.1
        )
        with pytest.raises(ConnectionClosedError) as closed:
            await sock.recv()
    assert closed.value.sent is not None and closed.value.sent.code == CloseCode.INTERNAL_ERROR
    assert closed.value.sent.reason == "keepalive ping timeout"


@on_both_loops
async def test_the_server_closing_mid_send_ends_sends_and_reads_with_its_close_code() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.close(CloseCode.INTERNAL_ERROR, "server failed")

    async with ws_server(handler) as url:
        sock = await RealtimeSocket.connect(url, {})
        with pytest.raises(ConnectionClosed):
            for _ in range(100_000):  # until the close reaches the client
                sock.send("audio" * 100)
                await sock.drain()
                await asyncio.sleep(0)
        with pytest.raises(ConnectionClosedError) as closed:
            await sock.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.INTERNAL_ERROR


@on_both_loops
async def test_a_dropped_tcp_connection_is_a_closed_error_with_code_1006() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("one")
        ws.transport.abort()

    async with ws_server(handler) as url:
        sock = await RealtimeSocket.connect(url, {})
        assert await sock.recv() == "one"  # what arrived before the drop comes first
        with pytest.raises(ConnectionClosedError):
            await sock.recv()
    assert sock.close_code == CloseCode.ABNORMAL_CLOSURE
    with pytest.raises(ConnectionClosed):
        sock.send("after")


@on_both_loops
async def test_a_slow_reader_pauses_the_socket_and_loses_or_reorders_nothing() -> None:
    count = 3000

    async def handler(ws: ServerConnection) -> None:
        for i in range(count):
            await ws.send(json.dumps({"n": i, "pad": "p" * 2000}))
        await ws.wait_closed()

    async with ws_server(handler) as url:
        sock = await RealtimeSocket.connect(url, {}, max_queue=8)
        got = [json.loads(await sock.recv())["n"]]
        await asyncio.sleep(0.2)  # the server keeps sending; the client reads nothing
        transport = sock._transport
        assert transport is not None and not transport.is_reading()
        assert len(sock._messages) < 8 + 64  # paused near the mark, not holding everything
        while len(got) < count:
            got.append(json.loads(await sock.recv())["n"])
            if len(got) % 500 == 0:
                await asyncio.sleep(0.01)
        await sock.close()
    assert got == list(range(count))


@on_both_loops
async def test_a_slow_peer_pauses_sends_and_drain_resumes_them_in_order() -> None:
    count = 40
    chunk = "z" * 1_000_000
    release = asyncio.Event()
    received: list[int] = []

    async def handler(ws: ServerConnection) -> None:
        await release.wait()  # reads nothing until the client's transport is full
        for _ in range(count):
            received.append(int((await ws.recv())[:8]))
        await ws.close()

    async with ws_server(handler, max_size=None, max_queue=1) as url:
        sock = await RealtimeSocket.connect(url, {})
        paused_at = None
        for i in range(count):
            sock.send(f"{i:08d}" + chunk)
            if sock.writing_paused and paused_at is None:
                paused_at = i
                release.set()
            await sock.drain()
        with pytest.raises(ConnectionClosedOK):
            await sock.recv()
    assert paused_at is not None and paused_at < count - 1
    assert received == list(range(count))


@on_both_loops
async def test_a_drain_waiting_on_a_peer_that_drops_raises_connection_closed() -> None:
    dropped = asyncio.Event()

    async def stuck(
        protocol: ServerProtocol, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await dropped.wait()  # reads nothing, then drops TCP
        writer.transport.abort()

    async with raw_server(stuck) as url:
        sock = await RealtimeSocket.connect(url, {})
        while not sock.writing_paused:
            sock.send("x" * 1_000_000)
        waiting = asyncio.ensure_future(sock.drain())
        await asyncio.sleep(0)
        dropped.set()
        with pytest.raises(ConnectionClosed):
            await waiting


@on_both_loops
async def test_invalid_utf8_in_a_text_message_fails_the_connection_with_1007() -> None:
    async def bad_text(
        protocol: ServerProtocol, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        protocol.send_text(b'{"type": "ok"}')
        protocol.send_text(b'{"type": "\xff\xfe"}')
        protocol.send_text(b'{"type": "after the invalid one"}')
        writer.write(b"".join(protocol.data_to_send()))
        await read_until_eof(protocol, reader)

    async with raw_server(bad_text) as url:
        sock = await RealtimeSocket.connect(url, {}, close_timeout=0.2)
        assert json.loads(await sock.recv()) == {"type": "ok"}
        with pytest.raises(ConnectionClosedError) as closed:
            await sock.recv()
    assert closed.value.sent is not None and closed.value.sent.code == CloseCode.INVALID_DATA


@on_both_loops
async def test_a_garbage_frame_fails_the_connection_with_a_protocol_error() -> None:
    async def garbage(
        protocol: ServerProtocol, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"\x8b\x00")  # FIN + reserved opcode 0xB
        await read_until_eof(protocol, reader)

    async with raw_server(garbage) as url:
        sock = await RealtimeSocket.connect(url, {}, close_timeout=0.2)
        with pytest.raises(ConnectionClosedError) as closed:
            await sock.recv()
    assert closed.value.sent is not None and closed.value.sent.code == CloseCode.PROTOCOL_ERROR


@on_both_loops
async def test_close_waits_for_the_server_then_gives_up_on_one_that_never_answers() -> None:
    async def deaf(protocol: ServerProtocol, reader: asyncio.StreamReader, writer: object) -> None:
        await read_until_eof(protocol, reader)

    async with raw_server(deaf) as url:
        sock = await RealtimeSocket.connect(url, {}, close_timeout=0.2)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await sock.close()
        waited = loop.time() - began
    assert 0.15 < waited < 5
    assert sock.close_code == CloseCode.ABNORMAL_CLOSURE


@on_both_loops
async def test_a_close_the_caller_stops_waiting_for_aborts_the_connection() -> None:
    async def deaf(protocol: ServerProtocol, reader: asyncio.StreamReader, writer: object) -> None:
        await read_until_eof(protocol, reader)

    async with raw_server(deaf) as url:
        sock = await RealtimeSocket.connect(url, {}, close_timeout=60)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sock.close(), 0.1)
        await sock.close()  # returns: the connection was aborted, not left for 60 s
    assert sock.close_code == CloseCode.ABNORMAL_CLOSURE


# ---- binary messages (Ultravox's audio: raw PCM both ways) -----------------------------


@on_both_loops
async def test_binary_and_text_messages_interleave_both_ways_with_their_kinds_and_bytes() -> None:
    echoed: list[str | bytes] = []

    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            echoed.append(message)
            await ws.send(message)

    sent: list[str | bytes] = []
    for i in range(300):
        if i % 3:
            sent.append(bytes((i + j) % 256 for j in range(i * 7)))  # 0 to 2 kB, all lengths
        else:
            sent.append(json.dumps({"n": i}))
    sent.append(bytes(range(256)) * 800)  # 200 kB: the 64-bit length

    async with ws_server(handler, max_size=None) as url:
        sock = await RealtimeSocket.connect(url, {})
        for message in sent:
            if isinstance(message, bytes):
                sock.send_binary(message)
            else:
                sock.send(message)
            await sock.drain()
        received = [await sock.recv() for _ in sent]
        await sock.close()
    assert echoed == sent  # the server unmasked every binary frame to the bytes given
    assert received == sent and [type(m) for m in received] == [type(m) for m in sent]
    assert sock.close_code == CloseCode.NORMAL_CLOSURE


@on_both_loops
async def test_fragmented_binary_messages_arrive_whole_between_text_ones() -> None:
    big = bytes(range(256)) * 12_000  # 3 MB

    async def handler(ws: ServerConnection) -> None:
        await ws.send("before")
        await ws.send(big[i : i + 65536] for i in range(0, len(big), 65536))
        await ws.send("between")
        await ws.send(iter([b"\x01", b"", b"\x02\x03"]))  # an empty fragment too
        await ws.send(iter(["fragmented ", "text"]))
        await ws.wait_closed()

    async with ws_server(handler, max_size=None) as url:
        sock = await RealtimeSocket.connect(url, {})
        got = [await sock.recv() for _ in range(5)]
        await sock.close()
    assert got == ["before", big, "between", b"\x01\x02\x03", "fragmented text"]


@on_both_loops
async def test_a_ping_between_binary_fragments_is_answered_and_the_message_stays_whole() -> None:
    pongs: list[bytes] = []

    async def split(
        protocol: ServerProtocol, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        protocol.send_binary(b"\x00\x01", fin=False)
        protocol.send_ping(b"mid")
        protocol.send_continuation(b"\x02", fin=False)
        protocol.send_continuation(b"\x03", fin=True)
        protocol.send_text(b"after")
        writer.write(b"".join(protocol.data_to_send()))
        while data := await reader.read(65536):
            protocol.receive_data(data)
            for event in protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.PONG:
                    pongs.append(event.data)
            writer.write(b"".join(protocol.data_to_send()))  # the close echoed

    async with raw_server(split) as url:
        sock = await RealtimeSocket.connect(url, {})
        assert await sock.recv() == b"\x00\x01\x02\x03"
        assert await sock.recv() == "after"
        await sock.close()
    assert pongs == [b"mid"]


@on_both_loops
async def test_a_binary_message_over_max_size_fails_the_connection_with_1009() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(b"a" * 1000)
        await ws.send(b"b" * 5000)
        await ws.wait_closed()

    async with ws_server(handler, max_size=None) as url:
        sock = await RealtimeSocket.connect(url, {}, max_size=4096)
        assert await sock.recv() == b"a" * 1000
        with pytest.raises(ConnectionClosedError) as closed:
            await sock.recv()
    assert closed.value.sent is not None and closed.value.sent.code == CloseCode.MESSAGE_TOO_BIG


@on_both_loops
async def test_a_slow_peer_pauses_binary_sends_and_drain_resumes_them_in_order() -> None:
    count = 40
    chunk = bytes(range(256)) * 4000  # 1 MB
    release = asyncio.Event()
    received: list[int] = []
    intact: list[bool] = []

    async def handler(ws: ServerConnection) -> None:
        await release.wait()  # reads nothing until the client's transport is full
        for _ in range(count):
            message = await ws.recv()
            assert isinstance(message, bytes)
            received.append(int.from_bytes(message[:4], "big"))
            intact.append(message[4:] == chunk)
        await ws.close()

    async with ws_server(handler, max_size=None, max_queue=1) as url:
        sock = await RealtimeSocket.connect(url, {})
        paused_at = None
        for i in range(count):
            sock.send_binary(i.to_bytes(4, "big") + chunk)
            if sock.writing_paused and paused_at is None:
                paused_at = i
                release.set()
            await sock.drain()
        with pytest.raises(ConnectionClosedOK):
            await sock.recv()
    assert paused_at is not None and paused_at < count - 1
    assert received == list(range(count)) and all(intact)


@on_both_loops
async def test_a_slow_reader_of_binary_audio_pauses_the_socket_and_loses_nothing() -> None:
    count = 3000

    async def handler(ws: ServerConnection) -> None:
        for i in range(count):
            if i % 10 == 9:
                await ws.send(json.dumps({"n": i}))
            else:
                await ws.send(i.to_bytes(4, "big") + bytes(1596))  # 100 ms of 8 kHz s16le
        await ws.wait_closed()

    def number(message: str | bytes) -> int:
        if isinstance(message, bytes):
            return int.from_bytes(message[:4], "big")
        return int(json.loads(message)["n"])

    async with ws_server(handler) as url:
        sock = await RealtimeSocket.connect(url, {}, max_queue=8)
        got = [number(await sock.recv())]
        await asyncio.sleep(0.2)  # the server keeps sending; the client reads nothing
        transport = sock._transport
        assert transport is not None and not transport.is_reading()
        assert len(sock._messages) < 8 + 64
        while len(got) < count:
            got.append(number(await sock.recv()))
            if len(got) % 500 == 0:
                await asyncio.sleep(0.01)
        await sock.close()
    assert got == list(range(count))


@on_both_loops
async def test_send_binary_after_the_server_closed_raises_connection_closed() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.close(CloseCode.GOING_AWAY, "bye")

    async with ws_server(handler) as url:
        sock = await RealtimeSocket.connect(url, {})
        with pytest.raises(ConnectionClosedOK):
            await sock.recv()
        with pytest.raises(ConnectionClosed):
            sock.send_binary(b"\x00\x00")
    assert sock.close_code == CloseCode.GOING_AWAY

"""A lean WebSocket server for the stand-ins: websockets' Sans-I/O ``ServerProtocol`` on an
asyncio transport.

``bench/call.py`` drives hundreds of provider sessions from one core; behind uvicorn and
starlette every message pays for an ASGI message dict, a queue, a task hand-off and
starlette's state checks (``bench/README.md``, "Whole calls on one core": at 500 sessions the
stand-in fell so far behind that its keepalive pings timed out). Here a received frame is
parsed in ``data_received`` and the whole message waits in a deque; the reader takes it
without a task wake-up unless the deque was empty; a send writes its frame at once.

The protocol (the opening handshake and its checks, unmasking, fragments, control frames,
UTF-8 of text messages, the close handshake) is websockets' own (``websockets.server.
ServerProtocol``); this module adds what a real server adds around it, with uvicorn's
defaults so the two transports behave alike: keepalive pings every 20 s that fail the
connection (1011) when the pong is 20 s late, a close timeout, flow control both ways, and a
16 MiB message limit.

The handler sees the part of starlette's ``WebSocket`` the stand-ins use (``query_params``,
``headers``, ``accept``, ``send_text``, ``receive_text``, ``close``), so one endpoint serves
both transports. ``close`` before ``accept`` refuses the handshake with HTTP 403, as uvicorn
does. A closed connection raises websockets' ``ConnectionClosed`` from ``receive_text`` and
``send_text``.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from os import urandom
from typing import cast
from urllib.parse import parse_qsl, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import CLOSED, CONNECTING, OPEN
from websockets.server import ServerProtocol

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C extension
    from websockets.utils import apply_mask

PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 20.0
"""uvicorn's ``ws_ping_interval`` and ``ws_ping_timeout`` defaults (and websockets')."""
CLOSE_TIMEOUT_S = 10.0
MAX_SIZE = 16 * 1024 * 1024
"""The largest message accepted (``tests/standins/harness.py`` gives uvicorn the same)."""
MAX_QUEUE = 64
"""Received messages held before reading from the socket pauses (resumed at a quarter)."""

_FIN_TEXT = 0x81
_HEAD_16 = struct.Struct("!BBH")
_HEAD_64 = struct.Struct("!BBQ")

Handler = Callable[["LeanWebSocket"], Awaitable[None]]


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked text frame (RFC 6455 §5.2; a server never masks, §5.1)."""
    n = len(payload)
    if n < 126:
        return bytes((_FIN_TEXT, n)) + payload
    if n < 65536:
        return _HEAD_16.pack(_FIN_TEXT, 126, n) + payload
    return _HEAD_64.pack(_FIN_TEXT, 127, n) + payload


class LeanWebSocket(asyncio.Protocol):
    """One server-side connection. The handler runs once the upgrade request is in."""

    def __init__(self, server: LeanWebSocketServer) -> None:
        self._server = server
        self._protocol = ServerProtocol(max_size=MAX_SIZE)
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._request: Request | None = None
        self._response: Response | None = None
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._messages: deque[str | bytes] = deque()
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self._reader: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drainers: list[asyncio.Future[None]] = []
        self._ping_payload: bytes | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self.query_params: dict[str, str] = {}
        self.headers: Headers = Headers()

    # ---- what the handler uses (starlette's names) -----------------------------------------

    async def accept(self) -> None:
        """Complete the opening handshake (HTTP 101)."""
        assert self._response is not None, "accept() before the request or twice"
        response, self._response = self._response, None
        self._protocol.send_response(response)
        self._flush()
        self._arm_ping()

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Before :meth:`accept`: refuse the handshake with HTTP 403. After: the close
        handshake, then wait (at most the close timeout) for the client to close TCP."""
        protocol = self._protocol
        if protocol.state is CONNECTING:
            self._response = None
            protocol.send_response(protocol.reject(403, "Forbidden\n"))
            self._flush()
        elif protocol.state is OPEN:
            protocol.send_close(code, reason)
            self._flush()
        await asyncio.shield(self._lost)

    async def send_text(self, text: str) -> None:
        """Send one text message now; waits only while the transport's buffer is full.

        Raises:
            websockets.exceptions.ConnectionClosed: the connection is closing or closed.
        """
        transport = self._transport
        if self._protocol.state is not OPEN or transport is None or transport.is_closing():
            raise self._closed_exc()
        # Written here, not by the protocol (whose Frame.serialize is most of a send's CPU);
        # order holds because every protocol call is followed by a flush of what it queued.
        transport.write(text_frame(text.encode()))
        if self._writing_paused:
            waiter = self._loop.create_future()
            self._drainers.append(waiter)
            await waiter
            if self._lost.done():
                raise self._closed_exc()

    async def receive_text(self) -> str:
        """The next message, which must be text.

        Raises:
            websockets.exceptions.ConnectionClosed: the connection closed (messages received
                before it are all returned first).
            RuntimeError: a binary message came (as starlette's ``receive_text`` fails on one).
        """
        messages = self._messages
        while not messages:
            if self._lost.done():
                raise self._closed_exc()
            self._reader = self._loop.create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        message = messages.popleft()
        if self._reading_paused and len(messages) <= MAX_QUEUE // 4:
            self._reading_paused = False
            if self._transport is not None and not self._transport.is_closing():
                self._transport.resume_reading()
        if not isinstance(message, str):
            raise RuntimeError("a binary message where text was expected")
        return message

    # ---- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        protocol = self._protocol
        if protocol.state is OPEN and not protocol.reader.buffer and protocol.current_size is None:
            data = self._whole_text_frames(data)
        if data:
            protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
            else:
                self._on_request(event)
        self._flush()
        if len(self._messages) >= MAX_QUEUE and not self._reading_paused:
            self._reading_paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        reader = self._reader
        if reader is not None and not reader.done() and self._messages:
            reader.set_result(None)

    def eof_received(self) -> None:
        self._protocol.receive_eof()
        self._flush()  # None: the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._protocol.receive_eof()  # idempotent; the state becomes CLOSED
        self._protocol.data_to_send()  # nowhere to send it
        for timer in (self._ping_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        if not self._lost.done():
            self._lost.set_result(None)
        for waiter in (self._reader, *self._drainers):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        self._drainers.clear()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        for waiter in self._drainers:
            if not waiter.done():
                waiter.set_result(None)
        self._drainers.clear()

    # ---- internals -------------------------------------------------------------------------

    def _on_request(self, request: Request) -> None:
        response = self._protocol.accept(request)
        url = urlsplit(request.path)
        if response.status_code != 101 or url.path != self._server.path:
            if response.status_code == 101:  # no such endpoint: starlette + uvicorn say 403
                response = self._protocol.reject(403, "Forbidden\n")
            self._protocol.send_response(response)
            return
        self._request, self._response = request, response
        self.query_params = dict(parse_qsl(url.query))
        self.headers = request.headers
        self._server.start(self)

    def _on_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self._message(frame.data, opcode is Opcode.TEXT)
            else:
                self._fragments = [frame.data]
                self._fragment_text = opcode is Opcode.TEXT
        elif opcode is Opcode.CONT:
            self._fragments.append(frame.data)
            if frame.fin:
                data, self._fragments = b"".join(self._fragments), []
                self._message(data, self._fragment_text)
        elif opcode is Opcode.PONG and frame.data == self._ping_payload:
            self._ping_payload = None
            if self._ping_timer is not None:
                self._ping_timer.cancel()
            self._arm_ping()
        # Pings are answered by the protocol (the pong is in data_to_send); a close frame is
        # echoed by it, and the end shows in connection_lost.

    def _whole_text_frames(self, data: bytes) -> bytes:
        """Take the leading complete, unfragmented, masked text frames of ``data`` as messages;
        return the rest for the protocol.

        Only while the protocol is open with nothing buffered and no fragmented message under
        way, so its state is exactly what it would be had it parsed them: for such a frame it
        only checks the bits tested here and the size limit, and queues it. Anything else (a
        control frame, a fragment, RSV bits, an unmasked frame, a 64-bit length, a frame cut
        by the read) goes to ``ServerProtocol`` from that byte on. Parsing each frame through
        its generator-based reader was the largest part of the stand-in's CPU per message.
        """
        size = len(data)
        pos = 0
        while size - pos >= 6:
            if data[pos] != _FIN_TEXT:
                break
            length = data[pos + 1] ^ 0x80  # the mask bit must be set; then it is the length
            head = pos + 2
            if length >= 126:
                if length != 126:  # 127 (a 64-bit length) or an unmasked frame
                    break
                if size - pos < 8:
                    break
                length = data[head] << 8 | data[head + 1]
                head += 2
            end = head + 4 + length
            if end > size or length > MAX_SIZE:
                break
            self._message(apply_mask(data[head + 4 : end], data[head : head + 4]), True)
            pos = end
            if self._protocol.state is not OPEN:  # invalid UTF-8 failed the connection
                break
        return data[pos:] if pos else data

    def _message(self, data: bytes, text: bool) -> None:
        if not text:
            self._messages.append(data)
            return
        try:
            self._messages.append(data.decode())
        except UnicodeDecodeError as exc:
            self._protocol.fail(
                CloseCode.INVALID_DATA, f"invalid UTF-8 in a text message at byte {exc.start}"
            )

    def _flush(self) -> None:
        transport = self._transport
        if transport is None:
            return
        for data in self._protocol.data_to_send():
            if data:
                transport.write(data)
            elif transport.can_write_eof():
                transport.write_eof()
            else:
                transport.close()
        if self._close_timer is None and self._protocol.close_expected():
            # The client should close TCP once the close handshake is done; not for ever.
            self._close_timer = self._loop.call_later(CLOSE_TIMEOUT_S, transport.abort)

    def _arm_ping(self) -> None:
        if self._protocol.state is OPEN:
            self._ping_timer = self._loop.call_later(PING_INTERVAL_S, self._ping)

    def _ping(self) -> None:
        if self._protocol.state is not OPEN:
            return
        self._ping_payload = urandom(4)
        self._protocol.send_ping(self._ping_payload)
        self._flush()
        self._ping_timer = self._loop.call_later(PING_TIMEOUT_S, self._ping_late)

    def _ping_late(self) -> None:
        if self._protocol.state is OPEN:
            self._protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
            self._flush()

    def _closed_exc(self) -> Exception:
        protocol = self._protocol
        if protocol.state is CLOSED:
            return protocol.close_exc
        return ConnectionClosedError(
            protocol.close_rcvd, protocol.close_sent, protocol.close_rcvd_then_sent
        )


class LeanWebSocketServer:
    """``async with LeanWebSocketServer(handler, path) as srv``: ``srv.port`` on 127.0.0.1.

    ``handler`` runs once per connection whose upgrade request is for ``path``; leaving,
    every open connection gets close code 1012 (service restart, as uvicorn's shutdown sends)
    and every handler is cancelled.
    """

    def __init__(self, handler: Handler, path: str) -> None:
        self._handler = handler
        self.path = path
        self.port = 0
        self.connections: set[LeanWebSocket] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    def start(self, ws: LeanWebSocket) -> None:
        task = asyncio.get_running_loop().create_task(self._run(ws))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, ws: LeanWebSocket) -> None:
        try:
            await self._handler(ws)
        finally:
            # As uvicorn does when an endpoint returns: refuse an unanswered handshake,
            # close an open connection normally.
            if ws._protocol.state is CONNECTING or ws._protocol.state is OPEN:
                await ws.close()

    async def __aenter__(self) -> LeanWebSocketServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: LeanWebSocket(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for ws in list(self.connections):
            if ws._protocol.state is OPEN:
                ws._protocol.send_close(CloseCode.SERVICE_RESTART)
                ws._flush()
            if ws._transport is not None:
                ws._transport.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

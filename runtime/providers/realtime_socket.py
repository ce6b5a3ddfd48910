"""A lean client WebSocket for provider sessions: websockets' Sans-I/O protocol on an
asyncio transport.

A realtime session sends a small message every 20-80 ms per call (OpenAI: a text one, JSON
with base64 audio; Ultravox: a binary one, raw PCM). Through the OpenAI SDK's ``send_raw``
each one paid for the SDK's send queue and ``anyio.get_current_task()``, then websockets'
asyncio ``send`` (a lock, a context manager, a drain); reading, a future per message in
websockets' assembler (``bench/README.md``, "Whole calls on one core"). Here a send is
synchronous (:meth:`RealtimeSocket.send`, :meth:`RealtimeSocket.send_binary`): the masked
frame is built in one step (``wsframe.py``) and ``transport.write`` takes it; a sender awaits
only while the transport has paused writing (its buffer above the high-water mark). Received
frames are parsed in ``data_received`` and whole messages, text or binary, wait in a deque;
the reader takes them without a task wake-up per message, and only when the deque is empty
does it wait on a future.

The protocol itself (handshake, masking, fragments, control frames, the close handshake) is
websockets' (``websockets.client.ClientProtocol``, documented as its Sans-I/O API); this module
adds what its asyncio client adds: the open timeout, keepalive pings with a timeout, a close
timeout, flow control both ways, and UTF-8 checking of text messages. Errors are websockets'
own exceptions (``InvalidStatus``, ``InvalidMessage``, ``ConnectionClosedOK``,
``ConnectionClosedError``), so callers handle them as they would its asyncio client's.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import deque
from collections.abc import Mapping
from os import urandom
from typing import cast

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosedError, InvalidMessage
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import CLOSED, OPEN
from websockets.uri import parse_uri

from runtime.providers.wsframe import masked_binary_frame, masked_text_frame

PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 20.0
"""Keepalive as websockets' asyncio client does by default: a ping every 20 s, and the
connection fails (close code 1011) when its pong is 20 s late."""
CLOSE_TIMEOUT_S = 10.0
"""How long the close handshake, and the server's closing of TCP after it, may take."""
MAX_QUEUE = 64
"""Received messages held before reading from the socket pauses (resumed at a quarter)."""


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """The system trust store, loaded once per process (60-180 ms of CPU: not per call)."""
    return ssl.create_default_context()


class RealtimeSocket(asyncio.Protocol):
    """One client WebSocket connection. Build it with :meth:`connect`.

    Not thread-safe; every method runs on the event loop that opened it.
    """

    def __init__(
        self,
        protocol: ClientProtocol,
        headers: Mapping[str, str],
        *,
        ping_interval: float | None,
        ping_timeout: float,
        close_timeout: float,
        max_queue: int,
    ) -> None:
        self._protocol = protocol
        self._headers = dict(headers)
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._close_timeout = close_timeout
        self._max_queue = max_queue
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._opened: asyncio.Future[None] = self._loop.create_future()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._lost_exc: BaseException | None = None
        self._messages: deque[str | bytes] = deque()
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self._invalid = False
        self._reader: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drainers: list[asyncio.Future[None]] = []
        self._ping_payload: bytes | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._close_timer: asyncio.TimerHandle | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        headers: Mapping[str, str],
        *,
        open_timeout: float | None = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        ping_interval: float | None = PING_INTERVAL_S,
        ping_timeout: float = PING_TIMEOUT_S,
        close_timeout: float = CLOSE_TIMEOUT_S,
        max_size: int | None = None,
        max_queue: int = MAX_QUEUE,
    ) -> RealtimeSocket:
        """Open a connection to ``url`` (``ws://`` or ``wss://``) with ``headers`` added to
        the handshake request.

        Args:
            open_timeout: seconds for TCP, TLS and the handshake together (``None``: none).
            ssl_context: for ``wss://``; :func:`default_ssl_context` when ``None``.
            ping_interval: seconds between keepalive pings (``None``: no pings).
            max_size: largest message accepted, in bytes (``None``: no limit; a bigger one
                fails the connection with close code 1009).

        Raises:
            websockets.exceptions.InvalidStatus: the server refused the handshake (its HTTP
                status is on ``exc.response``).
            websockets.exceptions.InvalidHandshake: any other handshake failure.
            TimeoutError: not open within ``open_timeout``.
            OSError: the TCP or TLS connection failed.
        """
        wsuri = parse_uri(url)
        protocol = ClientProtocol(wsuri, max_size=max_size)
        socket = cls(
            protocol,
            headers,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            close_timeout=close_timeout,
            max_queue=max_queue,
        )
        tls = (ssl_context or default_ssl_context()) if wsuri.secure else None
        try:
            async with asyncio.timeout(open_timeout):
                await socket._loop.create_connection(
                    lambda: socket, wsuri.host, wsuri.port, ssl=tls
                )
                await socket._opened
        except BaseException:
            socket._opened.cancel()  # no one will read how the handshake ends
            socket._abort()
            raise
        socket._arm_ping()
        return socket

    # ---- use ----------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send one text message, now: its frame is in the transport when this returns.

        Raises:
            websockets.exceptions.ConnectionClosed: the connection is closing or closed.
        """
        self._open_transport().write(masked_text_frame(text.encode(), urandom(4)))

    def send_binary(self, data: bytes) -> None:
        """Send one binary message, now, as :meth:`send` does a text one.

        Raises:
            websockets.exceptions.ConnectionClosed: the connection is closing or closed.
        """
        self._open_transport().write(masked_binary_frame(data, urandom(4)))

    def _open_transport(self) -> asyncio.Transport:
        """The transport a message frame may be written to now.

        The frame is built by the caller, not by the protocol (``wsframe.py``); the byte
        stream stays in order because every protocol call is followed by a flush of what it
        queued.
        """
        transport = self._transport
        if self._protocol.state is not OPEN or transport is None or transport.is_closing():
            raise self._closed_exc()
        return transport

    @property
    def writing_paused(self) -> bool:
        """The transport's buffer is above its high-water mark: :meth:`drain` before more."""
        return self._writing_paused

    async def drain(self) -> None:
        """Wait until the transport takes writes again (at once when it is not paused).

        Raises:
            websockets.exceptions.ConnectionClosed: the connection was lost meanwhile.
        """
        if not self._writing_paused:
            return
        if self._lost.done():
            raise self._closed_exc()
        waiter = self._loop.create_future()
        self._drainers.append(waiter)
        await waiter
        if self._lost.done():
            raise self._closed_exc()

    async def recv(self) -> str | bytes:
        """The next message: ``str`` for a text one (checked as UTF-8), ``bytes`` for binary.

        One reader at a time. Messages received before the connection closed are all
        returned first; none after an invalid one.

        Raises:
            websockets.exceptions.ConnectionClosedOK: closed normally (1000 or 1001 both ways).
            websockets.exceptions.ConnectionClosedError: closed otherwise (a dropped TCP
                connection, a protocol error, invalid UTF-8, a keepalive timeout).
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
        if self._reading_paused and len(messages) <= self._max_queue // 4:
            self._reading_paused = False
            if self._transport is not None and not self._transport.is_closing():
                self._transport.resume_reading()
        return message

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close handshake, then wait for the server to close TCP (at most ``close_timeout``
        after the close frame was sent; then the connection is aborted, as it is at once if
        the caller stops waiting)."""
        if self._protocol.state is OPEN:
            self._protocol.send_close(code, reason)
            self._flush()
        elif self._transport is not None and not self._protocol.close_expected():
            self._transport.close()
        try:
            await asyncio.shield(self._lost)
        except asyncio.CancelledError:
            self._abort()
            raise

    @property
    def close_code(self) -> int | None:
        """The close code the server sent (1006 when TCP closed without one); ``None`` while
        open."""
        return self._protocol.close_code

    # ---- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        request = self._protocol.connect()
        for name, value in self._headers.items():
            request.headers[name] = value
        self._protocol.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        protocol = self._protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
            elif isinstance(event, Response):
                self._on_response()
        self._flush()
        if len(self._messages) >= self._max_queue and not self._reading_paused:
            self._reading_paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        reader = self._reader
        if self._messages and reader is not None and not reader.done():
            reader.set_result(None)

    def eof_received(self) -> None:
        self._protocol.receive_eof()
        self._flush()  # None: the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost_exc = exc
        self._protocol.receive_eof()  # idempotent; the state becomes CLOSED
        self._protocol.data_to_send()  # nowhere to send it
        for timer in (self._ping_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        if not self._opened.done():
            self._opened.set_exception(
                self._protocol.handshake_exc
                or InvalidMessage("the connection closed during the opening handshake")
            )
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

    # ---- internals ----------------------------------------------------------------------

    def _on_response(self) -> None:
        if self._opened.done():
            return
        exc = self._protocol.handshake_exc
        if exc is None:
            self._opened.set_result(None)
        else:
            self._opened.set_exception(exc)

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
        # Pings are answered by the protocol (the pong is in data_to_send); a close frame
        # is echoed by it, and the end shows in connection_lost.

    def _message(self, data: bytes, text: bool) -> None:
        if self._invalid:
            return  # frames parsed in the same read as the invalid one
        if not text:
            # The parser hands over a frame's payload as a bytearray; readers get ``bytes``.
            self._messages.append(data if type(data) is bytes else bytes(data))
            return
        try:
            self._messages.append(data.decode())
        except UnicodeDecodeError as exc:
            self._invalid = True
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
        if self._close_timer is None and self._protocol.close_expected():
            # The client waits for the server to close TCP after the close handshake (or a
            # failed handshake), but not for ever.
            self._close_timer = self._loop.call_later(self._close_timeout, self._abort)

    def _abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _arm_ping(self) -> None:
        if self._ping_interval is not None and self._protocol.state is OPEN:
            self._ping_timer = self._loop.call_later(self._ping_interval, self._ping)

    def _ping(self) -> None:
        if self._protocol.state is not OPEN:
            return
        self._ping_payload = urandom(4)
        self._protocol.send_ping(self._ping_payload)
        self._flush()
        self._ping_timer = self._loop.call_later(self._ping_timeout, self._ping_late)

    def _ping_late(self) -> None:
        if self._protocol.state is OPEN:
            self._protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
            self._flush()

    def _closed_exc(self) -> Exception:
        protocol = self._protocol
        if protocol.state is CLOSED:
            exc: Exception = protocol.close_exc
        else:  # closing: the close frames are known, the TCP end is not yet
            exc = ConnectionClosedError(
                protocol.close_rcvd, protocol.close_sent, protocol.close_rcvd_then_sent
            )
        if exc.__cause__ is None and self._lost_exc is not None:
            exc.__cause__ = self._lost_exc
        return exc

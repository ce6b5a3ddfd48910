"""The AudioSocket TCP server: Asterisk connects, sends the call's UUID, then media flows.

One :class:`MediaSession` per connection, keyed by the UUID. Sessions are routed two ways:

* ``await server.accept(call_id, timeout)`` -- the conversation for an outbound attempt waits
  for *its* call (the UUID is the attempt id). The call may arrive before or after ``accept``
  is called; an early arrival is held until claimed.
* ``async for session in server.sessions()`` -- every session nobody called ``expect`` /
  ``accept`` for (inbound calls with fresh UUIDs), in arrival order.

A connection that does not start with a valid UUID message within ``uuid_timeout`` seconds is
closed. A malformed stream ends only its own call (logged with the call id); the server and
the other calls keep going.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from telephony.audio.recording import CallRecorder
from telephony.audiosocket import codec
from telephony.audiosocket.session import MediaSession

log = logging.getLogger(__name__)


def canonical_call_id(call_id: str | uuid.UUID) -> str:
    """The canonical 36-char lower-case form of a UUID (raises ``ValueError`` otherwise)."""
    return str(call_id if isinstance(call_id, uuid.UUID) else uuid.UUID(call_id))


class AudioSocketServer:
    """Serve AudioSocket calls on ``host:port`` (port 0 picks a free one; see :attr:`address`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        uuid_timeout: float = 5.0,
        record_dir: str | Path | None = None,
        trace: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.uuid_timeout = uuid_timeout
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.trace = trace
        self._server: asyncio.Server | None = None
        self._active: dict[str, MediaSession] = {}
        self._unclaimed: dict[str, MediaSession] = {}
        self._waiters: dict[str, asyncio.Future[MediaSession]] = {}
        self._expected: set[str] = set()
        self._abandoned: set[str] = set()
        self._inbound: asyncio.Queue[MediaSession] = asyncio.Queue()
        self._handlers: set[asyncio.Task[None]] = set()
        self.rejected_connections = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.host, self.port)

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the server listens on."""
        if self._server is None:
            raise RuntimeError("AudioSocketServer.start() has not been awaited")
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    @property
    def address_text(self) -> str:
        """``host:port`` as the dialplan's ``AudioSocket()`` expects it."""
        host, port = self.address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def active(self) -> dict[str, MediaSession]:
        """Calls currently connected, by call id."""
        return dict(self._active)

    def expect(self, call_id: str) -> None:
        """Mark ``call_id`` as an outbound call someone will ``accept`` (not an inbound one)."""
        self._expected.add(canonical_call_id(call_id))

    async def accept(self, call_id: str, timeout: float) -> MediaSession:  # noqa: ASYNC109 - agreed API
        """The session of ``call_id``, waiting up to ``timeout`` seconds for it to connect.

        Raises:
            TimeoutError: the call did not connect in time.
        """
        key = canonical_call_id(call_id)
        session = self._unclaimed.pop(key, None)
        if session is not None:
            return session
        self._expected.add(key)
        future = self._waiters.get(key)
        if future is None or future.done():
            future = self._waiters[key] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            # Nobody will run this conversation: if the call connects later, hang it up
            # rather than mistaking it for an inbound call.
            self._abandoned.add(key)
            raise
        finally:
            if self._waiters.get(key) is future and not future.done():
                del self._waiters[key]
                self._expected.discard(key)

    async def sessions(self) -> AsyncIterator[MediaSession]:
        """Inbound sessions (UUIDs nobody expected), in arrival order; runs until cancelled."""
        while True:
            session = await self._inbound.get()
            if self._unclaimed.pop(session.call_id, None) is session:
                yield session

    async def close(self) -> None:
        """Stop listening and end every call (each gets a hang-up message)."""
        if self._server is not None:
            self._server.close()
        for session in list(self._active.values()):
            session._end("server_closed")
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def __aenter__(self) -> AudioSocketServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- connection handling ------------------------------------------------------------

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._handle(reader, writer))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            call_id = await asyncio.wait_for(self._read_uuid(reader), self.uuid_timeout)
        except (
            codec.ProtocolError,
            TimeoutError,
            asyncio.IncompleteReadError,
            ConnectionError,
            OSError,
        ) as exc:
            self.rejected_connections += 1
            log.warning(
                "AudioSocket connection from %s rejected before UUID: %s",
                peer,
                exc or type(exc).__name__,
            )
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        if call_id in self._active:
            self.rejected_connections += 1
            log.warning("call %s: a second connection with the same UUID was refused", call_id)
            writer.close()
            return
        recorder = CallRecorder(self.record_dir, call_id) if self.record_dir is not None else None
        session = MediaSession(call_id, reader, writer, recorder=recorder, trace=self.trace)
        self._active[call_id] = session
        self._route(session)
        try:
            await session.run()
        except Exception:
            log.exception("call %s: session failed", call_id)
        finally:
            self._active.pop(call_id, None)
            self._unclaimed.pop(call_id, None)
            log.info("call %s ended: %s", call_id, session.close_reason)

    async def _read_uuid(self, reader: asyncio.StreamReader) -> str:
        header = await reader.readexactly(codec.HEADER.size)
        kind, length = codec.HEADER.unpack(header)
        if kind != codec.KIND_UUID or length != 16:
            raise codec.ProtocolError(
                f"first message must be a UUID, got kind 0x{kind:02x} length {length}"
            )
        return str(uuid.UUID(bytes=await reader.readexactly(16)))

    def _route(self, session: MediaSession) -> None:
        if session.call_id in self._abandoned:
            self._abandoned.discard(session.call_id)
            log.warning("call %s connected after accept() gave up; hanging it up", session.call_id)
            session._end("abandoned")
            return
        waiter = self._waiters.pop(session.call_id, None)
        if waiter is not None and not waiter.done():
            self._expected.discard(session.call_id)
            waiter.set_result(session)
            return
        self._unclaimed[session.call_id] = session
        if session.call_id in self._expected:
            self._expected.discard(session.call_id)
        else:
            self._inbound.put_nowait(session)

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
from telephony.audiosocket.connection import AudioSocketConnection
from telephony.audiosocket.pacer import Lateness, Pacer
from telephony.audiosocket.session import CLOSE_TIMEOUT_S, MediaSession

log = logging.getLogger(__name__)

RECEIVE_BUFFER_SIZE = 65536
"""The receive buffer every connection of a server reads into (see connection.py)."""


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
        send_buffer: int | None = None,
        keepalive: bool = True,
        lateness: Lateness | None = None,
    ) -> None:
        """See the class docstring; ``send_buffer`` sets each call socket's ``SO_SNDBUF``;
        ``lateness`` counts how late the pacer sends each frame (metrics on).

        By default the kernel sizes (and grows) the send buffer itself, up to megabytes:
        minutes of audio could sit there if Asterisk stopped reading. A small value bounds
        that, so the write buffer fills, the call's frames are held (the pacer skips it)
        until the socket drains, and ``played_ms`` stays close to what the caller heard.
        """
        self.host = host
        self.port = port
        self.uuid_timeout = uuid_timeout
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.trace = trace
        self.send_buffer = send_buffer
        self.keepalive = keepalive
        """Every call sends 20 ms of silence when it has nothing queued (see session.py)."""
        self.lateness = lateness
        self._server: asyncio.Server | None = None
        self._active: dict[str, MediaSession] = {}
        self._unclaimed: dict[str, MediaSession] = {}
        self._waiters: dict[str, asyncio.Future[MediaSession]] = {}
        self._expected: set[str] = set()
        self._abandoned: set[str] = set()
        self._inbound: asyncio.Queue[MediaSession] = asyncio.Queue()
        self._connections: set[AudioSocketConnection] = set()
        self._pacer: Pacer
        self._receive_buffer = memoryview(bytearray(RECEIVE_BUFFER_SIZE))
        self.rejected_connections = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._pacer = Pacer(loop, lateness=self.lateness)
        self._server = await loop.create_server(
            lambda: AudioSocketConnection(self, self._receive_buffer), self.host, self.port
        )

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

    def forget(self, call_id: str) -> None:
        """Undo :meth:`expect` for a call that will never connect (busy, no answer, failed).

        A call someone is waiting for in :meth:`accept` is left as it is.
        """
        key = canonical_call_id(call_id)
        if key not in self._waiters:
            self._expected.discard(key)

    @property
    def expected(self) -> int:
        """How many outbound calls are expected and not connected yet (for health figures)."""
        return len(self._expected)

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
        for connection in list(self._connections):
            if connection.session is None:
                connection.abort()
        sessions = list(self._active.values())
        for session in sessions:
            session._end("server_closed")
        if sessions:
            # Each session's socket is aborted after CLOSE_TIMEOUT_S if its peer stopped
            # reading, so this wait is bounded; the timeout is a second line of defence.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(s.closed.wait() for s in sessions)), CLOSE_TIMEOUT_S + 1.0
                )
        if self._server is not None:
            self._pacer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    @property
    def pacer(self) -> Pacer:
        """The pacer of this server's calls (after :meth:`start`)."""
        return self._pacer

    async def __aenter__(self) -> AudioSocketServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- connection handling (called by AudioSocketConnection) ------------------------------

    def _open_session(self, call_id: str, transport: asyncio.Transport) -> MediaSession | None:
        """The session of a connection whose UUID just arrived; None if it is refused."""
        if call_id in self._active:
            self.rejected_connections += 1
            log.warning("call %s: a second connection with the same UUID was refused", call_id)
            return None
        recorder = CallRecorder(self.record_dir, call_id) if self.record_dir is not None else None
        session = MediaSession(
            call_id,
            transport,
            self._pacer,
            recorder=recorder,
            trace=self.trace,
            on_closed=self._session_closed,
            keepalive=self.keepalive,
        )
        self._active[call_id] = session
        self._route(session)
        session.start_keepalive()
        return session

    def _session_closed(self, session: MediaSession) -> None:
        if self._active.get(session.call_id) is session:
            del self._active[session.call_id]
        if self._unclaimed.get(session.call_id) is session:
            del self._unclaimed[session.call_id]
        log.info("call %s ended: %s", session.call_id, session.close_reason)

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

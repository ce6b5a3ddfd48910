"""The asyncio protocol of one AudioSocket connection: the UUID handshake, then the call.

A protocol instead of a reader task per call: the transport hands each read straight to
:meth:`AudioSocketConnection.buffer_updated`, which feeds the call's incremental decoder, with
no future or task wake-up per read, then lets the server's pacer send any frame that has come
due (:meth:`~telephony.audiosocket.pacer.Pacer.poll`), so outgoing audio never waits for the
rest of a burst of reads. Reads land in one receive buffer shared by every
connection of a server (``recv_into``, no allocation per read); that is safe because the event
loop fills it and calls ``buffer_updated`` back to back, and the decoder copies out whatever
it keeps.

Flow control is the transport's own: above its high-water mark it calls ``pause_writing`` and
this call's frames are held (queued, not dropped) until ``resume_writing``; other calls are not
affected.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from typing import TYPE_CHECKING, cast

from telephony.audiosocket import codec

if TYPE_CHECKING:
    from telephony.audiosocket.server import AudioSocketServer
    from telephony.audiosocket.session import MediaSession

log = logging.getLogger(__name__)

_UUID_MESSAGE_SIZE = codec.HEADER.size + 16


class AudioSocketConnection(asyncio.BufferedProtocol):
    """One TCP connection to an :class:`~telephony.audiosocket.AudioSocketServer`.

    Until the first message (the call's UUID) is complete it is a handshake; after that every
    read goes to the call's :class:`~telephony.audiosocket.MediaSession`.
    """

    def __init__(self, server: AudioSocketServer, receive_buffer: memoryview) -> None:
        self._server = server
        self._receive_buffer = receive_buffer
        self._poll_pacer = server._pacer.poll
        self._transport: asyncio.Transport | None = None
        self._handshake = bytearray()
        self._uuid_timer: asyncio.TimerHandle | None = None
        self._refused = False
        self.peer: object = None
        self.session: MediaSession | None = None

    # ---- asyncio protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self.peer = transport.get_extra_info("peername")
        if self._server.send_buffer is not None:
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self._server.send_buffer)
        self._uuid_timer = asyncio.get_running_loop().call_later(
            self._server.uuid_timeout, self._refuse, "no UUID message in time"
        )
        self._server._connections.add(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._receive_buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = self._receive_buffer[:nbytes]
        session = self.session
        try:
            if session is not None:
                session._feed(data)
            elif not self._refused:
                self._on_handshake(data)
        except Exception:
            # A bug, not the peer's fault: end this call only, never the server.
            log.exception("call %s: reading failed", session.call_id if session else self.peer)
            if self.session is not None:
                self.session._end("internal_error")
            else:
                self._refuse("internal error")
        self._poll_pacer()  # frames due during a long burst of reads leave now, not after it

    def eof_received(self) -> None:
        if self.session is not None:
            self.session._end("remote_hangup")
        else:
            self._refuse("closed before sending its UUID")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._uuid_timer is not None:
            self._uuid_timer.cancel()
        self._server._connections.discard(self)
        if self.session is not None:
            self.session._connection_lost(exc)
        elif not self._refused:
            self._refuse(f"connection lost before its UUID: {exc or 'closed'}")

    def pause_writing(self) -> None:
        if self.session is not None:
            self.session.paused = True

    def resume_writing(self) -> None:
        session = self.session
        if session is not None:
            session.paused = False
            self._server._pacer.kick(session)

    # ---- handshake ------------------------------------------------------------------------

    def _on_handshake(self, data: memoryview) -> None:
        handshake = self._handshake
        handshake += data
        if len(handshake) < codec.HEADER.size:
            return
        kind, length = codec.HEADER.unpack_from(handshake)
        if kind != codec.KIND_UUID or length != 16:
            self._refuse(f"first message must be a UUID, got kind 0x{kind:02x} length {length}")
            return
        if len(handshake) < _UUID_MESSAGE_SIZE:
            return
        if self._uuid_timer is not None:
            self._uuid_timer.cancel()
            self._uuid_timer = None
        call_id = str(uuid.UUID(bytes=bytes(handshake[codec.HEADER.size : _UUID_MESSAGE_SIZE])))
        rest = bytes(handshake[_UUID_MESSAGE_SIZE:])
        handshake.clear()
        assert self._transport is not None
        session = self._server._open_session(call_id, self._transport)
        if session is None:
            self._refused = True
            self._transport.close()
            return
        self.session = session
        if rest:
            session._feed(rest)

    def _refuse(self, why: str) -> None:
        """Close a connection that never became a call (counted, logged with the peer)."""
        if self._refused or self.session is not None:
            return
        self._refused = True
        self._server.rejected_connections += 1
        log.warning("AudioSocket connection from %s rejected before UUID: %s", self.peer, why)
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop a connection still in its handshake (the server is closing)."""
        self._refused = True
        if self._transport is not None:
            self._transport.abort()

"""The worker's media as its activities see it: one AudioSocket server, one gateway.

Outbound calls are dialled by the ``dial`` activity and their media is taken by ``converse``;
inbound calls arrive unannounced and are held here until their ``converse`` takes them. Both
kinds reach ``converse`` through :meth:`CallMedia.accept`, so it never needs to know which
direction a call has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from telephony.ami.gateway import InboundChannel
from telephony.audiosocket.server import canonical_call_id
from telephony.audiosocket.session import MediaSession
from telephony.gateway import CallEvent, DialRequest, DialResult, Gateway

log = logging.getLogger(__name__)

HOLD_S = 60.0
"""A held session no conversation claims within this is hung up (the converse activity
waits 30 s for its media, so a started workflow claims it well before)."""


class _Server(Protocol):
    def expect(self, call_id: str) -> None: ...

    def forget(self, call_id: str) -> None: ...

    async def accept(self, call_id: str, timeout: float) -> MediaSession: ...  # noqa: ASYNC109

    def sessions(self) -> AsyncIterator[MediaSession]: ...


class CallMedia:
    """The worker's AudioSocket server and gateway, shared by dial, converse and inbound calls.

    ``gateway`` marks every call it dials as outbound (``server.expect``) before the originate,
    so an answered call whose media arrives before its ``converse`` activity is never taken for
    an inbound one. :meth:`accept` gives ``converse`` an inbound call's held session, or waits
    for an outbound call's as the server does.
    """

    def __init__(self, server: _Server, gateway: Gateway, *, hold_s: float = HOLD_S) -> None:
        self.server = server
        self.gateway = _MarkingGateway(gateway, server)
        self.hold_s = hold_s
        self._held: dict[str, tuple[MediaSession, asyncio.TimerHandle]] = {}
        self._hangups: set[asyncio.Task[None]] = set()

    def hold(self, session: MediaSession) -> None:
        """Keep ``session`` for the ``converse`` activity of its call (hung up after ``hold_s``)."""
        timer = asyncio.get_running_loop().call_later(self.hold_s, self._expire, session.call_id)
        self._held[session.call_id] = (session, timer)

    def release(self, call_id: str) -> MediaSession | None:
        held = self._held.pop(call_id, None)
        if held is None:
            return None
        held[1].cancel()
        return held[0]

    def held(self) -> list[str]:
        """Call ids of sessions held for a conversation that has not claimed them yet."""
        return list(self._held)

    async def accept(self, call_id: str, timeout: float) -> MediaSession:  # noqa: ASYNC109
        """The media session of ``call_id``: a held inbound one, else the server's."""
        session = self.release(canonical_call_id(call_id))
        if session is not None:
            return session
        return await self.server.accept(call_id, timeout=timeout)

    def _expire(self, call_id: str) -> None:
        session = self.release(call_id)
        if session is None or session.closed.is_set():
            return
        log.warning(
            "inbound call %s: no conversation took its media within %g s; hanging up",
            call_id,
            self.hold_s,
        )
        task = asyncio.create_task(session.hangup())
        self._hangups.add(task)
        task.add_done_callback(self._hangups.discard)


class _MarkingGateway:
    """The worker's gateway; ``place_call`` first tells the AudioSocket server to expect it."""

    def __init__(self, gateway: Gateway, server: _Server) -> None:
        self._gateway = gateway
        self._server = server

    async def place_call(self, request: DialRequest) -> DialResult:
        self._server.expect(request.attempt_id)
        try:
            result = await self._gateway.place_call(request)
        except BaseException:
            self._server.forget(request.attempt_id)
            raise
        if not result.answered:  # no media will come: keep no mark behind
            self._server.forget(request.attempt_id)
        return result

    def events(self, attempt_id: str) -> AsyncIterator[CallEvent]:
        return self._gateway.events(attempt_id)

    async def hangup(self, attempt_id: str) -> None:
        await self._gateway.hangup(attempt_id)

    async def transfer(self, attempt_id: str, to: str) -> None:
        await self._gateway.transfer(attempt_id, to)

    async def send_dtmf(self, attempt_id: str, digits: str) -> None:
        await self._gateway.send_dtmf(attempt_id, digits)

    async def close(self) -> None:
        await self._gateway.close()

    async def inbound_channel(self, call_id: str, timeout: float) -> InboundChannel | None:  # noqa: ASYNC109
        """The gateway's ``inbound_channel``; ``None`` from a gateway that cannot tell."""
        lookup = getattr(self._gateway, "inbound_channel", None)
        return None if lookup is None else await lookup(call_id, timeout)

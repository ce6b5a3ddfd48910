"""Waiting for an answered call's media, without outliving its channel.

An answered outbound call normally reaches the worker's AudioSocket server within a second or
two. It never does when the callee hangs up first: during ``AMD()`` (``AMDSTATUS=HANGUP``),
or between the answer and the ``AudioSocket()`` connect. The PBX says so on AMI (the
channel's ``Hangup``) long before any media timeout, so :func:`wait_for_media` watches both
and ends as soon as either speaks. It heartbeats while it waits, so an activity's heartbeat
timeout never fires during a legitimate wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from telephony.audiosocket.session import MediaSession
from telephony.gateway import CallEvent

HEARTBEAT_EVERY_S = 5.0


class ChannelGone(Exception):
    """The call's channel hung up before its media connected."""

    def __init__(self, call_id: str, cause: int | None) -> None:
        super().__init__(
            f"call {call_id}: the channel hung up (cause {cause}) before its AudioSocket connected"
        )
        self.call_id = call_id
        self.cause = cause


class _Accepts(Protocol):
    async def accept(self, call_id: str, timeout: float) -> MediaSession: ...  # noqa: ASYNC109


async def wait_for_media(
    server: _Accepts,
    gateway: Any,
    call_id: str,
    timeout: float,  # noqa: ASYNC109 - the media wait is the contract
    *,
    heartbeat: Callable[[], None] | None = None,
    heartbeat_every: float = HEARTBEAT_EVERY_S,
) -> MediaSession:
    """The media session of ``call_id``, unless its channel hangs up first.

    Args:
        server: anything with the AudioSocket server's ``accept(call_id, timeout)``.
        gateway: the call's gateway; its ``events(call_id)`` tell when the channel hung up.
            ``None`` (or a gateway that does not know the call) leaves only the timeout.
        heartbeat: called at once and every ``heartbeat_every`` seconds while waiting.

    Raises:
        TimeoutError: no media within ``timeout`` seconds.
        ChannelGone: the channel hung up first.
    """
    accept = asyncio.ensure_future(server.accept(call_id, timeout=timeout))
    gone = asyncio.ensure_future(_hangup(gateway, call_id))
    try:
        while True:
            if heartbeat is not None:
                heartbeat()
            done, _ = await asyncio.wait(
                {accept, gone}, timeout=heartbeat_every, return_when=asyncio.FIRST_COMPLETED
            )
            if accept in done:  # a session that came with the hang-up still wins: it ends itself
                return accept.result()
            if gone in done:
                raise ChannelGone(call_id, gone.result().cause)
    finally:
        for task in (accept, gone):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await task


async def _hangup(gateway: Any, call_id: str) -> CallEvent:
    """The call's ``hangup`` event; never returns when the gateway cannot tell."""
    events = getattr(gateway, "events", None)
    if events is not None:
        async for event in events(call_id):
            if event.kind == "hangup":
                return event
    await asyncio.Event().wait()  # no hang-up will be reported: leave it to the timeout
    raise AssertionError("unreachable")

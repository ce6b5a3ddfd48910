"""What every socket-based provider adapter shares: one reader task, one event queue, one way
to end.

An adapter reads its provider's socket in a reader task and turns what arrives into
:data:`~runtime.providers.base.ProviderEvent` values with :meth:`EventStream._emit`; the
bridge consumes them through :meth:`EventStream.events`, which ends after
:meth:`EventStream._finish`. Hanging up closes the socket first, then stops the reader, so a
reader that sees the socket close while ``_closing`` is set knows it was asked to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from runtime.providers.base import ProviderEvent


class EventStream:
    """The event side of a provider adapter (a mixin: call :meth:`_init_stream` in ``__init__``)."""

    _events: asyncio.Queue[ProviderEvent | None]
    _reader: asyncio.Task[None] | None
    _closing: bool
    _finished: bool

    def _init_stream(self) -> None:
        self._events = asyncio.Queue()
        self._reader = None
        self._closing = False
        self._finished = False

    async def events(self) -> AsyncIterator[ProviderEvent]:
        """The provider's events, in order, until the session ends."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            delivered = self._deliver(event)
            if delivered is not None:
                yield delivered

    def _deliver(self, event: ProviderEvent) -> ProviderEvent | None:
        """The last look at ``event`` as the bridge takes it (``None`` drops it).

        Queued events can go stale between the reader and the bridge: the bridge's answer to
        one event (a barge-in) may be what makes the next one stale.
        """
        return event

    def _emit(self, event: ProviderEvent) -> None:
        if not self._finished:
            self._events.put_nowait(event)

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._events.put_nowait(None)

    async def _shut_down(self, close: Callable[[], Awaitable[None]]) -> None:
        """Mark the end as asked for, ``close`` the socket, stop the reader, end the stream."""
        self._closing = True
        await close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        self._finish()

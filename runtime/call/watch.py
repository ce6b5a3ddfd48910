"""One timer per event loop for every call's clock checks (ticks, silence, speech drained).

Each call's bridge used to sleep in a loop, waking every 100 ms to see whether a ``Tick``,
a ``Silence`` or a ``SpeechFinished`` was due: at 200 calls that is 2,000 task wake-ups a
second (a future, a timer handle and a task step each) for checks that almost always find
nothing. A :class:`Watch` instead runs every registered check, synchronously, from a single
``loop.call_at`` timer on a shared grid of ``period`` seconds; a check that finds work due
wakes its call's task, which then does exactly what the sleeping loop did. The grid is the
same 100 ms as before, so what a call sees is unchanged: a check runs at most ``period``
after the moment its condition became true (plus whatever the loop is late), as it did.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

WATCH_S = 0.1
"""How often every call's clock is checked."""

Check = Callable[[float], None]
"""Called with ``time.monotonic()``; must be quick and must not block."""


class Watch:
    """Runs every registered check each ``period`` seconds from one timer on ``loop``.

    ``loop`` gives the timer (``time``, ``call_at``; tests pass a hand-cranked stand-in);
    the checks are given ``clock()``, the clock the bridge keeps its own times on.

    The timer runs only while at least one check is registered. A check that raises is
    logged and removed; the others go on.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        period: float = WATCH_S,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loop = loop
        self._clock = clock
        self.period = period
        self._checks: dict[Check, None] = {}  # insertion-ordered, so checks run in that order
        self._timer: asyncio.TimerHandle | None = None
        self._tick = -1
        """The grid tick (``tick * period`` on the loop's clock) the timer was last armed for."""
        self.wakeups = 0
        """Timer wake-ups so far (a benchmark figure)."""

    def __len__(self) -> int:
        return len(self._checks)

    def add(self, check: Check) -> None:
        self._checks[check] = None
        if self._timer is None:
            self._arm()

    def discard(self, check: Check) -> None:
        self._checks.pop(check, None)
        if not self._checks and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        # On the shared grid (multiples of ``period`` on the loop's clock): the next tick after
        # now, and never the tick just run again (uvloop's timers may fire a hair early).
        self._tick = max(self._tick + 1, math.floor(self._loop.time() / self.period) + 1)
        self._timer = self._loop.call_at(self._tick * self.period, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.wakeups += 1
        now = self._clock()
        for check in list(self._checks):
            try:
                check(now)
            except Exception:
                log.exception("call clock check failed; it was dropped")
                self._checks.pop(check, None)
        if self._checks:
            self._arm()


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watch] = weakref.WeakKeyDictionary()


def shared_watch() -> Watch:
    """The running loop's :class:`Watch` (made on first use)."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = Watch(loop)
    return watch

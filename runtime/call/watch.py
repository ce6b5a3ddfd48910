"""One timer per event loop for every call's clock checks (ticks, silence, speech drained).

Each call's bridge used to sleep in a loop, waking every 100 ms to see whether a ``Tick``,
a ``Silence`` or a ``SpeechFinished`` was due: at 200 calls that is 2,000 task wake-ups a
second (a future, a timer handle and a task step each) for checks that almost always find
nothing. A :class:`Watch` instead runs every registered check, synchronously, from a single
``loop.call_at`` timer on a shared grid of ``period`` seconds; a check that finds work due
wakes its call's task, which then does exactly what the sleeping loop did. The grid is the
same 100 ms as before, so what a call sees is unchanged: a check runs at most ``period``
after the moment its condition became true (plus whatever the loop is late), as it did.
:class:`QuietTimer` is the silence part of a call's check (the node's threshold is looked up
once per node, not on every check).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable

from dsl.ir import SilenceTransition
from runtime.engine import Engine

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


class QuietTimer:
    """When a call's ``Silence`` events are due: the current node's ``on silence`` threshold
    after the last sign of life, then again after each further threshold of quiet."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.since = time.monotonic()
        self.sent = 0
        self._node: str | None = None
        self._threshold: int | None = None

    def reset(self, now: float) -> None:
        """The caller or the agent just did something: quiet starts again at ``now``."""
        self.since = now
        self.sent = 0

    def due(self, now: float) -> bool:
        if self._engine.state.ended:
            return False
        threshold = self.threshold()
        quiet_ms = int((now - self.since) * 1000)
        return threshold is not None and quiet_ms >= threshold * (self.sent + 1)

    def fire(self, now: float) -> int:
        """Count one ``Silence`` sent at ``now``; returns its quiet time in ms."""
        self.sent += 1
        return int((now - self.since) * 1000)

    def threshold(self) -> int | None:
        """The current node's silence threshold in ms (looked up once per node)."""
        node = self._engine.state.node
        if node is None:
            return None
        if node != self._node:
            self._node = node
            transitions = self._engine.node.transitions
            self._threshold = next(
                (t.after_ms for t in transitions if isinstance(t, SilenceTransition)), None
            )
        return self._threshold

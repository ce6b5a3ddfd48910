"""One pacer per server: every call's outgoing frames on absolute 20 ms deadlines, one timer.

A sleeping writer task per call costs a future, a timer handle and a task step per frame, and
wakes the loop once per call per frame. The pacer instead keeps the streams with queued audio
in a heap ordered by their next deadline and arms a single ``loop.call_at`` timer for the
earliest one. Each wake-up sends every frame whose deadline has come, then re-arms.

Outgoing audio comes first: a long burst of reads (a loop that fell behind, or hundreds of
calls' frames arriving in the same instant) would otherwise hold every due frame until the
burst is processed, since the timer only fires between loop iterations. The connections call
:meth:`Pacer.poll` after each read, which sends whatever has come due right there, so what the
callers hear stays on time while incoming audio waits a little.

Each stream keeps its own phase: its deadlines are its first frame's time plus k * 20 ms, so
calls that started at different moments do not all burst on the same tick. A stream that is
late by less than ``max_lag_s`` catches up (its next deadline is still the grid's); one later
than that (a stalled loop) restarts its grid at "now" instead of bursting the backlog.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from bisect import bisect_left
from heapq import heappop, heappush
from typing import Protocol

log = logging.getLogger(__name__)

FRAME_S = 0.020
MAX_LAG_S = 0.200
"""A stream more than this late (a stalled loop) restarts its schedule instead of bursting."""
COALESCE_S = 0.001
"""Default timer quantum: at most 1,000 wake-ups a second however many calls, for at most
1 ms of added lateness (a timer per distinct deadline would wake the loop for nearly every
frame once calls have spread-out phases)."""
_EPSILON_S = 1e-6
"""Deadlines this close to "now" are due: timers may fire a hair early (clock resolution,
float rounding of a coalescing tick), and re-arming for a microsecond would waste a wake-up."""


LATE_S = 0.005
"""A frame that leaves more than this after its deadline counts as late."""
LATENESS_BOUNDS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
"""Upper bounds of the lateness histogram's buckets (the last bucket is everything above)."""


class Lateness:
    """How late the pacer's frames left: a histogram kept in plain ints.

    The pacer adds one sample per frame sent (50 a second per call), so this costs a bisect
    and three additions, never a metrics library call; an exporter reads the counts when it
    is scraped (``runtime/observability/collectors.py``).
    """

    __slots__ = ("buckets", "count", "late", "sum_s")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENESS_BOUNDS_S) + 1)
        """Samples per bucket (not cumulative): ``buckets[i]`` holds those <= bound ``i``."""
        self.count = 0
        self.sum_s = 0.0
        self.late = 0
        """Samples above :data:`LATE_S`."""

    def add(self, seconds: float) -> None:
        self.buckets[bisect_left(LATENESS_BOUNDS_S, seconds)] += 1
        self.count += 1
        self.sum_s += seconds
        if seconds > LATE_S:
            self.late += 1


class PacedStream(Protocol):
    """What the pacer needs from a call's outgoing side.

    ``next_deadline`` and ``scheduled`` belong to the pacer; the stream only reads them.
    """

    next_deadline: float | None
    """Loop-clock time the next frame is due; ``None`` when the schedule must restart."""
    scheduled: bool
    """The stream is in the pacer's heap (a later :meth:`Pacer.kick` is a no-op)."""
    paused: bool
    """The socket's write buffer is full: send nothing until :meth:`Pacer.kick` again."""

    def send_frame(self, deadline: float, now: float) -> bool:
        """Write the next queued frame; False when nothing is queued (or the call ended)."""
        ...


class Pacer:
    """Paces the outgoing frames of many streams with a single timer on ``loop``.

    Args:
        loop: the event loop whose clock (``loop.time()``) and timer (``loop.call_at``) are
            used; tests pass a stand-in with those two methods to drive the clock by hand.
        frame_s: the frame period.
        max_lag_s: lateness beyond which a stream's schedule restarts.
        coalesce_s: the timer fires on multiples of this, so deadlines that close share one
            wake-up (0: fire at each earliest deadline exactly). A frame then leaves up to
            ``coalesce_s`` after its deadline, never before it. The grid of each stream is
            unchanged: lateness is not carried into the next deadline.
        lateness: counts how late each frame left (``now - deadline``), when given.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        frame_s: float = FRAME_S,
        max_lag_s: float = MAX_LAG_S,
        coalesce_s: float = COALESCE_S,
        lateness: Lateness | None = None,
    ) -> None:
        self._loop = loop
        self.lateness = lateness
        """Where each frame's lateness is counted (metrics on), or ``None``."""
        self.frame_s = frame_s
        self.max_lag_s = max_lag_s
        self.coalesce_s = coalesce_s
        self._heap: list[tuple[float, int, PacedStream]] = []
        self._order = itertools.count()  # ties on a deadline go first-come first-served
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self.wakeups = 0
        """Timer wake-ups so far (a benchmark figure: compare with frames sent)."""
        self.polled = 0
        """Passes run by :meth:`poll` between reads because frames had come due."""

    def kick(self, stream: PacedStream) -> None:
        """``stream`` has audio queued (or may write again): send now if due, else schedule.

        An idle stream (no deadline) sends its first frame here and now, which starts its
        grid; a stream already in the heap is left alone (its next wake-up finds the audio).
        """
        if stream.scheduled or stream.paused:
            return
        now = self._loop.time()
        due = stream.next_deadline
        if due is None or now - due > self.max_lag_s:
            due = now
        if due <= now + _EPSILON_S:
            self._send(stream, due, now)
        else:
            self._push(stream, due)

    def restart(self, stream: PacedStream) -> None:
        """Start ``stream``'s grid again at "now" (its next frame leaves at once).

        For a stream that is only sending keep-alive silence when a response arrives: its
        first frame should not wait for the next tick. The heap entry it had becomes stale
        (its deadline no longer matches ``next_deadline``) and is skipped when it comes up.
        """
        if stream.paused:
            return
        stream.scheduled = False
        stream.next_deadline = None
        self.kick(stream)

    def poll(self) -> None:
        """Send the frames that have come due, now, without waiting for the timer.

        Cheap when nothing is due (one clock read); called between reads so that a burst of
        incoming data does not delay outgoing frames. A no-op inside a pass.
        """
        heap = self._heap
        if heap and self._timer_at != -math.inf and heap[0][0] <= self._loop.time() + _EPSILON_S:
            self.polled += 1
            try:
                self._pass()
            except Exception:  # not the reading connection's fault: keep it out of its call
                log.exception("AudioSocket pacer: a call failed while sending; it was dropped")

    def __len__(self) -> int:
        """Streams currently scheduled."""
        return len(self._heap)

    def close(self) -> None:
        """Cancel the timer and forget every stream (the server is shutting down)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = math.inf
        for _, _, stream in self._heap:
            stream.scheduled = False
        self._heap.clear()

    # ---- internals --------------------------------------------------------------------

    def _send(self, stream: PacedStream, due: float, now: float) -> None:
        """Send the frame due at ``due`` (if any) and schedule the stream's next one."""
        if now - due > self.max_lag_s:
            due = now  # the loop stalled: restart the grid rather than burst the backlog
        if stream.paused:
            stream.next_deadline = due
            return
        if not stream.send_frame(due, now):
            stream.next_deadline = None  # queue dry: the next audio starts a new grid
            return
        if self.lateness is not None:
            self.lateness.add(now - due)
        due += self.frame_s
        stream.next_deadline = due
        if not stream.paused:
            self._push(stream, due)

    def _push(self, stream: PacedStream, due: float) -> None:
        stream.scheduled = True
        heappush(self._heap, (due, next(self._order), stream))
        if due < self._timer_at:
            self._arm(due)

    def _arm(self, when: float) -> None:
        quantum = self.coalesce_s
        if quantum > 0:
            tick = round(when / quantum) * quantum  # the first tick not before `when`
            when = tick if tick >= when - _EPSILON_S else tick + quantum
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._on_timer)
        self._timer_at = when

    def _on_timer(self) -> None:
        self._timer = None
        self.wakeups += 1
        self._pass()

    def _pass(self) -> None:
        """Send every frame whose deadline has come, in deadline order; re-arm the timer."""
        self._timer_at = -math.inf  # no re-arming while the pass runs: once, at its end
        heap = self._heap
        now = self._loop.time()
        try:
            # Frames pushed back with a deadline that has also passed (a stream catching up
            # after a short stall) are sent in this same pass, in deadline order.
            while heap and heap[0][0] <= now + _EPSILON_S:
                due, _, stream = heappop(heap)
                if due != stream.next_deadline:
                    continue  # superseded by a restart(): the stream has a newer entry
                stream.scheduled = False
                self._send(stream, due, now)
        finally:
            # A stream that raised is dropped (it was popped); the others keep their timer.
            self._timer_at = math.inf
            if heap:
                self._arm(heap[0][0])
            elif self._timer is not None:  # a poll() emptied the heap before the timer fired
                self._timer.cancel()
                self._timer = None

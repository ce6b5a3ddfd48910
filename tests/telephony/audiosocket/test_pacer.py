"""The shared pacer's deadline arithmetic, driven by a hand-cranked clock (no wall clock)."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from telephony.audiosocket.pacer import FRAME_S, LATENESS_BOUNDS_S, MAX_LAG_S, Lateness, Pacer

T0 = 1000.0


class _Timer:
    def __init__(self, when: float, callback) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualLoop:
    """The two loop methods the pacer uses, with time that moves only when told to."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.timers: list[_Timer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback) -> _Timer:
        timer = _Timer(when, callback)
        self.timers.append(timer)
        return timer

    def pending(self) -> list[_Timer]:
        self.timers = [t for t in self.timers if not t.cancelled]
        return self.timers

    def run_until(self, until: float) -> None:
        """Fire every timer due by ``until``, each exactly on time, then set the clock there."""
        while (due := [t for t in self.pending() if t.when <= until]) != []:
            timer = min(due, key=lambda t: t.when)
            self.timers.remove(timer)
            self.now = max(self.now, timer.when)
            timer.callback()
        self.now = until

    def stall(self, until: float) -> None:
        """The loop was blocked until ``until``: timers due meanwhile fire late, at ``until``."""
        self.now = until
        for timer in sorted(self.pending(), key=lambda t: t.when):
            if timer.when <= until and not timer.cancelled:
                self.timers.remove(timer)
                timer.callback()


class Stream:
    """A call's outgoing side: numbered frames; records (frame, deadline, sent_at)."""

    _names = itertools.count()

    def __init__(self, frames: int) -> None:
        self.name = next(self._names)
        self.queue = deque(range(frames))
        self.sent: list[tuple[int, float, float]] = []
        self.next_deadline: float | None = None
        self.scheduled = False
        self.paused = False
        self.pause_after: int | None = None

    def send_frame(self, deadline: float, now: float) -> bool:
        if not self.queue:
            return False
        self.sent.append((self.queue.popleft(), deadline, now))
        if self.pause_after is not None and len(self.sent) == self.pause_after:
            self.paused = True  # the transport's write buffer went over its high-water mark
        return True

    @property
    def deadlines(self) -> list[float]:
        return [deadline for _, deadline, _ in self.sent]


class Broken(Stream):
    """A call with a bug: sending any frame after its first raises."""

    def send_frame(self, deadline: float, now: float) -> bool:
        if self.sent:
            raise RuntimeError("bug in one call")
        return super().send_frame(deadline, now)


def on_grid(deadlines: list[float], start: float) -> bool:
    return all(abs(d - (start + k * FRAME_S)) < 1e-9 for k, d in enumerate(deadlines))


def test_an_idle_stream_sends_its_first_frame_at_once_then_every_20ms_on_absolute_deadlines():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    stream = Stream(10)
    pacer.kick(stream)
    assert stream.sent == [(0, T0, T0)]  # synchronously, inside kick()
    loop.run_until(T0 + 1.0)
    assert [frame for frame, _, _ in stream.sent] == list(range(10))
    assert on_grid(stream.deadlines, T0)
    assert all(sent == deadline for _, deadline, sent in stream.sent)


def test_streams_keep_their_own_phases_under_one_timer():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    a, b, c = Stream(20), Stream(20), Stream(20)
    pacer.kick(a)
    loop.run_until(T0 + 0.007)
    pacer.kick(b)
    loop.run_until(T0 + 0.013)
    pacer.kick(c)
    armed = []
    for step in range(1, 500):
        loop.run_until(T0 + 0.013 + step * 0.001)
        armed.append(len(loop.pending()))
    assert on_grid(a.deadlines, T0)
    assert on_grid(b.deadlines, T0 + 0.007)  # not snapped to a's ticks: no common burst
    assert on_grid(c.deadlines, T0 + 0.013)
    assert len(a.sent) == len(b.sent) == len(c.sent) == 20
    assert max(armed) == 1  # never more than one timer for all streams
    # One wake-up per distinct deadline: 19 frames each after the one sent from kick, plus
    # the tick that finds each queue dry.
    assert pacer.wakeups == 3 * 20


def test_streams_sharing_a_deadline_are_served_in_one_wake_up_in_arrival_order():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    streams = [Stream(3) for _ in range(4)]
    for stream in streams:
        pacer.kick(stream)  # all at T0: the same phase
    loop.run_until(T0 + FRAME_S)
    assert pacer.wakeups == 1
    assert [s.sent[1][1] for s in streams] == [T0 + FRAME_S] * 4


def test_a_stall_longer_than_max_lag_restarts_the_schedule_instead_of_bursting():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    stream = Stream(30)
    pacer.kick(stream)
    loop.run_until(T0 + 0.1)  # frames 0..5 on the grid
    resumed_at = T0 + 0.1 + MAX_LAG_S + 0.15
    loop.stall(resumed_at)
    sent_in_stall_wakeup = [s for s in stream.sent if s[2] == resumed_at]
    assert len(sent_in_stall_wakeup) == 1  # one frame, not the 17 that fell due
    assert sent_in_stall_wakeup[0][1] == resumed_at  # its deadline restarted at "now"
    loop.run_until(resumed_at + 0.2)
    assert on_grid(stream.deadlines[:6], T0)
    assert on_grid(stream.deadlines[6:], resumed_at)  # the new grid
    assert [frame for frame, _, _ in stream.sent] == list(range(len(stream.sent)))  # none lost


def test_a_short_stall_catches_up_on_the_same_grid():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    stream = Stream(30)
    pacer.kick(stream)
    loop.run_until(T0 + 0.1)
    loop.stall(T0 + 0.165)  # 65 ms late: the frames due at +120, +140, +160 ms go now
    late = [(deadline, sent) for _, deadline, sent in stream.sent if sent == T0 + 0.165]
    assert [round(d - T0, 9) for d, _ in late] == [0.12, 0.14, 0.16]
    loop.run_until(T0 + 0.3)
    assert on_grid(stream.deadlines, T0)  # the grid never moved


def test_an_empty_queue_idles_the_stream_and_new_audio_starts_a_new_grid():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    stream = Stream(3)
    pacer.kick(stream)
    loop.run_until(T0 + 0.1)
    assert len(stream.sent) == 3
    assert (stream.scheduled, stream.next_deadline) == (False, None)
    assert loop.pending() == []  # nothing left to wake up for
    stream.queue.extend([3, 4])
    pacer.kick(stream)
    assert stream.sent[3] == (3, T0 + 0.1, T0 + 0.1)  # at once, a new phase
    loop.run_until(T0 + 0.2)
    assert stream.deadlines[3:] == [T0 + 0.1, T0 + 0.1 + FRAME_S]


def test_kick_is_a_no_op_for_a_stream_already_scheduled():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    stream = Stream(5)
    pacer.kick(stream)
    pacer.kick(stream)
    pacer.kick(stream)
    assert len(stream.sent) == 1
    assert len(pacer) == 1


def test_a_paused_stream_waits_without_delaying_the_others():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    slow, other = Stream(40), Stream(40)
    slow.pause_after = 3
    pacer.kick(slow)
    loop.run_until(T0 + 0.005)
    pacer.kick(other)
    loop.run_until(T0 + 0.150)
    assert len(slow.sent) == 3  # nothing more while its socket is full
    assert slow.paused and not slow.scheduled
    assert on_grid(other.deadlines, T0 + 0.005)
    assert all(sent == deadline for _, deadline, sent in other.sent)
    assert len(other.sent) == 8
    # The socket drained 10 ms after the next frame fell due: it goes at once, on its grid.
    slow.paused = False
    pacer.kick(slow)
    assert slow.sent[3][1:] == (T0 + 0.060, T0 + 0.150)
    loop.run_until(T0 + 0.4)
    assert on_grid(slow.deadlines[:3], T0)


def test_a_stream_paused_longer_than_max_lag_restarts_when_it_drains():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    slow = Stream(10)
    slow.pause_after = 2
    pacer.kick(slow)
    loop.run_until(T0 + 0.5)
    slow.paused = False
    pacer.kick(slow)
    assert slow.sent[2] == (2, T0 + 0.5, T0 + 0.5)
    loop.run_until(T0 + 1.0)
    assert on_grid(slow.deadlines[2:], T0 + 0.5)


@pytest.mark.parametrize("quantum", [0.001, 0.004])
def test_coalescing_fires_on_the_quantum_grid_never_before_a_deadline(quantum):
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=quantum)
    streams = [Stream(10) for _ in range(7)]
    for i, stream in enumerate(streams):
        loop.run_until(T0 + i * 0.0007)
        pacer.kick(stream)
    loop.run_until(T0 + 0.5)
    for i, stream in enumerate(streams):
        assert on_grid(stream.deadlines, T0 + i * 0.0007)  # phases are still the streams' own
        for _, deadline, sent in stream.sent[1:]:
            assert deadline - 1e-6 <= sent < deadline + quantum
            assert abs(sent / quantum - round(sent / quantum)) < 1e-6  # a quantum tick
    # Without coalescing: one wake-up per deadline (9 frames and a dry tick per stream).
    assert pacer.wakeups < 7 * 10


def test_a_stream_that_raises_is_dropped_and_the_others_keep_their_timer():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)

    broken, healthy = Broken(10), Stream(10)
    pacer.kick(broken)
    pacer.kick(healthy)
    with pytest.raises(RuntimeError):
        loop.run_until(T0 + FRAME_S)  # the loop's exception handler would log this
    loop.run_until(T0 + 0.3)
    assert len(healthy.sent) == 10
    assert on_grid(healthy.deadlines, T0)
    assert len(broken.sent) == 1 and not broken.scheduled


def test_close_cancels_the_timer_and_forgets_every_stream():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    streams = [Stream(10) for _ in range(3)]
    for stream in streams:
        pacer.kick(stream)
    pacer.close()
    assert loop.pending() == []
    assert len(pacer) == 0
    assert not any(s.scheduled for s in streams)


def test_poll_sends_due_frames_while_the_timer_is_held_up_by_a_burst_of_reads():
    loop = ManualLoop()
    pacer = Pacer(loop)  # the default 1 ms quantum
    a, b = Stream(10), Stream(10)
    pacer.kick(a)
    loop.run_until(T0 + 0.005)
    pacer.kick(b)
    # The loop is busy reading from T0 + 5 ms to T0 + 40 ms: its timer cannot fire, but the
    # connections poll the pacer after each read (here every 0.5 ms).
    for step in range(70):
        loop.now = T0 + 0.005 + step * 0.0005
        pacer.poll()
    assert [frame for frame, _, _ in a.sent] == [0, 1]  # T0 and T0 + 20 ms; T0 + 40 ms is due
    assert all(sent - deadline < 0.0005 + 1e-9 for _, deadline, sent in a.sent + b.sent)
    assert on_grid(a.deadlines, T0) and on_grid(b.deadlines, T0 + 0.005)
    assert pacer.polled == 2 and pacer.wakeups == 0
    loop.stall(T0 + 0.0404)  # the loop is back: the timer fires once, the grid is unchanged
    assert [len(a.sent), len(b.sent)] == [3, 2] and len(loop.pending()) == 1
    loop.run_until(T0 + 1.0)
    assert on_grid(a.deadlines, T0) and on_grid(b.deadlines, T0 + 0.005)
    assert len(a.sent) == len(b.sent) == 10


def test_poll_costs_nothing_when_nothing_is_due_and_cancels_a_timer_it_made_useless():
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)
    stream = Stream(2)
    pacer.kick(stream)
    pacer.poll()  # next deadline is 20 ms away
    assert pacer.polled == 0 and len(stream.sent) == 1
    loop.now = T0 + FRAME_S
    pacer.poll()  # sends the last frame and leaves the stream in the heap to find it dry
    loop.now = T0 + 2 * FRAME_S
    pacer.poll()  # finds the queue dry: the heap is empty, so the armed timer goes too
    assert len(stream.sent) == 2 and len(pacer) == 0 and loop.pending() == []


def test_a_stream_that_raises_during_a_poll_is_dropped_and_the_reader_is_not_blamed(caplog):
    loop = ManualLoop()
    pacer = Pacer(loop, coalesce_s=0)

    broken, healthy = Broken(10), Stream(10)
    pacer.kick(broken)
    pacer.kick(healthy)
    loop.now = T0 + FRAME_S
    pacer.poll()  # does not raise into the connection that polled
    assert "a call failed while sending" in caplog.text
    loop.run_until(T0 + 0.3)
    assert len(healthy.sent) == 10 and on_grid(healthy.deadlines, T0)
    assert len(broken.sent) == 1 and not broken.scheduled


def test_lateness_counts_each_frame_sent_in_its_bucket_and_the_late_ones():
    loop = ManualLoop()
    lateness = Lateness()
    pacer = Pacer(loop, coalesce_s=0, lateness=lateness)
    stream = Stream(10)
    pacer.kick(stream)
    loop.run_until(T0 + 0.05)  # frames 0-2 on time
    loop.stall(T0 + 0.068)  # frame 3, due at T0 + 60 ms, leaves 8 ms late
    loop.run_until(T0 + 1.0)
    assert lateness.count == len(stream.sent) == 10
    assert lateness.late == 1  # only the stalled one is over 5 ms
    on_time = LATENESS_BOUNDS_S.index(0.0005)
    eight_ms = LATENESS_BOUNDS_S.index(0.01)
    assert lateness.buckets[on_time] == 9 and lateness.buckets[eight_ms] == 1
    assert sum(lateness.buckets) == 10 and lateness.sum_s == pytest.approx(0.008)


def test_without_lateness_nothing_is_counted():
    pacer = Pacer(ManualLoop(), coalesce_s=0)
    assert pacer.lateness is None

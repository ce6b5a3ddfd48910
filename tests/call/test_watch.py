"""The loop's shared call clock (``runtime/call/watch.py``), on a hand-cranked loop."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from runtime.call.watch import WATCH_S, QuietTimer, Watch, shared_watch
from runtime.engine.events import HungUp
from tests.call.conftest import reminder
from tests.engines import new_engine
from tests.telephony.audiosocket.test_pacer import ManualLoop

T0 = 1000.05


def _watch(loop: ManualLoop) -> Watch:
    return Watch(loop, clock=loop.time)  # type: ignore[arg-type]


def test_one_timer_runs_every_check_on_the_shared_100_ms_grid() -> None:
    loop = ManualLoop(T0)
    watch = _watch(loop)
    seen: list[tuple[str, float]] = []
    for name in "abc":
        watch.add(lambda now, name=name: seen.append((name, round(now, 6))))
    assert [t.when for t in loop.pending()] == [pytest.approx(1000.1)]  # one timer for three
    loop.run_until(1000.35)
    assert seen == [(n, t) for t in (1000.1, 1000.2, 1000.3) for n in "abc"]
    assert len(loop.pending()) == 1 and watch.wakeups == 3


def test_a_timer_that_fires_early_does_not_run_the_same_tick_again() -> None:
    # uvloop's timers have a millisecond clock and may fire a hair before their time.
    loop = ManualLoop(T0)
    watch = _watch(loop)
    calls: list[float] = []
    watch.add(calls.append)
    for _ in range(3):
        (timer,) = loop.pending()
        loop.timers.remove(timer)
        loop.now = timer.when - 0.0005
        timer.callback()
    assert len(calls) == 3
    assert [t.when for t in loop.pending()] == [pytest.approx(1000.4)]


def test_the_timer_stops_with_the_last_check_and_starts_with_the_next() -> None:
    loop = ManualLoop(T0)
    watch = _watch(loop)
    first, second = [], []
    watch.add(first.append)
    watch.add(second.append)
    loop.run_until(1000.15)
    watch.discard(first.append)
    loop.run_until(1000.25)
    assert len(first) == 1 and len(second) == 2
    watch.discard(second.append)
    assert loop.pending() == [] and len(watch) == 0
    loop.run_until(1001.0)
    watch.add(first.append)
    loop.run_until(1001.15)
    assert len(first) == 2 and len(loop.pending()) == 1


def test_a_check_that_raises_is_dropped_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = ManualLoop(T0)
    watch = _watch(loop)
    calls: list[float] = []

    def broken(now: float) -> None:
        raise RuntimeError("bug")

    watch.add(broken)
    watch.add(calls.append)
    loop.run_until(1000.35)
    assert len(calls) == 3 and len(watch) == 1
    assert "call clock check failed" in caplog.text


async def test_each_running_loop_has_one_watch_on_the_monotonic_clock() -> None:
    watch = shared_watch()
    assert shared_watch() is watch and watch.period == WATCH_S
    ticks: list[float] = []
    two = asyncio.Event()

    def check(now: float) -> None:
        ticks.append(now)
        if len(ticks) == 2:
            two.set()

    started = time.monotonic()
    watch.add(check)
    await two.wait()
    watch.discard(check)
    assert started <= ticks[0] < ticks[1] <= time.monotonic()


def test_silence_is_due_at_each_threshold_of_quiet_and_not_after_the_end() -> None:
    engine = new_engine(reminder(), contact={}, call_id="c1", now=datetime.now(UTC))
    engine.start()
    quiet = QuietTimer(engine)
    quiet.reset(100.0)
    assert quiet.threshold() == 6000  # greet: "on silence 6s"
    assert not quiet.due(105.99) and quiet.due(106.0)
    assert quiet.fire(106.25) == 6250
    assert not quiet.due(111.99) and quiet.due(112.0)
    quiet.reset(112.0)
    assert not quiet.due(117.9) and quiet.due(118.0)
    engine.handle(HungUp())
    assert not quiet.due(200.0)

"""bench/call.py's loop-stall watcher tells a busy loop from a thread that was not running.

The watcher is how the whole-call lateness was traced to the kernel's run queue (see
bench/README.md, "what stalled the loop"), so it must not call every stall one or the other.
"""

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import call as call_bench  # noqa: E402


def busy_for(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def watch(block) -> list[tuple[float, float, str, float, float, float]]:  # type: ignore[no-untyped-def]
    stalls = call_bench._Stalls(asyncio.get_running_loop())
    await asyncio.sleep(0.05)  # the heartbeat runs
    block()
    await asyncio.sleep(0.05)  # it beats again: the stall is closed
    stalls.close()
    return stalls.stalls


def test_a_busy_callback_is_a_stall_on_the_cpu_with_its_stack() -> None:
    stalls = asyncio.run(watch(lambda: busy_for(0.08)))
    long = [s for s in stalls if s[1] >= 0.06]
    assert len(long) == 1, stalls
    _, seconds, stack, on_cpu, _, process = long[0]
    assert "busy_for" in stack
    assert on_cpu >= 0.05  # the loop thread spent (most of) the stall on a CPU
    assert process >= on_cpu * 0.9


def test_a_loop_thread_off_the_cpu_is_not_counted_as_work() -> None:
    # Blocking in a system call (sleep) is the other case: a stall in which the loop thread
    # does not run. It is neither on a CPU nor waiting for one.
    stalls = asyncio.run(watch(lambda: time.sleep(0.08)))
    long = [s for s in stalls if s[1] >= 0.06]
    assert len(long) == 1, stalls
    _, seconds, stack, on_cpu, waiting, _ = long[0]
    assert "<lambda>" in stack
    assert on_cpu < 0.03
    assert on_cpu + waiting < seconds

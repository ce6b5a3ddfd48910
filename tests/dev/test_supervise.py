"""`voxflow dev` supervises what it starts: a dead worker/API/studio comes back, a dead
Temporal or PostgreSQL stops the stack with a message naming it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from runtime.dev.stack import Child, Stack, StackFailed


async def _sleeper() -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(60)")


def _stack(children: list[Child], pidfile: Path | None = None) -> Stack:
    return Stack("t", None, "db", ("127.0.0.1", 5038), None, None, None, Path("."),
                 children=children, postgres_pidfile=pidfile)  # fmt: skip


async def _stop(children):
    for child in children:
        if child.process.returncode is None:
            child.process.kill()
            await child.process.wait()


async def test_a_dead_worker_is_started_again():
    worker = Child("worker 0", await _sleeper(), restart=_sleeper)
    stack, stop = _stack([worker]), asyncio.Event()
    first = worker.process
    first.kill()
    await first.wait()
    watch = asyncio.create_task(stack.supervise(stop, every=0.05))
    try:
        for _ in range(100):
            if worker.process is not first:
                break
            await asyncio.sleep(0.02)
        assert worker.process is not first and worker.process.returncode is None
        assert worker.restarts == 1
    finally:
        stop.set()
        await watch
        await _stop([worker])


async def test_a_dead_temporal_server_stops_the_stack_with_its_name():
    temporal = Child("the Temporal dev server", await _sleeper(), Path("temporal.log"))
    temporal.process.kill()
    await temporal.process.wait()
    with pytest.raises(StackFailed, match=r"the Temporal dev server exited .*temporal\.log"):
        await asyncio.wait_for(_stack([temporal]).supervise(asyncio.Event(), every=0.05), 5)


async def test_a_child_that_keeps_dying_stops_the_stack():
    async def dies() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", "raise SystemExit(3)")
        await process.wait()
        return process

    api = Child("the API", await dies(), restart=dies)
    with pytest.raises(StackFailed, match="the API exited with code 3"):
        await asyncio.wait_for(_stack([api]).supervise(asyncio.Event(), every=0.01), 5)
    assert api.restarts == 3


async def test_a_stopped_postgres_stops_the_stack(tmp_path):
    pidfile = tmp_path / "postmaster.pid"
    pidfile.write_text("999999999\n/data\n")
    with pytest.raises(StackFailed, match="PostgreSQL"):
        await asyncio.wait_for(_stack([], pidfile).supervise(asyncio.Event(), every=0.05), 5)

"""The benchmarks' parent fails with a clear message, not a hang, when a child process dies.

The parent holds its copy of each pipe's child end, so a dead child never closes the pipe
and a plain ``recv`` would wait forever (bench/call.py did, when its media baseline died).
"""

import multiprocessing as mp
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import media as media_bench  # noqa: E402


def _dies(conn) -> None:  # type: ignore[no-untyped-def]
    raise SystemExit(3)


def _answers_and_ends(conn) -> None:  # type: ignore[no-untyped-def]
    conn.send("figures")


def test_a_child_that_dies_before_answering_is_reported_by_name_and_exit_code() -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_dies, args=(child,), name="media server")
    process.start()
    with pytest.raises(media_bench.ChildDied) as caught:
        media_bench.receive(parent, [process], "the media server's figures")
    media_bench.stop([process])
    error = caught.value
    assert (error.process, error.exitcode) == ("media server", 3)
    assert error.waiting_for == "the media server's figures"


def test_a_sibling_that_answered_and_ended_cleanly_is_not_a_failure() -> None:
    ctx = mp.get_context("spawn")
    done_parent, done_child = ctx.Pipe()
    parent, child = ctx.Pipe()
    finished = ctx.Process(target=_answers_and_ends, args=(done_child,), name="load generator")
    finished.start()
    assert media_bench.receive(done_parent, [finished], "the callers' figures") == "figures"
    finished.join()
    answering = ctx.Process(target=_answers_and_ends, args=(child,), name="server")
    answering.start()
    assert media_bench.receive(parent, [finished, answering], "the figures") == "figures"
    media_bench.stop([finished, answering])

"""The event loop a long-running voxflow process runs on: uvloop when installed, else asyncio.

The worker hosts every live call's media (AudioSocket reads, the 20 ms pacer, the bridge to
the provider) on one event loop. uvloop runs the same asyncio code with its transports and
loop in C (libuv): ``bench/media.py`` measured 15-20 % less CPU per call-second for the
AudioSocket server at 500 calls, with the same pacing (see ``bench/README.md``). The choice is
``VOXFLOW_EVENT_LOOP``: ``auto`` (uvloop if importable), ``uvloop`` (required: an error if it
is missing) or ``asyncio`` (the standard library's loop).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

EventLoopChoice = Literal["auto", "uvloop", "asyncio"]


def loop_factory(choice: EventLoopChoice) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the chosen loop; ``None`` means the standard library's loop."""
    if choice == "asyncio":
        return None
    if importlib.util.find_spec("uvloop") is None:
        if choice == "uvloop":
            raise RuntimeError(
                "VOXFLOW_EVENT_LOOP=uvloop but uvloop is not installed: `pip install uvloop`, "
                "or set VOXFLOW_EVENT_LOOP=auto to fall back to asyncio's loop"
            )
        return None
    import uvloop

    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: EventLoopChoice = "auto") -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)

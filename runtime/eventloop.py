"""The event loop a long-running voxflow process runs on: uvloop when installed, else asyncio.

The worker hosts every live call's media (AudioSocket reads, the 20 ms pacer, the bridge to
the provider) on one event loop. uvloop runs the same asyncio code with its transports and
loop in C (libuv): ``bench/media.py`` measured 15-20 % less CPU per call-second for the
AudioSocket server at 500 calls, with the same pacing (see ``bench/README.md``). The choice is
``VOXFLOW_EVENT_LOOP``: ``auto`` (uvloop if importable), ``uvloop`` (required: an error if it
is missing) or ``asyncio`` (the standard library's loop).

The cyclic garbage collector stops that loop too: a full (generation 2) collection walks every
tracked object, and a worker's start-up (the Temporal SDK, the OpenAI SDK's models, the
compiled flows) leaves about 140,000 of them, 50-120 ms to walk on the machine
``bench/call.py`` runs on, during which no call hears anything. :func:`settle_heap` moves them out of the
collector's sight once start-up is done (``bench/README.md``, "what stalled the loop").
"""

from __future__ import annotations

import asyncio
import gc
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


def settle_heap() -> int:
    """Collect start-up garbage, then freeze every object alive now; returns how many.

    ``gc.freeze()`` moves the tracked objects into a permanent generation that later
    collections skip (https://docs.python.org/3/library/gc.html#gc.freeze), so a full
    collection on a live worker walks only what the calls allocated since. Objects frozen
    here are never freed by the cyclic collector (reference counting still frees them), so call
    it once, after start-up and before the first call.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()

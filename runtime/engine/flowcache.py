"""Values derived from one compiled flow, kept for as long as the flow object lives.

Keyed by the flow object's identity, not its value: a ``dsl.ir.Flow`` hashes and compares by
value, which walks the whole IR, and a worker keeps one ``Flow`` per content hash for all the
calls of it (``activities/converse.py``, ``FLOWS_KEPT``), so identity is what the calls of a
flow share. Held weakly: a flow nobody holds any more (pushed out of the worker's cache, a
studio edit compiled again) takes its entry with it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from dsl.ir import Flow

V = TypeVar("V")


class FlowCache(Generic[V]):
    """One value per live flow object, built on first use.

    A value must not hold the ``Flow`` object itself (its parts may be held): the entry would
    keep the flow alive, and the flow would never be freed. Safe from several threads: two
    threads that miss at once both build, and the last one's value stays (both are equal).
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[Flow], tuple[object, ...], V]] = {}

    def get(self, flow: Flow, build: Callable[[], V], *inputs: object) -> V:
        """The value kept for ``flow``; ``build()`` makes it on first use, and again when
        ``inputs`` (compared by identity) are not the ones the kept value was built from."""
        key = id(flow)
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry[0]() is flow
            and len(entry[1]) == len(inputs)
            and all(a is b for a, b in zip(entry[1], inputs, strict=True))
        ):
            return entry[2]
        value = build()
        entries = self._entries

        def forget(ref: weakref.ref[Flow]) -> None:
            current = entries.get(key)
            if current is not None and current[0] is ref:  # not a newer flow at the same id
                entries.pop(key, None)

        entries[key] = (weakref.ref(flow, forget), inputs, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)

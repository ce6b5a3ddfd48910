"""What every stand-in call shares: the client messages it received, and waiting on them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class RecordedCall:
    """Keeps ``received`` (client messages, in order) and wakes waiters when it changes.

    As with an ``asyncio.Condition`` whose ``notify_all`` wakes every waiter to check its
    predicate when it next runs, a change is checked one loop iteration later (so what the
    notifying code does before it next yields counts), but the predicates are checked in one
    callback and only a waiter whose predicate holds is woken: a benchmark's stand-in handles
    tens of thousands of client messages a second, almost none of which satisfy anybody, and
    a task wake-up per waiter per message was much of its CPU.
    """

    WAIT_S = 10.0

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._check_due = False

    async def _notify(self) -> None:
        self._changed()

    def _changed(self) -> None:
        """The call changed: check the waiters' predicates on the loop's next iteration."""
        if self._waiters and not self._check_due:
            self._check_due = True
            asyncio.get_running_loop().call_soon(self._check)

    def _check(self) -> None:
        self._check_due = False
        for predicate, waiter in list(self._waiters):
            if waiter.done():
                continue
            try:
                holds = predicate()
            except Exception as exc:  # the waiter's error, raised where it waits
                waiter.set_exception(exc)
                continue
            if holds:
                waiter.set_result(None)

    async def wait_until(self, predicate: Callable[[], bool], wait_s: float | None = None) -> None:
        """Return once ``predicate()`` holds (checked now, then after each change).

        Raises:
            TimeoutError: it did not hold within ``wait_s`` (``WAIT_S`` when ``None``).
        """
        async with asyncio.timeout(self.WAIT_S if wait_s is None else wait_s):
            while not predicate():
                entry = (predicate, asyncio.get_running_loop().create_future())
                self._waiters.append(entry)
                try:
                    await entry[1]
                finally:
                    self._waiters.remove(entry)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("type") == kind]

"""What every stand-in call shares: the client messages it received, and waiting on them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class RecordedCall:
    """Keeps ``received`` (client messages, in order) and wakes waiters when it changes."""

    WAIT_S = 10.0

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool], wait_s: float | None = None) -> None:
        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(_wait(), self.WAIT_S if wait_s is None else wait_s)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("type") == kind]

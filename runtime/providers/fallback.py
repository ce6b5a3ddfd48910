"""Provider fallback: the providers a flow declares, tried in order, guarded by circuit breakers.

``Agent.provider.fallback`` lists providers after the primary one (e.g. primary ``openai``,
fallback ``ultravox``). A provider is skipped while its breaker is open (it failed for other
calls a moment ago, so this contact is not burned on it), tried otherwise; a refused session or
a fatal failure mid-call counts against its breaker and moves the call to the next provider.
When none is left, the bridge lets the engine speak the flow's apology and hang up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from runtime.observability import metrics
from runtime.providers.base import CallSetup, ProviderUnavailable, VoiceProvider

log = logging.getLogger(__name__)


class Breaker(Protocol):
    async def allow(self, provider: str) -> bool: ...

    async def record_success(self, provider: str) -> None: ...

    async def record_failure(self, provider: str) -> None: ...


@dataclass(frozen=True)
class Attempt:
    provider: str
    ok: bool
    reason: str = ""


def provider_order(
    primary: str | None, fallback: Sequence[str], default: str = "local"
) -> list[str]:
    """``primary`` then ``fallback`` without repeats (``default`` when nothing is declared)."""
    names: list[str] = []
    for name in (primary, *fallback):
        if name and name not in names:
            names.append(name)
    return names or [default]


class ProviderChain:
    """Hands the bridge the next provider that opens a session, in the declared order.

    Args:
        names: provider names in order (see :func:`provider_order`).
        factory: builds an unstarted provider by name; may raise ``ProviderUnavailable`` (e.g.
            no API key configured), which counts as a skipped provider, not a breaker failure.
        breaker: shared circuit breaker, or ``None``.
        healthy_after_s: how long a session must live before it counts as a success.
    """

    def __init__(
        self,
        names: Sequence[str],
        factory: Callable[[str], VoiceProvider],
        breaker: Breaker | None = None,
        *,
        healthy_after_s: float = 10.0,
    ) -> None:
        if healthy_after_s < 0:
            raise ValueError("healthy_after_s must not be negative")
        self.names = list(names)
        self._factory = factory
        self._breaker = breaker
        self.healthy_after_s = healthy_after_s
        self._next = 0
        self.attempts: list[Attempt] = []
        self._healthy: dict[int, asyncio.Task[None]] = {}
        """Provider (by id) → the timer that records its success once it has lived long enough."""

    async def connect(self, setup: CallSetup) -> VoiceProvider | None:
        """Start the next available provider; ``None`` when every one was tried."""
        while self._next < len(self.names):
            name = self.names[self._next]
            self._next += 1
            if self._breaker is not None and not await self._breaker.allow(name):
                self.attempts.append(Attempt(name, False, "circuit breaker open"))
                log.info("call %s: skipping %s, its circuit breaker is open", setup.call_id, name)
                continue
            try:
                provider = self._factory(name)
            except ProviderUnavailable as exc:
                self.attempts.append(Attempt(name, False, exc.reason))
                continue
            try:
                await provider.start(setup)
            except ProviderUnavailable as exc:
                self.attempts.append(Attempt(name, False, exc.reason))
                metrics.provider_error(name, "unavailable")
                log.warning("call %s: provider %s unavailable: %s", setup.call_id, name, exc.reason)
                if self._breaker is not None:
                    await self._breaker.record_failure(name)
                continue
            if self._breaker is not None:
                self._healthy[id(provider)] = asyncio.create_task(
                    self._succeed_later(name), name=f"breaker-success-{name}"
                )
            self.attempts.append(Attempt(name, True))
            return provider
        return None

    async def _succeed_later(self, name: str) -> None:
        await asyncio.sleep(self.healthy_after_s)
        assert self._breaker is not None
        try:
            await self._breaker.record_success(name)
        except Exception:  # the breaker's store is down: the call goes on regardless
            log.exception("provider %s: cannot record a success with the breaker", name)

    async def failed(self, provider: VoiceProvider, reason: str) -> None:
        """``provider`` failed mid-call: count it against its breaker."""
        timer = self._healthy.pop(id(provider), None)
        if timer is not None:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        self.attempts.append(Attempt(provider.name, False, reason))
        if self._breaker is not None:
            await self._breaker.record_failure(provider.name)

    async def close(self) -> None:
        """The call is over: a session that ended before ``healthy_after_s`` is neither a
        success nor a failure (calls can be short)."""
        timers, self._healthy = list(self._healthy.values()), {}
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

"""The PostgreSQL circuit breaker, in the real embedded PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from runtime.db import create_pool
from runtime.providers.base import CallSetup
from runtime.providers.breaker import PgBreaker
from runtime.providers.fallback import ProviderChain


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def pools(pg_url: str) -> AsyncIterator[tuple]:
    a, b = await create_pool(pg_url, max_size=4), await create_pool(pg_url, max_size=4)
    async with a.acquire() as conn:
        await conn.execute("DELETE FROM provider_breaker")
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_consecutive_failures_open_the_breaker_for_every_worker(pools) -> None:
    clock = Clock()
    worker1, worker2 = (PgBreaker(p, clock=clock) for p in pools)
    assert await worker1.allow("openai")
    await worker1.record_failure("openai")
    await worker2.record_failure("openai")
    assert (await worker2.state("openai")).state == "closed"
    assert await worker2.allow("openai")
    await worker1.record_failure("openai")  # the third, from either worker
    state = await worker2.state("openai")
    assert (state.state, state.failures, state.opened_at) == ("open", 3, clock.now)
    assert not await worker1.allow("openai") and not await worker2.allow("openai")
    assert await worker1.allow("ultravox")  # breakers are per provider


async def test_a_success_resets_the_failure_count(pools) -> None:
    breaker = PgBreaker(pools[0], clock=Clock())
    await breaker.record_failure("openai")
    await breaker.record_failure("openai")
    await breaker.record_success("openai")
    await breaker.record_failure("openai")
    state = await breaker.state("openai")
    assert (state.state, state.failures) == ("closed", 1)


async def test_after_cool_down_exactly_one_call_gets_the_half_open_trial(pools) -> None:
    clock = Clock()
    workers = [PgBreaker(p, clock=clock, failure_threshold=1) for p in pools]
    await workers[0].record_failure("openai")
    clock.advance(29)
    assert not await workers[1].allow("openai")
    clock.advance(2)
    allowed = await asyncio.gather(*(w.allow("openai") for w in workers * 4))
    assert sorted(allowed) == [False] * 7 + [True]
    assert (await workers[0].state("openai")).state == "half_open"


async def test_trial_success_closes_and_trial_failure_reopens(pools) -> None:
    clock = Clock()
    breaker = PgBreaker(pools[0], clock=clock, failure_threshold=1)
    await breaker.record_failure("a")
    await breaker.record_failure("b")
    clock.advance(31)
    assert await breaker.allow("a") and await breaker.allow("b")
    await breaker.record_success("a")
    await breaker.record_failure("b")
    assert (await breaker.state("a")).state == "closed" and await breaker.allow("a")
    b = await breaker.state("b")
    assert b.state == "open" and b.opened_at == clock.now and not await breaker.allow("b")


async def test_a_trial_that_never_reports_is_given_up_after_its_timeout(pools) -> None:
    clock = Clock()
    breaker = PgBreaker(pools[0], clock=clock, failure_threshold=1)
    await breaker.record_failure("openai")
    clock.advance(31)
    assert await breaker.allow("openai")
    clock.advance(60)
    assert not await breaker.allow("openai")
    clock.advance(61)
    assert await breaker.allow("openai")


class _Session:
    """A provider whose sessions open fine (what dies later is up to the test)."""

    name = "openai"

    async def start(self, setup: CallSetup) -> None:
        pass


async def test_sessions_that_open_then_die_at_once_trip_the_breaker_at_the_default_threshold(
    pools,
) -> None:
    breaker = PgBreaker(pools[0])  # the default threshold: 3
    for call in range(3):
        chain = ProviderChain(["openai"], lambda name: _Session(), breaker)  # type: ignore[arg-type,return-value]
        provider = await chain.connect(CallSetup(f"c{call}"))
        assert provider is not None
        await chain.failed(provider, "the realtime connection closed")  # a moment after start
        await chain.close()
    state = await breaker.state("openai")
    assert (state.state, state.failures) == ("open", 3)
    assert (
        await ProviderChain(["openai"], lambda name: _Session(), breaker).connect(  # type: ignore[arg-type,return-value]
            CallSetup("c4")
        )
        is None
    )


async def test_a_session_that_lives_long_enough_resets_the_count(pools) -> None:
    breaker = PgBreaker(pools[0])
    await breaker.record_failure("openai")
    await breaker.record_failure("openai")
    chain = ProviderChain(["openai"], lambda name: _Session(), breaker, healthy_after_s=0.05)  # type: ignore[arg-type,return-value]
    assert await chain.connect(CallSetup("c1")) is not None
    assert (await breaker.state("openai")).failures == 2  # opening is not a success yet
    await asyncio.sleep(0.2)
    assert (await breaker.state("openai")).failures == 0
    await chain.close()

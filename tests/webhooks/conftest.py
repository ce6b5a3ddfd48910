"""Webhook tests: a settings object with fast retries, and a clean outbox per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from runtime import tenancy
from runtime.settings import Settings, load_settings
from runtime.webhooks.dispatcher import Dispatcher


@pytest.fixture
def wh_settings() -> Settings:
    return load_settings(
        {
            "VOXFLOW_WEBHOOK_BACKOFF_S": "0.01",
            "VOXFLOW_WEBHOOK_MAX_ATTEMPTS": "3",
            "VOXFLOW_WEBHOOK_TIMEOUT_S": "30",
        }
    )


@pytest.fixture
async def outbox(pg_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """The module's pool with no endpoint or event left by an earlier test."""
    with tenancy.acting_as(tenancy.PLATFORM):
        await pg_pool.execute("DELETE FROM webhooks; DELETE FROM webhook_events")
    yield pg_pool


async def drain(dispatcher: Dispatcher, done: Callable[[], bool], *, rounds: int = 400) -> None:
    """Run the dispatcher until ``done()`` (retries are due after a few milliseconds)."""
    import asyncio

    for _ in range(rounds):
        if done():
            return
        if not await dispatcher.deliver_one():
            await asyncio.sleep(0.02)
    raise AssertionError("the dispatcher did not get there")

"""The providers' circuit breakers through the API, as the workers' PgBreaker leaves them."""

from __future__ import annotations

import asyncpg
import httpx

from runtime.providers.breaker import PgBreaker
from tests.api.conftest import as_role


async def test_breaker_states_are_listed_for_every_role(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    async with pg_pool.acquire() as conn:
        await conn.execute("DELETE FROM provider_breaker")
    breaker = PgBreaker(pg_pool)
    for _ in range(3):
        await breaker.record_failure("openai")
    for role in ("designer", "operator"):
        answer = await api.get("/providers/breakers", headers=as_role(role))
        assert answer.status_code == 200
    rows = {r["provider"]: r for r in answer.json()}
    assert (rows["openai"]["state"], rows["openai"]["failures"]) == ("open", 3)
    assert rows["openai"]["opened_at"] is not None
    assert rows["ultravox"] == {"provider": "ultravox", "state": "closed", "failures": 0,
                                "opened_at": None}  # fmt: skip

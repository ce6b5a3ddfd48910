"""A dependency that is down is a 503 with Retry-After in the error model, never a bare 500."""

from __future__ import annotations

import httpx
from openai import AsyncOpenAI

from runtime.api import create_app
from runtime.db import create_pool
from runtime.db.knowledge import OpenAIEmbedder

from .conftest import KEYS


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://voxflow.test",
        headers={"X-API-Key": KEYS["admin"]},
    )


async def test_campaign_status_and_lists_while_postgresql_is_down_are_503(settings, pg_url):
    pool = await create_pool(pg_url, max_size=2)
    await pool.close()  # as good as a database that went away
    async with _client(create_app(settings, db=pool)) as api:
        for path in ("/campaigns/reminder", "/campaigns", "/calls", "/dnc"):
            r = await api.get(path)
            assert (r.status_code, r.json()["code"]) == (503, "database_unavailable"), path
            assert int(r.headers["Retry-After"]) > 0


async def test_knowledge_while_the_embedding_provider_is_unreachable_is_503(settings, pg_pool):
    app = create_app(settings, db=pg_pool)
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    client = AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0)
    app.state.embedder = OpenAIEmbedder(client)
    async with _client(app) as api:
        search = await api.get("/knowledge/kb/search", params={"q": "parking"})
        add = await api.post("/knowledge/kb/documents", json={"text": "Parking is free."})
    for r in (search, add):
        assert (r.status_code, r.json()["code"]) == (503, "embeddings_unavailable"), r.text
        assert "Retry-After" in r.headers


async def test_temporal_not_configured_is_503_with_retry_after(api):
    r = await api.post("/campaigns/x/pause")
    assert r.status_code in (404, 503)
    r = await api.get("/calls/tests/test-x-20260101T000000-abcdef")
    assert (r.status_code, r.json()["code"]) == (503, "temporal_not_configured")
    assert "Retry-After" in r.headers

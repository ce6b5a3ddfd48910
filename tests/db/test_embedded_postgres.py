"""The embedded PostgreSQL: idempotent start (joins a running server), pgvector, clean stop."""

from __future__ import annotations

import asyncpg

from runtime.dev.postgres import start_embedded
from tests.conftest import pg_state_dir


async def _vector_version(url: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    finally:
        await conn.close()


async def test_start_twice_joins_the_same_server_and_stop_releases_it() -> None:
    with pg_state_dir() as root:
        data = root / "pg"
        first = start_embedded(data)
        second = start_embedded(data)
        try:
            assert second.url == first.url
            assert first.url.endswith(f"?host={data}")  # a Unix socket in the data dir, no TCP
            assert await _vector_version(first.url) is not None
            assert (data / "postmaster.pid").exists()
            second.stop()
            assert await _vector_version(first.url) is not None  # first still holds it
        finally:
            second.stop()
            first.stop()
            first.stop()  # idempotent
        assert not (data / "postmaster.pid").exists()
        # data survives a restart
        again = start_embedded(data)
        try:
            assert await _vector_version(again.url) is not None
        finally:
            again.stop()

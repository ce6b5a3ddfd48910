"""Migration 0005: 384-dimension vectors give way to 256, the chunks survive, re-embed fills them."""

from __future__ import annotations

import asyncpg
import pytest

from runtime.db import create_pool
from runtime.db.knowledge import PgKnowledgeBase, WordLlamaEmbedder, reembed
from runtime.db.migrate import discover, migrate
from runtime.dev.postgres import EmbeddedPostgres


@pytest.fixture
async def db_before_0005(postgres_server: EmbeddedPostgres) -> str:
    admin = await asyncpg.connect(postgres_server.admin_url)
    name = "t_knowledge_0005"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = postgres_server.url_for(name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, [m for m in discover() if m.version < 5])
        doc = await conn.fetchval(
            "INSERT INTO knowledge_documents (collection, content_hash) VALUES ('faq', 'h')"
            " RETURNING id"
        )
        await conn.execute(
            "INSERT INTO knowledge_chunks (document_id, collection, seq, text, model, embedding)"
            " VALUES ($1, 'faq', 0, 'Parking is free in the garage behind the building.',"
            " 'voxflow-hash-v1', array_fill(0.05, ARRAY[384])::vector)",
            doc,
        )
    finally:
        await conn.close()
    return url


async def test_0005_keeps_chunks_clears_old_vectors_and_reembed_restores_search(
    db_before_0005: str,
) -> None:
    conn = await asyncpg.connect(db_before_0005)
    try:
        applied = await migrate(conn)
    finally:
        await conn.close()
    assert 5 in [m.version for m in applied]
    pool = await create_pool(db_before_0005, max_size=2)
    try:
        row = await pool.fetchrow(
            "SELECT text, embedding, tsv IS NOT NULL AS fts FROM knowledge_chunks"
        )
        assert row["embedding"] is None and row["fts"]
        embedder = WordLlamaEmbedder()
        semantic = PgKnowledgeBase(pool, embedder, mode="semantic")
        assert await semantic.search("faq", "where can I park", 3) == []
        assert await reembed(pool, embedder) == 1
        (hit,) = await semantic.search("faq", "where can I park", 3)
        assert "garage" in hit.text
        dims = await pool.fetchval("SELECT vector_dims(embedding) FROM knowledge_chunks")
        assert dims == 256
    finally:
        await pool.close()

"""Knowledge base on pgvector: chunking, the offline embedders, hybrid search, re-embedding,
OpenAI request shape."""

from __future__ import annotations

import json

import asyncpg
import httpx
import numpy as np
import pytest
from openai import AsyncOpenAI

from runtime.db.knowledge import (
    DIMENSIONS,
    HashingEmbedder,
    OpenAIEmbedder,
    PgKnowledgeBase,
    WordLlamaEmbedder,
    add_document,
    any_word_query,
    chunk_text,
    embedder_for,
    reembed,
)
from runtime.knowledge import KnowledgeBase
from runtime.settings import load_settings

CLINIC = """Maple Street Clinic opens at 8 am and closes at 6 pm on weekdays.
On Saturdays the clinic opens from 9 am to noon. It is closed on Sundays.

Parking is free in the garage behind the building, level two.

To reschedule an appointment, call the front desk at least 24 hours ahead.
Late cancellations are charged a fee of 25 dollars."""


def test_chunks_keep_whole_sentences_within_the_limit() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    chunks = chunk_text(text, max_chars=120, overlap=1)
    assert all(len(c) <= 120 for c in chunks)
    assert all(c.endswith(".") for c in chunks)
    # every sentence is in some chunk; consecutive chunks share one sentence
    for i in range(40):
        assert any(f"number {i} is" in c for c in chunks)
    assert chunks[0].split(". ")[-1].rstrip(".") in chunks[1]


def test_a_sentence_longer_than_the_limit_is_cut_at_words() -> None:
    chunks = chunk_text("word " * 100, max_chars=50, overlap=0)
    assert all(len(c) <= 50 for c in chunks)
    assert sum(c.count("word") for c in chunks) == 100


def test_hashing_embedder_is_deterministic_unit_length_and_lexical() -> None:
    e = HashingEmbedder()
    a, b = e.embed_one("When can I reschedule?"), e.embed_one("When can I reschedule?")
    assert a.shape == (DIMENSIONS,) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    near = float(a @ e.embed_one("How do I reschedule my appointment"))
    far = float(a @ e.embed_one("Parking is free in the garage"))
    assert near > far


async def test_search_ranks_the_relevant_chunk_first(pg_pool: asyncpg.Pool) -> None:
    embedder = HashingEmbedder()
    doc_id, created = await add_document(
        pg_pool, embedder, "clinic", CLINIC, title="FAQ", source="faq.md", max_chars=120
    )
    assert created
    assert await add_document(pg_pool, embedder, "clinic", CLINIC) == (doc_id, False)
    kb: KnowledgeBase = PgKnowledgeBase(pg_pool, embedder)
    hits = await kb.search("clinic", "where can I park my car", 2)
    assert "garage" in hits[0].text
    assert hits[0].score >= hits[1].score
    assert hits[0].source == "faq.md" and hits[0].metadata["document_id"] == doc_id
    hours = await kb.search("clinic", "is the clinic open on saturdays", 1)
    assert "Saturdays" in hours[0].text
    assert await kb.search("unknown-collection", "parking", 3) == []
    assert await kb.search("clinic", "   ", 3) == []


async def test_vectors_of_another_model_are_never_compared(pg_pool: asyncpg.Pool) -> None:
    class Renamed(HashingEmbedder):
        name = "other-model"

    await add_document(pg_pool, Renamed(), "mixed", "Parking is in the garage.")
    kb = PgKnowledgeBase(pg_pool, HashingEmbedder(), mode="semantic")
    assert await kb.search("mixed", "parking", 3) == []
    # the word ranking does not depend on the model: hybrid still finds the text by its words
    hybrid = PgKnowledgeBase(pg_pool, HashingEmbedder())
    assert [p.text for p in await hybrid.search("mixed", "parking", 3)] == [
        "Parking is in the garage."
    ]


async def test_openai_embedder_asks_for_the_column_dimensions_and_keeps_input_order() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(i + 1)] * DIMENSIONS}
            for i in range(len(body["input"]))
        ]
        data.reverse()  # the API may answer out of order; ``index`` is authoritative
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )

    client = AsyncOpenAI(
        api_key="sk-test",
        base_url="http://openai.invalid/v1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    vectors = await OpenAIEmbedder(client).embed(["a", "b"])
    assert seen[0]["dimensions"] == DIMENSIONS
    assert seen[0]["model"] == "text-embedding-3-small"
    assert seen[0]["input"] == ["a", "b"]
    assert [round(float(v[0]) * np.sqrt(DIMENSIONS)) for v in vectors] == [1, 1]
    assert vectors[0].shape == (DIMENSIONS,)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "wordllama-l2-supercat-256"),
        ({"OPENAI_API_KEY": "sk-x"}, "openai:text-embedding-3-small:256"),
        ({"OPENAI_API_KEY": "sk-x", "VOXFLOW_EMBEDDINGS": "local"}, "wordllama-l2-supercat-256"),
    ],
)
def test_embedder_choice_follows_the_settings(env: dict[str, str], expected: str) -> None:
    assert embedder_for(load_settings(env)).name == expected


async def test_offline_semantic_search_finds_an_answer_sharing_no_content_word(
    pg_pool: asyncpg.Pool,
) -> None:
    embedder = WordLlamaEmbedder()
    await add_document(pg_pool, embedder, "clinic-sem", CLINIC, source="faq.md", max_chars=120)
    question = "do I have to pay to park"
    assert not {"pay", "park"} & set(CLINIC.lower().replace(",", " ").split())
    for mode in ("semantic", "hybrid"):
        hits = await PgKnowledgeBase(pg_pool, embedder, mode=mode).search("clinic-sem", question, 1)
        assert "garage" in hits[0].text, mode


async def test_lexical_mode_ranks_by_full_text_search_alone(pg_pool: asyncpg.Pool) -> None:
    embedder = WordLlamaEmbedder()
    await add_document(pg_pool, embedder, "clinic-lex", CLINIC, max_chars=120)
    kb = PgKnowledgeBase(pg_pool, embedder, mode="lexical")
    hits = await kb.search("clinic-lex", "cancellations fee", 3)
    assert "25 dollars" in hits[0].text
    assert await kb.search("clinic-lex", "automobile", 3) == []


def test_full_text_query_keeps_only_words_so_caller_text_cannot_inject_syntax() -> None:
    assert (
        any_word_query("Where's my car? (park & ride) | !x:*")
        == "where | s | my | car | park | ride | x"
    )
    assert any_word_query("?!") == ""


async def test_reembed_fills_missing_vectors_and_replaces_another_models(
    pg_pool: asyncpg.Pool,
) -> None:
    await add_document(pg_pool, HashingEmbedder(), "clinic-re", CLINIC, max_chars=120)
    await pg_pool.execute(
        "UPDATE knowledge_chunks SET embedding = NULL WHERE collection = 'clinic-re' AND seq = 0"
    )
    chunks = await pg_pool.fetchval(
        "SELECT count(*) FROM knowledge_chunks WHERE collection = 'clinic-re'"
    )
    embedder = WordLlamaEmbedder()
    kb = PgKnowledgeBase(pg_pool, embedder, mode="semantic")
    assert await kb.search("clinic-re", "where can I park", 3) == []
    assert await reembed(pg_pool, embedder, collection="clinic-re") == chunks
    assert await reembed(pg_pool, embedder, collection="clinic-re") == 0
    models = await pg_pool.fetch(
        "SELECT DISTINCT model FROM knowledge_chunks WHERE collection = 'clinic-re'"
    )
    assert [r["model"] for r in models] == [embedder.name]
    assert "garage" in (await kb.search("clinic-re", "where can I park", 1))[0].text

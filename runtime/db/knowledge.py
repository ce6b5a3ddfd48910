"""The knowledge base on PostgreSQL + pgvector, behind ``runtime.knowledge.KnowledgeBase``.

Documents are split into chunks of whole sentences (``chunk_text``), each chunk is embedded and
stored as a ``vector(256)`` beside a full-text ``tsvector`` (migration 0005). A search ranks
chunks two ways, by cosine similarity to the query's vector (HNSW index) and by PostgreSQL
full-text search (any of the query's words, English stemming, ``ts_rank_cd``), and fuses the
two rankings' scores (``runtime.knowledge.fuse``): ``hybrid``, the default. The
``semantic`` and ``lexical`` modes rank one way only (``bench/nlu.py`` compares the three).

Embedders:
- ``WordLlamaEmbedder`` (``wordllama-l2-supercat-256``), the offline default: the static
  sentence-embedding model shipped inside the ``wordllama`` wheel, the same one the local
  provider matches intents with (``runtime/providers/local/model.py``). It ranks by meaning
  ("where do I leave my car" finds the parking passage) with no key and no download.
- ``OpenAIEmbedder``: OpenAI embeddings (``text-embedding-3-small`` by default) requested with
  ``dimensions=256``, used when ``OPENAI_API_KEY`` is set (``VOXFLOW_EMBEDDINGS=auto``).
- ``HashingEmbedder`` (``voxflow-hash-v1-256``): the former offline default, a deterministic
  feature hashing of words, prefixes, word pairs and character trigrams. Lexical, not
  semantic; kept as the baseline of ``bench/nlu.py``.

Each chunk records the model that embedded it; a search only compares vectors of its own model.
A change of model or dimension is a migration plus ``reembed`` (``voxflow db reembed``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np

from runtime.db.types import Db, acquire
from runtime.knowledge import LEXICAL_WEIGHT, Passage, fuse
from runtime.providers.local import model as local_model
from runtime.settings import Settings

DIMENSIONS = 256
"""Of the ``knowledge_chunks.embedding`` column (migration 0005) and so of every embedder."""
SearchMode = Literal["hybrid", "semantic", "lexical"]
CANDIDATES = 20
"""Chunks each ranking contributes to the fusion."""


class Embedder(Protocol):
    name: str
    """Stored with every chunk; vectors of different names are never compared."""

    async def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        """One unit-length ``float32`` vector of ``DIMENSIONS`` per text."""
        ...


_TOKEN = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an and are as at be by can could do does for from how i if in is it its me my of on or"
    " our so that the their there this to was we were what when where which who will with would"
    " you your".split()
)


class WordLlamaEmbedder:
    """The offline model of ``runtime/providers/local/model.py`` (semantic, no network)."""

    name = local_model.MODEL_NAME

    def __init__(self, model: local_model.StaticEmbedder | None = None) -> None:
        self._model = model

    async def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        if self._model is None:
            self._model = await local_model.load_default()
        return list(self._model.embed(list(texts)))


class HashingEmbedder:
    """Deterministic, offline feature-hashing embedding (lexical, not semantic)."""

    name = f"voxflow-hash-v1-{DIMENSIONS}"

    async def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self.embed_one(t) for t in texts]

    def embed_one(self, text: str) -> np.ndarray:
        vec = np.zeros(DIMENSIONS, dtype=np.float32)
        words = [w for w in (t.lower() for t in _TOKEN.findall(text)) if w not in _STOP]
        features: dict[str, float] = {}
        for w in words:
            features[f"w:{w}"] = features.get(f"w:{w}", 0.0) + 1.0
            if len(w) > 4:  # a crude stem: "parking" and "park" share "p:park"
                features[f"p:{w[:4]}"] = features.get(f"p:{w[:4]}", 0.0) + 0.7
            elif len(w) == 4:
                features[f"p:{w}"] = features.get(f"p:{w}", 0.0) + 0.7
            padded = f"<{w}>"
            for i in range(len(padded) - 2):
                key = f"c:{padded[i : i + 3]}"
                features[key] = features.get(key, 0.0) + 0.35
        for a, b in zip(words, words[1:], strict=False):
            key = f"b:{a} {b}"
            features[key] = features.get(key, 0.0) + 0.5
        for key, weight in features.items():
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            h = int.from_bytes(digest, "little")
            sign = 1.0 if (h >> 63) & 1 else -1.0
            vec[h % DIMENSIONS] += sign * (1.0 + math.log(weight + 1.0))
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec


class OpenAIEmbedder:
    """OpenAI embeddings, truncated by the API to ``DIMENSIONS``."""

    def __init__(self, client: Any, model: str = "text-embedding-3-small") -> None:
        self._client = client
        self._model = model
        self.name = f"openai:{model}:{DIMENSIONS}"

    async def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for start in range(0, len(texts), 256):
            batch = list(texts[start : start + 256])
            response = await self._client.embeddings.create(
                model=self._model, input=batch, dimensions=DIMENSIONS
            )
            for item in sorted(response.data, key=lambda d: d.index):
                vec = np.asarray(item.embedding, dtype=np.float32)
                if vec.shape != (DIMENSIONS,):
                    raise ValueError(
                        f"{self._model} returned {vec.shape[0]} dimensions, expected {DIMENSIONS}"
                    )
                out.append(vec / (float(np.linalg.norm(vec)) or 1.0))
        return out


def embedder_for(settings: Settings) -> Embedder:
    """OpenAI when configured (``VOXFLOW_EMBEDDINGS=openai``, or ``auto`` with a key), else offline."""
    use_openai = settings.embeddings == "openai" or (
        settings.embeddings == "auto" and settings.openai_api_key is not None
    )
    if not use_openai:
        return WordLlamaEmbedder()
    settings.require("openai_api_key", why="OpenAI embeddings")
    from openai import AsyncOpenAI

    assert settings.openai_api_key is not None
    client = AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url
    )
    return OpenAIEmbedder(client, settings.openai_embedding_model)


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n+")


def chunk_text(text: str, max_chars: int = 500, overlap: int = 1) -> list[str]:
    """Split ``text`` into chunks of whole sentences of at most ``max_chars`` (a longer
    sentence is cut at word boundaries). Consecutive chunks share ``overlap`` sentences so an
    answer spanning a boundary is found whole in one of them."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]
    pieces: list[str] = []
    for s in sentences:
        while len(s) > max_chars:
            cut = s.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            pieces.append(s[:cut].strip())
            s = s[cut:].strip()
        if s:
            pieces.append(s)
    chunks: list[str] = []
    current: list[str] = []
    for p in pieces:
        if current and len(" ".join([*current, p])) > max_chars:
            chunks.append(" ".join(current))
            kept = current[-overlap:] if overlap else []
            current = kept if len(" ".join([*kept, p])) <= max_chars else []
        current.append(p)
    if current:
        chunks.append(" ".join(current))
    return chunks


async def add_document(
    db: Db,
    embedder: Embedder,
    collection: str,
    content: str,
    *,
    title: str = "",
    source: str = "",
    metadata: dict[str, Any] | None = None,
    max_chars: int = 500,
) -> tuple[int, bool]:
    """Chunk, embed and store a document; ``(document id, created)``.

    Adding the same content to the same collection again stores nothing (``created`` False).
    """
    digest = hashlib.sha256(content.encode()).hexdigest()
    existing = await db.fetchval(
        "SELECT id FROM knowledge_documents WHERE collection = $1 AND content_hash = $2",
        collection,
        digest,
    )
    if existing is not None:
        return existing, False
    chunks = chunk_text(content, max_chars=max_chars)
    vectors = await embedder.embed(chunks)
    async with acquire(db) as conn, conn.transaction():
        doc_id = await conn.fetchval(
            "INSERT INTO knowledge_documents (collection, title, source, content_hash, metadata)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, collection, content_hash) DO NOTHING"
            " RETURNING id",
            collection,
            title,
            source,
            digest,
            metadata or {},
        )
        if doc_id is None:  # a concurrent writer stored it first
            return await conn.fetchval(
                "SELECT id FROM knowledge_documents WHERE collection = $1 AND content_hash = $2",
                collection,
                digest,
            ), False
        await conn.executemany(
            "INSERT INTO knowledge_chunks (document_id, collection, seq, text, model, embedding)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [
                (doc_id, collection, i, chunk, embedder.name, vec)
                for i, (chunk, vec) in enumerate(zip(chunks, vectors, strict=True))
            ],
        )
    return doc_id, True


MAX_METADATA_DEPTH = 8
"""Deepest nesting of a document's metadata (a mapping of labels, not a data store)."""

MAX_METADATA_BYTES = 16 * 1024
"""Largest metadata, as JSON text."""

_INVALID = "invalid_metadata"


def metadata_problem(text: str) -> str | None:
    """Why metadata (as JSON text) is over the limits, or ``None``; never recursive."""
    if len(text) > MAX_METADATA_BYTES:
        return f"the metadata is {len(text)} bytes of JSON; at most {MAX_METADATA_BYTES}"
    if text.count("[") + text.count("{") <= MAX_METADATA_DEPTH:
        return None
    depth = peak = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            peak = max(peak, depth)
        elif ch in "]}":
            depth -= 1
    if peak > MAX_METADATA_DEPTH + 1:  # the outer mapping is level 0
        return f"the metadata nests {peak - 1} levels deep; at most {MAX_METADATA_DEPTH}"
    return None


def _metadata(text: str) -> dict[str, Any]:
    """Stored metadata as a mapping; over the limits (stored before they were enforced), a
    mapping saying so, so that listing and searching its collection still work."""
    problem = metadata_problem(text)
    if problem is not None:
        return {_INVALID: f"{problem}; run the collection's repair and add the metadata again"}
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


async def repair_metadata(db: Db, collection: str) -> list[int]:
    """Replace metadata over the limits in ``collection`` by a note saying what was removed;
    the ids of the documents repaired."""
    rows = await db.fetch(
        "SELECT id, metadata::text AS metadata FROM knowledge_documents WHERE collection = $1",
        collection,
    )
    repaired = []
    for r in rows:
        problem = metadata_problem(r["metadata"])
        if problem is not None:
            await db.execute(
                "UPDATE knowledge_documents SET metadata = $2 WHERE id = $1",
                r["id"],
                {_INVALID: f"removed by repair: {problem}"},
            )
            repaired.append(r["id"])
    return repaired


_QUERY_WORD = re.compile(r"[a-z0-9]+")


def any_word_query(text: str) -> str:
    """A ``to_tsquery`` text matching any word of ``text`` (``where | park | car``).

    Only ``[a-z0-9]`` runs reach the query, so caller text cannot inject tsquery syntax.
    """
    return " | ".join(dict.fromkeys(_QUERY_WORD.findall(text.lower()))) or ""


class PgKnowledgeBase:
    """``KnowledgeBase`` over the ``knowledge_chunks`` table; see the module docstring."""

    def __init__(self, db: Db, embedder: Embedder, mode: SearchMode = "hybrid") -> None:
        self._db = db
        self._embedder = embedder
        self._mode = mode

    async def search(self, collection: str, query: str, top_k: int) -> list[Passage]:
        if not query.strip() or top_k <= 0:
            return []
        depth = max(top_k, CANDIDATES)
        rankings: list[dict[int, float]] = []
        weights: list[float] = []
        if self._mode != "lexical":
            (vec,) = await self._embedder.embed([query])
            rows = await self._db.fetch(
                "SELECT id, 1 - (embedding <=> $3) AS score FROM knowledge_chunks"
                " WHERE collection = $1 AND model = $2 AND embedding IS NOT NULL"
                " ORDER BY embedding <=> $3 LIMIT $4",
                collection,
                self._embedder.name,
                vec,
                depth,
            )
            rankings.append({r["id"]: float(r["score"]) for r in rows})
            weights.append(1.0)
        words = any_word_query(query)
        if self._mode != "semantic" and words:
            rows = await self._db.fetch(
                "SELECT id, ts_rank_cd(tsv, q) AS score"
                " FROM knowledge_chunks, to_tsquery('english', $2) AS q"
                " WHERE collection = $1 AND tsv @@ q"
                " ORDER BY score DESC, id LIMIT $3",
                collection,
                words,
                depth,
            )
            rankings.append({r["id"]: float(r["score"]) for r in rows})
            weights.append(LEXICAL_WEIGHT)
        fused = fuse(rankings, weights)[:top_k]
        if not fused:
            return []
        rows = await self._db.fetch(
            "SELECT c.id, c.text, c.seq, d.title, d.source, d.metadata::text AS metadata, d.id AS document_id"
            " FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id"
            " WHERE c.id = ANY($1::bigint[])",
            [chunk for chunk, _ in fused],
        )
        by_id = {r["id"]: r for r in rows}
        return [
            Passage(
                text=r["text"],
                score=score,
                source=r["source"] or r["title"] or f"{collection}/{r['document_id']}",
                metadata={
                    **_metadata(r["metadata"]),
                    "document_id": r["document_id"],
                    "chunk": r["seq"],
                },
            )
            for chunk, score in fused
            if (r := by_id.get(chunk)) is not None
        ]


async def reembed(
    db: Db, embedder: Embedder, *, collection: str | None = None, batch: int = 256
) -> int:
    """Embed again every chunk (of ``collection``, or of all) whose vector is missing or was
    made by another model.

    Run after a migration that changes the model or the dimension (``voxflow db reembed``);
    returns how many chunks were embedded. Safe to interrupt and run again.
    """
    done = 0
    while True:
        rows = await db.fetch(
            "SELECT id, text FROM knowledge_chunks"
            " WHERE (embedding IS NULL OR model <> $1) AND ($2::text IS NULL OR collection = $2)"
            " ORDER BY id LIMIT $3",
            embedder.name,
            collection,
            batch,
        )
        if not rows:
            return done
        vectors = await embedder.embed([r["text"] for r in rows])
        await db.executemany(
            "UPDATE knowledge_chunks SET embedding = $2, model = $3 WHERE id = $1",
            [(r["id"], vec, embedder.name) for r, vec in zip(rows, vectors, strict=True)],
        )
        done += len(rows)


async def list_documents(db: Db, collection: str) -> list[dict[str, Any]]:
    """Documents of ``collection`` with their chunk counts, oldest first."""
    rows = await db.fetch(
        "SELECT d.id, d.title, d.source, d.metadata::text AS metadata, d.created_at,"
        " count(c.id) AS chunks"
        " FROM knowledge_documents d LEFT JOIN knowledge_chunks c ON c.document_id = d.id"
        " WHERE d.collection = $1 GROUP BY d.id ORDER BY d.id",
        collection,
    )
    return [{**r, "metadata": _metadata(r["metadata"])} for r in rows]


async def delete_document(db: Db, collection: str, document_id: int) -> bool:
    """Remove a document and its chunks; ``False`` when it is not in ``collection``."""
    result = await db.execute(
        "DELETE FROM knowledge_documents WHERE collection = $1 AND id = $2", collection, document_id
    )
    return result.endswith(" 1")


async def get_document(db: Db, document_id: int) -> dict[str, Any] | None:
    """One document (any collection) with its chunk count, or ``None``."""
    r = await db.fetchrow(
        "SELECT d.id, d.collection, d.title, d.source, d.metadata::text AS metadata,"
        " d.created_at,"
        " count(c.id) AS chunks FROM knowledge_documents d"
        " LEFT JOIN knowledge_chunks c ON c.document_id = d.id WHERE d.id = $1 GROUP BY d.id",
        document_id,
    )
    return None if r is None else {**r, "metadata": _metadata(r["metadata"])}


def count_tokens(text: str) -> int:
    """Word tokens as the offline embedder splits them (``\\w+``), not a model's BPE tokens."""
    return len(_TOKEN.findall(text))


async def document_chunks(
    db: Db, document_id: int, *, offset: int = 0, limit: int = 50, contains: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """A page of a document's chunks in order, and how many match in all.

    Each chunk is ``{"seq", "text", "chars", "tokens", "model"}``; ``contains`` keeps the
    chunks whose text contains it (case-insensitive, taken literally).
    """
    pattern = None
    if contains:
        escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
    async with acquire(db) as conn:
        total = await conn.fetchval(
            "SELECT count(*) FROM knowledge_chunks WHERE document_id = $1"
            " AND ($2::text IS NULL OR text ILIKE $2)",
            document_id,
            pattern,
        )
        rows = await conn.fetch(
            "SELECT seq, text, model FROM knowledge_chunks WHERE document_id = $1"
            " AND ($2::text IS NULL OR text ILIKE $2) ORDER BY seq OFFSET $3 LIMIT $4",
            document_id,
            pattern,
            offset,
            limit,
        )
    return total, [
        {
            "seq": r["seq"],
            "text": r["text"],
            "chars": len(r["text"]),
            "tokens": count_tokens(r["text"]),
            "model": r["model"],
        }
        for r in rows
    ]

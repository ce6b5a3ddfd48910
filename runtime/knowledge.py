"""The knowledge-base interface behind the built-in ``knowledge_search`` tool.

The PostgreSQL/pgvector implementation is ``runtime.db.knowledge.PgKnowledgeBase``;
``InMemoryKnowledgeBase`` here serves conversation tests, the terminal chat and the studio.
Both rank passages two ways, by meaning (the offline embedding model) and by words, and fuse
the two rankings with ``fuse`` (reciprocal rank fusion), so a question that shares no word with
its answer still finds it, and an exact term (a product code) still counts.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

RRF_K = 60
"""The reciprocal-rank constant of Cormack, Clarke and Buettcher (SIGIR 2009)."""
MIN_SIMILARITY = 0.25
"""Below this cosine similarity an in-memory passage is not a semantic hit at all."""
K = TypeVar("K", bound=Hashable)


def fuse(rankings: Sequence[Sequence[K]], k: int = RRF_K) -> list[tuple[K, float]]:
    """Reciprocal rank fusion: each item scores ``sum(1 / (k + rank))`` over the rankings it
    appears in (rank from 1); best first, ties in order of first appearance."""
    scores: dict[K, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


@dataclass(frozen=True)
class Passage:
    text: str
    score: float
    """Higher is more relevant; comparable only within one search."""
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class KnowledgeBase(Protocol):
    async def search(self, collection: str, query: str, top_k: int) -> list[Passage]:
        """The ``top_k`` passages of ``collection`` most relevant to ``query``, best first.

        An unknown collection gives ``[]``.
        """
        ...


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


class InMemoryKnowledgeBase:
    """Hybrid ranking of passages held in memory: meaning (cosine similarity of the offline
    model's vectors, at least ``MIN_SIMILARITY``) fused with the share of query words each
    passage contains. ``semantic=False`` keeps the word ranking alone (no model loaded)."""

    def __init__(
        self, collections: Mapping[str, Iterable[str]] | None = None, *, semantic: bool = True
    ) -> None:
        self._collections: dict[str, list[str]] = {
            name: list(texts) for name, texts in (collections or {}).items()
        }
        self._semantic = semantic
        self._vectors: dict[str, np.ndarray] = {}

    def add(self, collection: str, text: str) -> None:
        self._collections.setdefault(collection, []).append(text)
        self._vectors.pop(collection, None)

    def _matrix(self, collection: str, texts: list[str]) -> np.ndarray:
        from runtime.providers.local.model import default_embedder

        if collection not in self._vectors:
            self._vectors[collection] = default_embedder().embed(texts)
        return self._vectors[collection]

    async def search(self, collection: str, query: str, top_k: int) -> list[Passage]:
        texts = self._collections.get(collection, [])
        if not query.strip() or not texts or top_k <= 0:
            return []
        rankings: list[list[int]] = []
        query_words = _words(query)
        if query_words:
            overlap = [
                (len(query_words & _words(t)) / len(query_words), i) for i, t in enumerate(texts)
            ]
            rankings.append([i for share, i in sorted(overlap, key=lambda x: -x[0]) if share > 0])
        if self._semantic:
            from runtime.providers.local.model import default_embedder

            sims = self._matrix(collection, texts) @ default_embedder().embed_one(query)
            order = sorted(range(len(texts)), key=lambda i: -float(sims[i]))
            rankings.append([i for i in order if sims[i] >= MIN_SIMILARITY])
        return [
            Passage(text=texts[i], score=score, source=f"{collection}#{i}")
            for i, score in fuse(rankings)[:top_k]
        ]

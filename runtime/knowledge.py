"""The knowledge-base interface behind the built-in ``knowledge_search`` tool.

The PostgreSQL/pgvector implementation is ``runtime.db.knowledge.PgKnowledgeBase``;
``InMemoryKnowledgeBase`` here serves conversation tests, the terminal chat and the studio.
Both rank passages two ways, by meaning (the offline embedding model) and by words, and fuse
the two rankings' scores with ``fuse``, so a question that shares no word with its answer still
finds it, and an exact term (a product code) still counts.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

LEXICAL_WEIGHT = 0.5
"""Weight of the word ranking against the meaning ranking (1.0) in hybrid search: words
refine, meaning leads (a question shares few words with its answer, and "any word" matching
is noisy). On ``flows/eval/acme_help.questions.yaml``, 1.0 lost one question to word noise
that 0.5 keeps (``bench/nlu.py``)."""
MIN_SIMILARITY = 0.1
"""Below this cosine similarity an in-memory passage is not a semantic hit at all."""
K = TypeVar("K", bound=Hashable)


def fuse(
    rankings: Sequence[Mapping[K, float]], weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Relative score fusion: each ranking's scores (higher is better) are scaled to 0..1 by
    its own best and worst candidate, then summed with the ranking's weight (an item missing
    from a ranking gets 0 there); best first, ties in order of first appearance.

    Scaling each ranking on its own makes cosine similarities and ``ts_rank_cd`` values
    comparable whatever their ranges (the "relative score fusion" of Weaviate's hybrid search).
    """
    fused: dict[K, float] = {}
    for n, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[n]
        if not ranking:
            continue
        high, low = max(ranking.values()), min(ranking.values())
        for item, score in ranking.items():
            scaled = 1.0 if high == low else (score - low) / (high - low)
            fused[item] = fused.get(item, 0.0) + weight * scaled
    return sorted(fused.items(), key=lambda kv: -kv[1])


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


STOPWORDS = frozenset(
    "a an and are as at be by can could do does for from have how i if in is it its me my of"
    " on or our so that the their there this to was we were what when where which who will"
    " with would you your".split()
)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _content(text: str) -> set[str]:
    """Words less stop words, compared by their first five letters (``refund``/``refunds``)."""
    return {w[:5] for w in _WORD.findall(text.lower().replace("'", "")) if w not in STOPWORDS}


class InMemoryKnowledgeBase:
    """Hybrid ranking of passages held in memory: meaning (cosine similarity of the offline
    model's vectors, at least ``MIN_SIMILARITY``) fused with the share of the query's content
    words (stop words left out, compared by their first five letters) each passage contains.
    ``semantic=False`` keeps the word ranking alone (no model loaded)."""

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
        rankings: list[dict[int, float]] = []
        weights: list[float] = []
        if self._semantic:
            from runtime.providers.local.model import default_embedder, load_default

            await load_default()
            sims = self._matrix(collection, texts) @ default_embedder().embed_one(query)
            rankings.append({i: float(v) for i, v in enumerate(sims) if v >= MIN_SIMILARITY})
            weights.append(1.0)
        query_words = _content(query)
        if query_words:
            shares = {
                i: len(query_words & _content(t)) / len(query_words) for i, t in enumerate(texts)
            }
            rankings.append({i: share for i, share in shares.items() if share > 0})
            weights.append(LEXICAL_WEIGHT)
        return [
            Passage(text=texts[i], score=score, source=f"{collection}#{i}")
            for i, score in fuse(rankings, weights)[:top_k]
        ]

"""The knowledge-base interface behind the built-in ``knowledge_search`` tool.

The PostgreSQL/pgvector implementation lives with the campaigns; ``InMemoryKnowledgeBase``
here is a word-overlap ranking for tests and the terminal chat (documented as such, not as
semantic search).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    """Ranks passages by the share of query words they contain (Jaccard-free, explainable)."""

    def __init__(self, collections: Mapping[str, Iterable[str]] | None = None) -> None:
        self._collections: dict[str, list[str]] = {
            name: list(texts) for name, texts in (collections or {}).items()
        }

    def add(self, collection: str, text: str) -> None:
        self._collections.setdefault(collection, []).append(text)

    async def search(self, collection: str, query: str, top_k: int) -> list[Passage]:
        query_words = _words(query)
        if not query_words:
            return []
        scored = []
        for i, text in enumerate(self._collections.get(collection, [])):
            overlap = len(query_words & _words(text)) / len(query_words)
            if overlap > 0:
                scored.append(Passage(text=text, score=overlap, source=f"{collection}#{i}"))
        scored.sort(key=lambda p: -p.score)
        return scored[:top_k]

"""Weighted soft word alignment: how much of a phrase's informative words a text says, in any words.

The word-overlap rule (``scoring``: a Dice coefficient over content words) counts every shared
word the same and a synonym not at all: "that time doesn't work anymore" shares "anymore" with
"I don't need it anymore", while "rebook" shares nothing with "reschedule". Here, as BERTScore
does over a transformer's token vectors (Zhang et al., "BERTScore: Evaluating Text Generation
with BERT", ICLR 2020, https://arxiv.org/abs/1904.09675), each content word of the text is
aligned to its most similar word of the phrase and each word of the phrase to its most similar
word of the text, the similarity being the cosine of the two words' static vectors (the
matcher's own model: ``model.intent_embedder``, a word embedded alone); each word counts by
its *inverse document frequency* over a background of common caller wordings (the built-in
families' phrases, the small-talk examples and the intent set's own phrases), so "anymore",
"now" or "time" weigh little and "cancel" or "rebook" much. Precision (over the text's words)
and recall (over the phrase's) make an F-measure.

As BERTScore rescales its scores against a baseline, a word pair's cosine counts only above
``floor``, rescaled to 0..1: two unrelated words of a static model are still 0.1-0.4 alike.

Negation words are left out of the alignment: the matcher already compares the negation of a
text and a phrase (``semantic.negated``) and applies its penalty.

A phrase's word vectors and weights are computed once, with the intent set's phrase index
(``index.py``); a decision embeds the text's few content words (cached per word) and takes one
matrix product against every phrase word of the set.

The matcher adds it to open intents only (``semantic.OPEN_ALIGNMENT``): measured on the tuning
set, it helps answers in the caller's own words to an open question ("cheaper bills" for "the
price"), but added to every intent it lifts near-miss words ("took" / "take", "somewhere" /
"where") into wrong intents and unrelated text past the threshold (``bench/README.md``,
seventh session).
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from runtime.providers.local.chitchat import EXAMPLES as SMALL_TALK
from runtime.providers.local.families import FAMILIES
from runtime.providers.local.model import Embedder
from runtime.providers.local.scoring import STOPWORDS, words

_WORD_CACHE = 8192


def key(word: str) -> str:
    """The form a word is counted under: its first five letters, as ``scoring.content``
    compares words (``reschedule`` / ``rescheduling``)."""
    return word[:5]


def content_words(text: str, negations: frozenset[str]) -> list[str]:
    """The text's distinct content words in order: stop-words and negation words left out."""
    out: list[str] = []
    for w in words(text):
        if w not in STOPWORDS and w not in negations and w not in out:
            out.append(w)
    return out


@dataclass(frozen=True)
class Weights:
    """Inverse document frequencies over a background of phrases: ``log((N + 1) / (df + 1))``
    for a word found in ``df`` of the ``N`` phrases; a word the background never uses weighs
    the most."""

    frequency: dict[str, int]
    documents: int

    @classmethod
    def of(cls, phrases: Iterable[str], negations: frozenset[str]) -> Weights:
        frequency: Counter[str] = Counter()
        documents = 0
        for phrase in phrases:
            documents += 1
            frequency.update({key(w) for w in content_words(phrase, negations)})
        return cls(dict(frequency), documents)

    def weight(self, word: str) -> float:
        return math.log((self.documents + 1) / (self.frequency.get(key(word), 0) + 1))


@dataclass(frozen=True)
class Alignment:
    """Every aligned phrase's content words, stacked: ``vectors[starts[p]:starts[p + 1]]`` are
    phrase ``p``'s."""

    vectors: np.ndarray
    """``(words, dimensions)`` unit vectors."""
    weights: np.ndarray
    """Each word's inverse document frequency."""
    keys: np.ndarray
    """Each word's ``key``: two words with the same key align fully."""
    starts: np.ndarray
    """Where each phrase's words start (phrases without content words are left out)."""
    owners: np.ndarray
    """The intent index of each aligned phrase."""
    negations: np.ndarray
    """Whether each aligned phrase is negated."""
    idf: Weights


class WordVectors:
    """Unit vectors of single words from ``embedder`` (a word embedded alone), cached."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, items: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [w for w in dict.fromkeys(items) if w not in self._cache]
        if missing:
            found = self._embedder.embed(missing)
            with self._lock:
                for w, v in zip(missing, found, strict=True):
                    self._cache[w] = v
                while len(self._cache) > _WORD_CACHE:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = [self._cache.get(w) for w in items]
        # A word evicted between the two steps by another thread is embedded again.
        if any(r is None for r in rows):
            return self._embedder.embed(list(items))
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 0), dtype=np.float32)


def build(
    vectors: WordVectors,
    phrases: Sequence[str],
    owners: Sequence[int],
    negated: Sequence[bool],
    idf: Weights,
    negations: frozenset[str],
) -> Alignment:
    """The alignment of an intent set's ``phrases`` (each with its intent and negation)."""
    rows: list[str] = []
    starts: list[int] = []
    of: list[int] = []
    neg: list[bool] = []
    for phrase, owner, no in zip(phrases, owners, negated, strict=True):
        found = content_words(phrase, negations)
        if found:
            starts.append(len(rows))
            rows.extend(found)
            of.append(owner)
            neg.append(no)
    matrix = vectors(rows) if rows else np.zeros((0, 1), dtype=np.float32)
    return Alignment(
        matrix,
        np.asarray([idf.weight(w) for w in rows], dtype=np.float32),
        np.asarray([key(w) for w in rows], dtype="<U5"),
        np.asarray(starts, dtype=np.int64),
        np.asarray(of, dtype=np.int64),
        np.asarray(neg, dtype=bool),
        idf,
    )


def of_intent_set(
    vectors: WordVectors,
    phrases: Sequence[tuple[str, int, bool]],
    aligned: Sequence[bool],
    negations: frozenset[str],
) -> Alignment:
    """The alignment of an intent set's own phrases (each with its intent index and whether it
    is negated), for the intents ``aligned`` marks.

    Words are weighted over the families' phrases, the small-talk examples and the set's
    intents, each intent's phrases one document: a word an intent's examples repeat is its key
    word ("cancel"), a word several intents use is common.
    """
    background = [p for f in FAMILIES for p in f.phrases]
    background += [p for examples in SMALL_TALK.values() for p in examples]
    owners = sorted({o for _, o, _ in phrases})
    documents = [" ".join(t for t, o, _ in phrases if o == n) for n in owners]
    idf = Weights.of([*background, *documents], negations)
    chosen = [p for p in phrases if aligned[p[1]]]
    return build(
        vectors,
        [t for t, _, _ in chosen],
        [o for _, o, _ in chosen],
        [n for _, _, n in chosen],
        idf,
        negations,
    )


def f_scores(
    alignment: Alignment,
    vectors: WordVectors,
    text: str,
    negations: frozenset[str],
    floor: float,
) -> np.ndarray:
    """Each aligned phrase's weighted F-measure against ``text`` (0 for a text without content
    words), in the order of ``alignment.owners``.

    A word pair's similarity is 1 when the two have the same ``key`` (as ``scoring`` compares
    words), else its cosine above ``floor``, rescaled to 0..1 (``floor`` 1: exact words only,
    a Dice coefficient weighted by rarity); precision is the
    text words' weighted mean best similarity to a word of the phrase, recall the phrase
    words' weighted mean best similarity to a word of the text.
    """
    found = content_words(text, negations)
    count = len(alignment.starts)
    if not found or count == 0:
        return np.zeros(count, dtype=np.float32)
    text_weights = np.asarray([alignment.idf.weight(w) for w in found], dtype=np.float32)
    sims = vectors(found) @ alignment.vectors.T  # (text words, phrase words): the one product
    sims = np.clip((sims - floor) / max(1.0 - floor, 1e-6), 0.0, 1.0)
    same = np.asarray([key(w) for w in found], dtype="<U5")[:, None] == alignment.keys[None, :]
    sims = np.where(same, 1.0, sims)
    per_text = np.maximum.reduceat(sims, alignment.starts, axis=1)  # (text words, phrases)
    precision = (text_weights @ per_text) / max(float(text_weights.sum()), 1e-6)
    per_phrase = sims.max(axis=0) * alignment.weights
    totals = np.add.reduceat(alignment.weights, alignment.starts)
    recall = np.add.reduceat(per_phrase, alignment.starts) / np.maximum(totals, 1e-6)
    total = precision + recall
    return np.where(total > 0, 2 * precision * recall / np.maximum(total, 1e-9), 0.0).astype(
        np.float32
    )


def per_intent(
    alignment: Alignment,
    scores: np.ndarray,
    text_negated: bool,
    penalty: float,
    closed: np.ndarray,
    intents: int,
) -> list[float]:
    """Each intent's best phrase F-measure, a phrase whose negation disagrees with the text's
    counted at ``penalty`` unless its intent is open (``closed`` false), as the matcher does."""
    disagree = (alignment.negations != text_negated) & closed[alignment.owners]
    scores = np.where(disagree, scores * penalty, scores)
    best = np.zeros(intents, dtype=np.float64)
    np.maximum.at(best, alignment.owners, scores.astype(np.float64))
    return best.tolist()

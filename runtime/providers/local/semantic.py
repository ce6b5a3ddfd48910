"""Semantic intent matching for the local provider: nearest example by meaning, plus exact rules.

Each intent's phrases (its examples and its description) are embedded once with the offline
model (``model.py``; the matrix of an intent set is cached, so a compiled flow's examples are
embedded once per process). A caller's text is embedded (tens of microseconds) and scored
against every intent open at the node, the node's and the global ones.

**The combination rule.** An intent's score is the larger of

* its **semantic** score: the best cosine similarity between the text and one of its phrases;
* its **exact** rule score (``scoring.score_phrase``), counted only where the rule is exact:
  ``contained`` (one of its phrases said as whole words, 0.9-1.0), except a bare yes/no phrase
  (``"no"`` inside ``"yep, no problem"`` is not an answer), which counts only through
  ``polarity`` (0.8): the text is a short answer (at most ``SHORT_ANSWER`` content words, so
  ``"never call this number again"`` is not a bare "no") that starts with a yes/no word,
  hesitations (``FILLERS``: "uh", "um") aside.

Then, best score first:

1. below ``THRESHOLD``: no match (the provider re-prompts as the flow says);
2. within ``MARGIN`` of a different intent's score (unless the best is exact and the other
   only semantic): **clarify**: the provider asks which of the two the caller meant instead of
   guessing (once; asked again, it is no match);
3. otherwise the best intent.

DTMF, slot values and ``when`` conditions never go through here: the engine and
``slots.read_slot`` decide them by rule. The thresholds were set on the evaluation sets in
``flows/eval/`` and are measured by ``bench/nlu.py``; the same text always gets the same
decision (no sampling, no state).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsl.ir import IntentTransition
from runtime.providers.local.model import StaticEmbedder, default_embedder
from runtime.providers.local.scoring import STOPWORDS, Score, score_phrase, words
from runtime.providers.local.slots import NO, YES, read_yes_no

THRESHOLD = 0.22
"""Below this best score the text matches no intent (unrelated utterances score ~0.0-0.2)."""
MARGIN = 0.03
"""Two different intents closer than this are a toss-up: ask, do not guess."""
CONFIDENT = 0.5
"""A semantic score this high is a clear paraphrase: it wins over slot filling and tools."""
SHORT_ANSWER = 3
"""At most this many content words for a yes/no word to be read as the whole answer."""
FILLERS = frozenset("uh um umm er erm hmm mm ah oh well".split())
"""Hesitations that speech recognition writes down; they are not the start of an answer."""
_CACHE_SIZE = 512


@dataclass(frozen=True)
class Decision:
    """What the matcher made of one text at one node."""

    scores: tuple[Score, ...]
    """Every open intent's score, best first."""
    winner: Score | None = None
    clarify: tuple[Score, Score] | None = None
    """The two intents to ask about, when they are too close to choose."""

    @property
    def exact(self) -> bool:
        return self.winner is not None and self.winner.rule != "semantic"

    def explain(self, limit: int = 4) -> str:
        shown = ", ".join(s.explain() for s in self.scores[:limit]) or "no intents"
        return f"scores: {shown}"


class IntentMatcher:
    """Scores text against intents by the combination rule in the module docstring."""

    def __init__(self, embedder: StaticEmbedder | None = None) -> None:
        self._embedder = embedder
        self._index: OrderedDict[tuple, tuple[np.ndarray, tuple[str, ...], tuple[int, ...]]]
        self._index = OrderedDict()
        self._lock = threading.Lock()

    @property
    def embedder(self) -> StaticEmbedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def _phrases(
        self, intents: Sequence[IntentTransition]
    ) -> tuple[np.ndarray, tuple[str, ...], tuple[int, ...]]:
        """The phrase matrix of an intent set (cached), its phrases and their intent index."""
        key = tuple((i.name, i.description, i.examples) for i in intents)
        with self._lock:
            hit = self._index.get(key)
            if hit is not None:
                self._index.move_to_end(key)
                return hit
        phrases: list[str] = []
        owners: list[int] = []
        for n, intent in enumerate(intents):
            for phrase in (*intent.examples, intent.description):
                if phrase.strip():
                    phrases.append(phrase)
                    owners.append(n)
        entry = (self.embedder.embed(phrases), tuple(phrases), tuple(owners))
        with self._lock:
            self._index[key] = entry
            while len(self._index) > _CACHE_SIZE:
                self._index.popitem(last=False)
        return entry

    def scores(self, text: str, intents: Sequence[IntentTransition]) -> list[Score]:
        """Every intent's combined score, best first (ties keep the intents' order)."""
        if not intents:
            return []
        matrix, phrases, owners = self._phrases(intents)
        best = [Score(i.name, 0.0, "semantic", "") for i in intents]
        if phrases:
            sims = matrix @ self.embedder.embed_one(text)
            for sim, phrase, n in zip(sims.tolist(), phrases, owners, strict=True):
                if sim > best[n].score:
                    best[n] = Score(intents[n].name, round(sim, 4), "semantic", phrase)
        answer = _short_answer(text)
        for n, intent in enumerate(intents):
            for phrase in intent.examples:
                value, rule = _exact(text, phrase, answer)
                if value > 0 and value >= best[n].score - 1e-6:
                    best[n] = Score(intent.name, round(value, 4), rule, phrase)
        return sorted(best, key=lambda s: -s.score)

    def decide(self, text: str, intents: Sequence[IntentTransition]) -> Decision:
        scores = tuple(self.scores(text, intents))
        if not scores or scores[0].score < THRESHOLD:
            return Decision(scores)
        first = scores[0]
        second = scores[1] if len(scores) > 1 else None
        if (
            second is not None
            and second.intent != first.intent
            and first.score - second.score < MARGIN
            and not (first.rule != "semantic" and second.rule == "semantic")
        ):
            return Decision(scores, clarify=(first, second))
        return Decision(scores, winner=first)


NEGATORS = frozenset("dont wont cant cannot not never".split())
"""No-words that negate the verb after them: "don't call me again" is a request, not a "no"."""


def _short_answer(text: str) -> bool | None:
    """The yes (True) or no (False) of a short answer that starts with one, else None."""
    content = [w for w in words(text) if w not in STOPWORDS and w not in FILLERS]
    if not content or len(content) > SHORT_ANSWER or not (content[0] in YES or content[0] in NO):
        return None
    if content[0] in NEGATORS and len(content) > 1 and content[1] not in YES | NO:
        return None  # a negated verb phrase: let the meaning decide
    return read_yes_no(text)


def _exact(text: str, phrase: str, answer: bool | None) -> tuple[float, str]:
    """The rule score of ``phrase`` when the rule is exact, else ``(0.0, "")``."""
    if all(w in YES or w in NO or w in STOPWORDS for w in words(phrase)):
        if answer is None or answer != read_yes_no(phrase):
            return 0.0, ""
        value, rule = score_phrase(text, phrase)
        return (value, rule) if rule == "contained" else (0.8, "polarity")
    value, rule = score_phrase(text, phrase)
    return (value, rule) if rule == "contained" else (0.0, "")

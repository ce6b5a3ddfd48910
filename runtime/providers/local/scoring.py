"""The rules by which the local provider scores caller text against an intent.

``semantic.IntentMatcher`` uses the exact ones (``contained``, ``polarity``) beside the
embedding model; ``choose``/``rank`` are the rules alone, the baseline of ``bench/nlu.py``.

For each intent, the candidate phrases are its examples and its description. The score of a
phrase against the caller's text is the first rule that applies:

1. **contained** (0.9 + 0.1 × phrase words / text words): the phrase, as whole words, appears
   in the text (``"yes"`` in ``"yes I can"``); the more of the text it covers, the better.
2. **polarity** (0.8): the phrase is a bare yes or no (``"yes"``, ``"no thanks"``: nothing
   but yes/no words and stop-words) and the text clearly answers the same way: its first
   content word is a yes/no word (``"sure, see you"`` vs ``"yes"``) and ``slots.read_yes_no``
   agrees. A yes-word further in (``"busy right now"``) is not an answer.
3. **overlap** (Dice coefficient): ``2·|T∩P| / (|T|+|P|)`` over content words (stop-words
   removed, words compared by a 5-letter prefix so ``reschedule``/``rescheduling`` meet).

An intent's score is its best phrase's score; the best intent wins when it reaches
``THRESHOLD`` (0.5) and beats the runner-up; an exact tie between two different intents is no
match (the provider never guesses).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dsl.ir import IntentTransition
from runtime.providers.local.slots import NO, YES, read_yes_no

THRESHOLD = 0.5
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an the i im me my we our you your it its is are was be been am to of in on at thanks "
    "for with and or so that this there they them he she his her do does did just please "
    "would could will can like want wants caller says say tell asks ask about".split()
)


@functools.lru_cache(maxsize=8192)
def words(text: str) -> tuple[str, ...]:
    """Lower-case words, apostrophes dropped (``can't`` and ``cant`` are one word). Cached: a
    decision asks for the words of the caller's text and of each phrase once per phrase."""
    return tuple(_WORD.findall(text.lower().replace("'", "").replace("\u2019", "")))


@functools.lru_cache(maxsize=8192)
def content(text: str) -> frozenset[str]:
    return frozenset(w[:5] for w in words(text) if w not in STOPWORDS)


@dataclass(frozen=True)
class Score:
    intent: str
    score: float
    rule: str
    phrase: str
    detail: str = ""
    """How a combined score was made (``semantic``: nearest phrase, hubness, centroid)."""

    def explain(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.intent}={self.score:.2f} ({self.rule} {self.phrase!r}{detail})"


def score_phrase(text: str, phrase: str) -> tuple[float, str]:
    t_words, p_words = words(text), words(phrase)
    if p_words and _contains(t_words, p_words):
        return 0.9 + 0.1 * min(1.0, len(p_words) / len(t_words)), "contained"
    polarity = read_yes_no(text) if _answers_yes_or_no(t_words) else None
    if (
        polarity is not None
        and all(w in YES or w in NO or w in STOPWORDS for w in p_words)
        and polarity == read_yes_no(phrase)
    ):
        return 0.8, "polarity"
    t, p = content(text), content(phrase)
    if not t or not p:
        return 0.0, "overlap"
    return 2 * len(t & p) / (len(t) + len(p)), "overlap"


def _answers_yes_or_no(t_words: Sequence[str]) -> bool:
    first = next((w for w in t_words if w not in STOPWORDS), None)
    return first is not None and (first in YES or first in NO)


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def score_intent(text: str, intent: IntentTransition) -> Score:
    best = Score(intent.name, 0.0, "overlap", "")
    for phrase in (*intent.examples, intent.description):
        value, rule = score_phrase(text, phrase)
        if value > best.score:
            best = Score(intent.name, value, rule, phrase)
    return best


def rank(text: str, intents: Iterable[IntentTransition]) -> list[Score]:
    """Scores of every intent, best first (stable for equal scores)."""
    return sorted((score_intent(text, i) for i in intents), key=lambda s: -s.score)


def choose(text: str, intents: Iterable[IntentTransition]) -> tuple[Score | None, list[Score]]:
    """The winning intent's score (or None) and every score, for explanations."""
    scores = rank(text, intents)
    if not scores or scores[0].score < THRESHOLD:
        return None, scores
    if (
        len(scores) > 1
        and scores[1].score == scores[0].score
        and scores[1].intent != scores[0].intent
    ):
        return None, scores
    return scores[0], scores

"""Small talk the local provider recognises offline: how are you, are you a robot, the weather.

A few examples per topic (the topics of ``runtime.engine.repair.CHITCHAT_ANSWERS``) are
embedded once with the offline WordLlama model (``model.default_embedder``; its threshold was
chosen for it, so it keeps it where the intents moved to the paired model); a caller's
text is small talk when its best cosine similarity to an example reaches ``THRESHOLD`` and
beats every open intent's score (``provider.py`` compares them), so "a real person please"
stays a request for a person while "are you a real person?" is a question about the agent;
text closer to a request of ``NOT_SMALL_TALK`` than to every example is not small talk. The
examples avoid words that flows use as answers (thanks, okay, bye, good morning): those are the
flow's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from runtime.providers.local.model import Embedder

EXAMPLES: dict[str, tuple[str, ...]] = {
    "greeting": ("hello", "hi there"),
    "wellbeing": (
        "how are you",
        "how are you doing today",
        "how's it going",
        "how have you been",
        "are you keeping well",
    ),
    "identity": (
        "are you a robot",
        "am I talking to a machine",
        "are you an AI",
        "is this a bot",
        "is this an automated system",
        "are you a real person",
        "who am I speaking with",
    ),
    "weather": (
        "what's the weather like",
        "is it raining where you are",
        "nice weather today",
        "how's the weather over there",
        "the weather has been awful",
    ),
    "other": ("tell me a joke", "do you like your job", "what's your favourite colour"),
}
"""Topic -> example phrases (the topic names are the engine's ``chitchat`` topics)."""

NOT_SMALL_TALK: tuple[str, ...] = (
    "can I speak to a real person",
    "put me through to a human",
    "get me someone real",
    "let me talk to somebody",
    "call me in the morning",
    "how do I do that",
)
"""Requests worded like small talk (a person, a time of day, how to do something): text closer
to one of these than to every example is left to the flow's intents."""

THRESHOLD = 0.4
"""Below this similarity to every example the text is not small talk. On the probes of
``tests/runtime/providers/local/test_chitchat.py`` small talk scores 0.57 and above, answers
0.29 and below; ``bench/chitchat.py`` measures recall and what it takes from the flows' intents
on the evaluation sets."""


@dataclass(frozen=True)
class Chitchat:
    topic: str
    score: float
    example: str

    def explain(self) -> str:
        return f"chitchat:{self.topic}={self.score:.2f} ~ {self.example!r}"


class ChitchatMatcher:
    """Scores text against the small-talk examples.

    Args:
        embedder: gives the offline embedder when first needed (the process's WordLlama
            model, ``model.default_embedder``, loaded once).
    """

    def __init__(self, embedder: Callable[[], Embedder]) -> None:
        self._embedder = embedder
        self._matrix: np.ndarray | None = None
        self._phrases = [(topic, p) for topic, ps in EXAMPLES.items() for p in ps]
        self._phrases += [("", p) for p in NOT_SMALL_TALK]
        self._lock = threading.Lock()

    def best(self, text: str) -> Chitchat | None:
        """The closest example, whatever its score (``None`` for empty text, or when a request
        of ``NOT_SMALL_TALK`` is closer)."""
        if not text.strip():
            return None
        embedder = self._embedder()
        with self._lock:
            if self._matrix is None:
                self._matrix = embedder.embed([p for _, p in self._phrases])
            matrix = self._matrix
        sims = matrix @ embedder.embed_one(text)
        i = int(np.argmax(sims))
        topic, phrase = self._phrases[i]
        if not topic:
            return None
        return Chitchat(topic, round(float(sims[i]), 4), phrase)

    def match(self, text: str) -> Chitchat | None:
        """The small talk ``text`` is, or ``None`` below ``THRESHOLD``."""
        found = self.best(text)
        return found if found is not None and found.score >= THRESHOLD else None

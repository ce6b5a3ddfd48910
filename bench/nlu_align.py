"""The word alignment's variants that are not fields of ``semantic.Tuning``, on the tuning set.

``runtime/providers/local/align.py`` aligns a text's content words to an example's, each word
weighted by its inverse document frequency, the pair's similarity the cosine of the matcher's
paired word vectors. ``bench/nlu_choose.py`` measures its shares and floor (``--set
alignment=...``, ``open_alignment``, ``align_floor``); this script measures, on every intent
(``alignment`` and ``open_alignment`` both set), what those fields cannot express, each by
replacing one function of ``align.py`` for the length of its rows:

* the word weights: all equal, the inverse document frequency squared (sharper), or less a
  constant (a word of every phrase near 0);
* the word vectors: WordLlama's alone or the distilled table's alone, instead of the pair;
* precision alone or recall alone instead of the F-measure;
* each intent's alignment centred on the set's mean, or taken over the runner-up's, so that it
  re-ranks intents instead of lifting them all.

Figures are on both halves of the tuning set ``bench/nlu_dev/`` beside the matcher now, as
``nlu_choose`` prints them; the evaluation sets (``flows/eval/``) are not read. Last, the cost
of the alignment where the matcher now adds it (the nps set, whose open intents get it): one
decision's thread CPU with and without it, five passes after a warm one.

Usage: .venv/bin/python bench/nlu_align.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from nlu_choose import DEV, _row

from runtime.providers.local import align
from runtime.providers.local.evalset import load_all
from runtime.providers.local.model import intent_embedder
from runtime.providers.local.semantic import IntentMatcher, Tuning

SETTINGS = (
    ("beside Dice, 0.25, floor 0.3", {"alignment": 0.25, "align_floor": 0.3}),
    ("instead of Dice, 0.5, floor 0.3", {"alignment": 0.5, "overlap": 0.0, "align_floor": 0.3}),
    ("instead of Dice, 0.5, exact words", {"alignment": 0.5, "overlap": 0.0, "align_floor": 1.0}),
)


@contextmanager
def replaced(name: str, function: Callable) -> Iterator[None]:
    original = getattr(align, name)
    setattr(align, name, function)
    try:
        yield
    finally:
        setattr(align, name, original)


def _weight(shape: Callable[[float], float]) -> Callable[[align.Weights, str], float]:
    idf = align.Weights.weight
    return lambda self, word: shape(idf(self, word))


@contextmanager
def weights(shape: Callable[[float], float]) -> Iterator[None]:
    original = align.Weights.weight
    align.Weights.weight = _weight(shape)  # type: ignore[method-assign]
    try:
        yield
    finally:
        align.Weights.weight = original  # type: ignore[method-assign]


def _one_side(side: str) -> Callable:
    """``align.f_scores`` returning precision or recall alone."""

    def f_scores(alignment, vectors, text, negations, floor):
        found = align.content_words(text, negations)
        count = len(alignment.starts)
        if not found or count == 0:
            return np.zeros(count, dtype=np.float32)
        sims = vectors(found) @ alignment.vectors.T
        sims = np.clip((sims - floor) / max(1.0 - floor, 1e-6), 0.0, 1.0)
        keys = np.asarray([align.key(w) for w in found], dtype="<U5")
        sims = np.where(keys[:, None] == alignment.keys[None, :], 1.0, sims)
        if side == "precision":
            weights = np.asarray([alignment.idf.weight(w) for w in found], dtype=np.float32)
            per_text = np.maximum.reduceat(sims, alignment.starts, axis=1)
            return ((weights @ per_text) / max(float(weights.sum()), 1e-6)).astype(np.float32)
        per_phrase = sims.max(axis=0) * alignment.weights
        totals = np.add.reduceat(alignment.weights, alignment.starts)
        found_sum = np.add.reduceat(per_phrase, alignment.starts)
        return (found_sum / np.maximum(totals, 1e-6)).astype(np.float32)

    return f_scores


def _relative(to: str) -> Callable:
    """``align.per_intent`` less the set's mean or the runner-up's alignment."""
    per_intent = align.per_intent

    def relative(*args):
        best = per_intent(*args)
        ranked = sorted(best, reverse=True)
        base = sum(best) / len(best) if to == "mean" else (ranked[1] if len(ranked) > 1 else 0.0)
        return [b - base for b in best]

    return relative


def main() -> None:
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; sets {DEV}")
    sets = load_all(DEV)
    print(
        "| variant | top-1 (half 0 / half 1) | decided right | of | unrelated no-match | p99 CPU |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    _row("now", sets, IntentMatcher(), False)
    pair = intent_embedder()
    variants: list[tuple[str, Callable[[], object]]] = [
        ("weights all equal", lambda: weights(lambda w: 1.0)),
        ("weights idf squared", lambda: weights(lambda w: w * w)),
        ("weights idf - 2.5", lambda: weights(lambda w: max(w - 2.5, 0.1))),
        ("precision alone", lambda: replaced("f_scores", _one_side("precision"))),
        ("recall alone", lambda: replaced("f_scores", _one_side("recall"))),
        ("centred on the set's mean", lambda: replaced("per_intent", _relative("mean"))),
        ("over the runner-up", lambda: replaced("per_intent", _relative("second"))),
    ]
    for label, context in variants:
        with context():  # type: ignore[attr-defined]
            for setting, fields in SETTINGS:
                tuning = Tuning(**{**fields, "open_alignment": fields["alignment"]})
                _row(f"{label}; {setting}", sets, IntentMatcher(tuning=tuning), False)
    for label, model in (("WordLlama's", pair.parts[0]), ("the distilled table's", pair.parts[1])):
        for setting, fields in SETTINGS:
            tuning = Tuning(**{**fields, "open_alignment": fields["alignment"]})
            matcher = IntentMatcher(tuning=tuning)
            matcher._words = align.WordVectors(model)
            _row(f"{label} word vectors alone; {setting}", sets, matcher, False)
    cost([s for s in sets if s.name == "nps"])
    print(f"load average {os.getloadavg()[0]:.2f} at end")


def cost(sets: list) -> None:
    cases = [c for s in sets for c in s.cases]
    for label, tuning in (("without", Tuning(open_alignment=0.0)), ("with", Tuning())):
        matcher = IntentMatcher(tuning=tuning)
        for case in cases:
            matcher.decide(case.text, case.intents)
        cpu: list[float] = []
        for _ in range(5):
            for case in cases:
                c0 = time.thread_time()
                matcher.decide(case.text, case.intents)
                cpu.append(time.thread_time() - c0)
        cpu.sort()
        p50, p99 = cpu[len(cpu) // 2], cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))]
        print(
            f"nps, {label} the alignment: {len(cpu)} decisions, thread CPU p50 "
            f"{p50 * 1e6:.0f} µs, p99 {p99 * 1e6:.0f} µs"
        )


if __name__ == "__main__":
    main()

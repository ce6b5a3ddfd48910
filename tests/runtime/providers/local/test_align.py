"""Weighted soft word alignment: rare words weigh more, a synonym aligns above an unrelated word,
the same text always gets the same figures, and the matcher adds it to open intents only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dsl import compile_file
from dsl.ir import IntentTransition
from runtime.providers.local import align
from runtime.providers.local.evalset import open_intents
from runtime.providers.local.model import intent_embedder
from runtime.providers.local.semantic import NEGATIONS, IntentMatcher, Tuning

FLOWS = Path(__file__).resolve().parents[4] / "flows"


@pytest.fixture(scope="module")
def vectors() -> align.WordVectors:
    return align.WordVectors(intent_embedder())


def _flat(vectors: align.WordVectors, phrases: list[str]) -> align.Alignment:
    """The alignment of ``phrases`` (one intent each) with every word weighing the same."""
    idf = align.Weights.of(["filler words"], NEGATIONS)
    n = len(phrases)
    return align.build(vectors, phrases, list(range(n)), [False] * n, idf, NEGATIONS)


def _intents_at(flow_file: str, node: str) -> tuple[IntentTransition, ...]:
    flow = compile_file(str(FLOWS / flow_file)).flow
    assert flow is not None
    return open_intents(flow, node)


def test_a_word_every_phrase_uses_weighs_less_than_a_word_one_phrase_uses() -> None:
    idf = align.Weights.of(["call me now", "not now thanks", "cancel it now"], NEGATIONS)
    assert idf.weight("now") < idf.weight("cancel") < idf.weight("rebook")


def test_over_the_common_wordings_a_vague_word_weighs_less_than_a_key_word(vectors) -> None:
    idf = align.of_intent_set(vectors, [], [], NEGATIONS).idf
    assert idf.documents > 200  # the families' phrases and the small talk
    assert idf.weight("time") < idf.weight("calls")
    assert idf.weight("call") < idf.weight("rebook")
    assert idf.weight("rescheduling") == idf.weight("reschedule")  # counted by five letters


def test_negation_and_stop_words_are_left_to_the_matcher() -> None:
    assert align.content_words("I don't want any more calls, no", NEGATIONS) == [
        "any",
        "more",
        "calls",
    ]


def test_a_synonym_aligns_above_an_unrelated_word(vectors) -> None:
    alignment = _flat(vectors, ["phone", "kids"])
    phone, kids = align.f_scores(alignment, vectors, "calls", NEGATIONS, 0.2).tolist()
    assert phone > 0.2
    assert kids == 0.0


def test_words_that_share_their_first_five_letters_align_fully(vectors) -> None:
    alignment = _flat(vectors, ["reschedule", "appointment"])
    same, other = align.f_scores(alignment, vectors, "rescheduling", NEGATIONS, 0.2).tolist()
    assert same == pytest.approx(1.0)
    assert other < 0.5


def test_the_f_measure_counts_both_the_texts_words_and_the_phrases(vectors) -> None:
    alignment = _flat(vectors, ["cancel appointment"])
    (half,) = align.f_scores(alignment, vectors, "cancel", NEGATIONS, 0.99).tolist()
    (whole,) = align.f_scores(alignment, vectors, "cancel the appointment", NEGATIONS, 0.99)
    assert whole == pytest.approx(1.0)
    assert half == pytest.approx(2 * 1.0 * 0.5 / 1.5, abs=0.05)  # precision 1, recall ~1/2


def test_a_text_without_content_words_aligns_to_nothing(vectors) -> None:
    alignment = _flat(vectors, ["cancel appointment"])
    assert align.f_scores(alignment, vectors, "I do not", NEGATIONS, 0.2).tolist() == [0.0]


def test_the_same_text_gets_the_same_figures_whatever_was_seen_before() -> None:
    texts = ["the monthly fee feels steep", "rebook it please", "calls at dinner time"]
    phrases = ["the price is too high", "move the appointment", "stop phoning me"]
    runs = []
    for order in (texts, texts[::-1]):
        vectors = align.WordVectors(intent_embedder())
        alignment = _flat(vectors, phrases)
        got = {t: align.f_scores(alignment, vectors, t, NEGATIONS, 0.2).tobytes() for t in order}
        runs.append(got)
    assert runs[0] == runs[1]


def test_an_open_intent_gets_the_alignment_and_a_closed_one_does_not() -> None:
    intents = _intents_at("nps.flow", "detractor")
    on, off = IntentMatcher(), IntentMatcher(tuning=Tuning(open_alignment=0.0))
    text = "the monthly fee feels steep"
    with_it = {s.intent: s.score for s in on.scores(text, intents)}
    without = {s.intent: s.score for s in off.scores(text, intents)}
    assert with_it["gives_reason"] > without["gives_reason"]
    assert {k: v for k, v in with_it.items() if k != "gives_reason"} == {
        k: v for k, v in without.items() if k != "gives_reason"
    }
    index = on._phrases(intents)
    assert index.alignment is not None
    assert set(index.alignment.owners.tolist()) == {0}  # gives_reason's own phrases alone


def test_an_intent_set_without_open_intents_is_scored_as_before() -> None:
    intents = _intents_at("reminder.flow", "greet")
    on, off = IntentMatcher(), IntentMatcher(tuning=Tuning(open_alignment=0.0))
    assert on._phrases(intents).alignment is None
    for text in ("can we move it to Friday", "I'm cooking right now", "please cancel it"):
        assert on.scores(text, intents) == off.scores(text, intents)


def test_unrelated_text_stays_unmatched_at_an_open_question() -> None:
    intents = _intents_at("nps.flow", "detractor")
    for text in ("my dog keeps barking at the postman", "I'm watching the football"):
        assert IntentMatcher().decide(text, intents).winner is None


def test_aligning_every_intent_scores_closed_intents_too() -> None:
    intents = _intents_at("reminder.flow", "greet")
    matcher = IntentMatcher(tuning=Tuning(alignment=0.5))
    index = matcher._phrases(intents)
    assert index.alignment is not None
    assert len(np.unique(index.alignment.owners)) == len(intents)

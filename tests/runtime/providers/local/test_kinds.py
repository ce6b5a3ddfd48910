"""The request classifier (kinds.py): its features, a deterministic fit, a corpus apart from
every set it is measured on, and how it moves the matcher's scores (only down)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runtime.providers.local import kinds
from runtime.providers.local.evalset import load_all
from runtime.providers.local.families import FAMILIES
from runtime.providers.local.model import intent_embedder
from runtime.providers.local.scoring import words
from runtime.providers.local.semantic import IntentMatcher, Tuning
from tests.runtime.providers.local.test_families import intents_at

ROOT = Path(__file__).resolve().parents[4]
SETS = ("flows/eval", "bench/nlu_dev", "bench/nlu_val", "bench/nlu_val2", "bench/nlu_clauses")


def said(text: str) -> str:
    return " ".join(words(text))


@pytest.fixture(scope="module")
def model() -> kinds.Kinds:
    return kinds.load()


def test_a_negation_marks_the_words_after_it_within_its_clause() -> None:
    got = kinds.features("that day is not good for me, Friday works")
    assert "not_good" in got and "not_for" in got and "not_me" in got
    assert "friday" in got and "works" in got  # the next clause is not negated
    assert "not_day" not in got
    assert "call off" in kinds.features("call off the visit")


def test_every_corpus_file_is_a_family_or_none_with_enough_utterances() -> None:
    files = {p.stem for p in kinds.CORPUS.glob("*.txt")}
    assert files == {f.name for f in FAMILIES} | {kinds.NONE}
    for path in kinds.CORPUS.glob("*.txt"):
        lines = [x for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
        assert len(lines) >= 100, path.name


def test_no_corpus_utterance_is_an_utterance_of_any_set_it_is_measured_on() -> None:
    # Failing, it shows the corpus lines only, never the held-out sets' utterances.
    held = {said(c.text) for folder in SETS for s in load_all(ROOT / folder) for c in s.cases}
    data = kinds.corpus()
    taken = [t for lines in data.values() for t in lines if said(t) in held]
    assert taken == []


def test_no_utterance_is_given_two_kinds() -> None:
    seen: dict[str, str] = {}
    twice = []
    for kind, lines in kinds.corpus().items():
        for t in lines:
            other = seen.setdefault(said(t), kind)
            if other != kind:
                twice.append((t, other, kind))
    assert twice == []


def test_an_unknown_corpus_file_is_named_with_how_to_fix_it(tmp_path: Path) -> None:
    (tmp_path / "smalltalk.txt").write_text("# not a family\nnice weather\n")
    with pytest.raises(ValueError, match=r"smalltalk\.txt name no built-in family"):
        kinds.corpus(tmp_path)


def test_a_fit_gives_the_same_bytes_every_time() -> None:
    data = {
        "cancel": ["cancel it", "call the visit off", "scrap my booking"],
        "reschedule": ["another day please", "can we move it", "a later slot"],
        kinds.NONE: ["the dog is barking", "what a lovely day"],
    }
    embedder = intent_embedder()
    a, b = kinds.fit(data, embedder), kinds.fit(data, embedder)
    for x, y in ((a.words_weights, b.words_weights), (a.vector_weights, b.vector_weights)):
        assert x.tobytes() == y.tobytes()
    assert a.labels == ("cancel", kinds.NONE, "reschedule")


def test_a_saved_model_loads_the_same_and_a_damaged_one_says_how_to_remake_it(
    tmp_path: Path, model: kinds.Kinds
) -> None:
    path = tmp_path / "k.npz"
    model.save(path)
    again = kinds.Kinds.load(path)
    texts = ["could we find another day"]
    vectors = intent_embedder().embed(texts)
    assert np.array_equal(model.probabilities(texts, vectors), again.probabilities(texts, vectors))
    path.write_bytes(b"not a model")
    with pytest.raises(Exception, match=r"python -m runtime.providers.local.kinds"):
        kinds.Kinds.load(path)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("please knock the appointment on the head, I won't need it", "cancel"),
        ("is there any chance of a slot later in the month instead", "reschedule"),
        ("my number should come off your calling list", "opt_out"),
        ("I'll be in the house the whole afternoon", "at_home"),
        ("I'll send the money across on Friday", "will_pay"),
        ("the kids have left their bikes in the drive again", kinds.NONE),
    ],
)
def test_the_classifier_knows_common_requests_it_was_not_shown(
    model: kinds.Kinds, text: str, kind: str
) -> None:
    assert said(text) not in {said(t) for lines in kinds.corpus().values() for t in lines}
    p = model.probabilities([text], intent_embedder().embed([text]))[0]
    assert model.labels[int(np.argmax(p))] == kind


def test_the_classifier_only_lowers_scores_and_zero_leaves_it_out() -> None:
    greet = intents_at("reminder.flow", "greet")
    off = IntentMatcher(tuning=Tuning(kinds=0.0))
    on = IntentMatcher(tuning=Tuning(kinds=0.4))
    for text in ("I'd like to call the whole visit off", "the dog's chewing my slipper"):
        before = {s.intent: s for s in off.scores(text, greet)}
        after = {s.intent: s for s in on.scores(text, greet)}
        for name, s in after.items():
            assert s.score <= before[name].score + 1e-9
        assert max(s.score for s in after.values()) <= max(s.score for s in before.values())
    assert off._phrases(greet).kinds is None


@pytest.mark.parametrize(
    ("flow", "node", "text", "meant"),
    [
        ("reminder.flow", "greet", "bin the appointment please", "cancel"),
        ("reminder.flow", "greet", "Tuesday's hopeless, have you anything next week", "reschedule"),
        ("payment_reminder.flow", "explain", "pop me on a payment plan", "will_pay"),
    ],
)
def test_a_request_the_examples_miss_is_ranked_by_its_kind(flow, node, text, meant) -> None:
    held = {said(c.text) for folder in SETS for s in load_all(ROOT / folder) for c in s.cases}
    assert said(text) not in held
    intents = intents_at(flow, node)
    off = IntentMatcher(tuning=Tuning(kinds=0.0)).scores(text, intents)
    on = IntentMatcher(tuning=Tuning(kinds=0.4)).scores(text, intents)
    assert off[0].intent != meant
    assert on[0].intent == meant
    assert "kind -" in next(s for s in on if s.intent == off[0].intent).detail

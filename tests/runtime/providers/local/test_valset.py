"""The validation set of bench/nlu_val/: loads, has the size it promises, and is fresh: none
of its utterances is one of the tuning set's, the evaluation sets' or the flows' examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.providers.local.evalset import EvalSet, load_all
from runtime.providers.local.scoring import words

ROOT = Path(__file__).resolve().parents[4]
VALIDATION = ROOT / "bench" / "nlu_val"
FLOWS = {"reminder", "payment_reminder", "voicemail", "nps", "receptionist", "survey"}
WEIGHTED = {"reminder", "payment_reminder"}
"""Flows with 40 paraphrases or more and 10 unrelated utterances; the others have 15 and 5."""


def said(text: str) -> str:
    """The words a caller said, whatever the case and punctuation."""
    return " ".join(words(text))


@pytest.fixture(scope="module")
def validation() -> list[EvalSet]:
    return load_all(VALIDATION)


def test_the_validation_set_covers_six_flows_with_the_promised_sizes(validation) -> None:
    sizes = {s.name: (len(s.paraphrases), len(s.unrelated)) for s in validation}
    assert set(sizes) == FLOWS
    for name, (paraphrases, unrelated) in sizes.items():
        least = (40, 10) if name in WEIGHTED else (15, 5)
        assert paraphrases >= least[0] and unrelated >= least[1], (name, sizes[name])


def test_no_validation_utterance_is_a_tuning_or_evaluation_utterance(validation) -> None:
    seen = {
        "tuning": {said(c.text) for s in load_all(ROOT / "bench" / "nlu_dev") for c in s.cases},
        "evaluation": {said(c.text) for s in load_all(ROOT / "flows" / "eval") for c in s.cases},
    }
    # Names only the validation utterance: the other sets stay unread by whoever fixes it.
    collisions = [
        (where, s.name, c.node, c.text)
        for s in validation
        for c in s.cases
        for where, texts in seen.items()
        if said(c.text) in texts
    ]
    assert collisions == []


def test_no_validation_utterance_is_an_example_of_an_intent_open_at_its_node(validation) -> None:
    copied = [
        (s.name, c.node, c.text)
        for s in validation
        for c in s.cases
        if said(c.text) in {said(e) for i in c.intents for e in i.examples}
    ]
    assert copied == []


def test_no_utterance_is_written_twice_in_the_validation_set(validation) -> None:
    texts = [said(c.text) for s in validation for c in s.cases]
    assert sorted({t for t in texts if texts.count(t) > 1}) == []

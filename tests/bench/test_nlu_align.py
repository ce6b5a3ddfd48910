"""bench/nlu_align.py's variants: each side of the F-measure is what ``align.f_scores`` combines,
and every replaced function is put back."""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import nlu_align  # noqa: E402

from runtime.providers.local import align  # noqa: E402
from runtime.providers.local.model import intent_embedder  # noqa: E402
from runtime.providers.local.semantic import NEGATIONS  # noqa: E402


@pytest.fixture(scope="module")
def alignment_and_vectors() -> tuple[align.Alignment, align.WordVectors]:
    vectors = align.WordVectors(intent_embedder())
    phrases = ["the price is too high", "cancel the appointment", "stop phoning me"]
    idf = align.Weights.of(["call me now", "the price", "not now"], NEGATIONS)
    built = align.build(vectors, phrases, [0, 1, 2], [False] * 3, idf, NEGATIONS)
    return built, vectors


def test_precision_and_recall_alone_make_the_f_measure(alignment_and_vectors) -> None:
    alignment, vectors = alignment_and_vectors
    text = "the monthly price keeps going up, cancel it"
    p = nlu_align._one_side("precision")(alignment, vectors, text, NEGATIONS, 0.2)
    r = nlu_align._one_side("recall")(alignment, vectors, text, NEGATIONS, 0.2)
    f = align.f_scores(alignment, vectors, text, NEGATIONS, 0.2)
    total = p + r
    expected = np.where(total > 0, 2 * p * r / np.maximum(total, 1e-9), 0.0)
    assert np.allclose(f, expected, atol=1e-6)
    assert (p != r).any() and (f > 0).any()


def test_every_replaced_function_is_put_back() -> None:
    f_scores, per_intent, weight = align.f_scores, align.per_intent, align.Weights.weight
    with nlu_align.replaced("f_scores", nlu_align._one_side("recall")):
        assert align.f_scores is not f_scores
    with nlu_align.weights(lambda w: 1.0):
        assert align.Weights.weight is not weight
    with nlu_align.replaced("per_intent", nlu_align._relative("mean")):
        assert align.per_intent is not per_intent
    assert (align.f_scores, align.per_intent, align.Weights.weight) == (
        f_scores,
        per_intent,
        weight,
    )

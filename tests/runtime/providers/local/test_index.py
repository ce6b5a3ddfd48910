"""The phrase index's hubness and centroids: what they count, what they leave out."""

from __future__ import annotations

import numpy as np

from runtime.providers.local.index import centroids, hubness, spreads


def unit(*rows: list[float]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_hubness_is_the_mean_similarity_to_the_nearest_background_phrases() -> None:
    phrases = unit([1, 0, 0])
    background = unit([1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1])
    none = np.zeros((1, 4), dtype=bool)
    got = hubness(phrases, background, none, neighbours=2)
    assert np.allclose(got, [np.sqrt(0.5)])  # the two at 45 degrees, not the two at 90


def test_a_phrase_is_no_hub_of_itself_nor_of_the_wordings_its_intent_owns() -> None:
    phrases = unit([1, 0, 0])
    background = unit([1, 0, 0], [1, 1, 0], [0, 1, 0])
    excluded = np.asarray([[False, True, False]])
    got = hubness(phrases, background, excluded, neighbours=1)
    assert np.allclose(got, [0.0])  # itself (identical) and the excluded row left out


def test_hubness_of_an_empty_set_or_background_is_zero() -> None:
    assert (
        hubness(np.zeros((0, 3), np.float32), unit([1, 0, 0]), np.zeros((0, 1), bool), 5).size == 0
    )
    got = hubness(unit([1, 0, 0]), np.zeros((0, 3), np.float32), np.zeros((1, 0), bool), 5)
    assert got.tolist() == [0.0]


def test_centroids_keep_negated_and_other_phrases_apart_and_skip_family_phrases() -> None:
    matrix = unit([1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1])
    owners = np.asarray([0, 0, 0, 1])
    own = np.asarray([True, True, False, True])  # row 2 is a family phrase
    negations = np.asarray([False, True, False, False])
    cents, of, negated = centroids(matrix, owners, own, negations, intents=3)
    assert of.tolist() == [0, 0, 1]  # intent 2 has no phrase, no centroid
    assert negated.tolist() == [False, True, False]
    assert np.allclose(cents[0], [1, 0, 0]) and np.allclose(cents[1], [0, 1, 0])
    assert np.allclose(np.linalg.norm(cents, axis=1), 1.0)


def test_the_spread_is_the_mean_similarity_between_two_different_examples() -> None:
    matrix = unit([1, 0], [0, 1], [1, 1], [1, 0])
    owners = np.asarray([0, 0, 0, 1])
    examples = np.asarray([True, True, False, True])  # row 2: a description or family phrase
    got = spreads(matrix, owners, examples, intents=2)
    # intent 0: its two examples are orthogonal; intent 1 has one example, nothing to compare
    assert np.allclose(got, [0.0, 1.0])

"""bench/tokenfit.py fits a static table so that sentence means approach their targets.

The tokenlearn-style variant of the distilled table (bench/README.md, sixth session) rests on
this fit: each test builds a small synthetic table and corpus whose answer is known.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import tokenfit  # noqa: E402

from runtime.providers.local.evalset import load_all  # noqa: E402
from runtime.providers.local.scoring import words  # noqa: E402

SENTENCES = [[0, 1, 2], [2, 3], [1, 1, 4], [5, 0], [3, 4, 5, 6]]
"""Five sentences over tokens 0-6 of a vocabulary of 10: tokens 7-9 appear in none."""


def _table() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(10, 4)).astype(np.float32)


def _means(table: np.ndarray) -> np.ndarray:
    return np.stack([table[ids].astype(np.float64).mean(axis=0) for ids in SENTENCES])


def _targets() -> np.ndarray:
    return np.random.default_rng(11).normal(size=(len(SENTENCES), 4))


def test_the_design_matrix_averages_each_sentence_over_the_tokens_it_uses() -> None:
    matrix, used = tokenfit.design(SENTENCES)
    assert used.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert matrix[2].tolist() == [0, 2 / 3, 0, 0, 1 / 3, 0, 0]
    assert np.allclose(matrix.sum(axis=1), 1.0)


def test_fitted_means_reach_targets_a_corpus_can_reach() -> None:
    table, goal = _table(), _targets()
    fitted = tokenfit.fit(table, SENTENCES, goal, ridge=1e-6)
    # five sentences, seven free tokens: every target is reachable, so a tiny ridge meets it
    assert np.abs(_means(fitted) - goal).max() < 1e-3
    assert np.abs(_means(table) - goal).max() > 0.5


def test_a_larger_ridge_stays_closer_to_the_table_and_further_from_the_targets() -> None:
    table, goal = _table(), _targets()
    loose = tokenfit.fit(table, SENTENCES, goal, ridge=0.01)
    tight = tokenfit.fit(table, SENTENCES, goal, ridge=1.0)
    assert np.linalg.norm(tight - table) < np.linalg.norm(loose - table)
    assert np.linalg.norm(_means(tight) - goal) > np.linalg.norm(_means(loose) - goal)
    assert np.linalg.norm(_means(tight) - goal) < np.linalg.norm(_means(table) - goal)


def test_tokens_no_sentence_uses_keep_their_vectors_bit_for_bit() -> None:
    table = _table()
    fitted = tokenfit.fit(table, SENTENCES, _targets(), ridge=0.1)
    assert fitted[7:].tobytes() == table[7:].tobytes()
    assert not np.array_equal(fitted[:7], table[:7])
    assert fitted.dtype == table.dtype and fitted.shape == table.shape


def test_the_same_input_gives_the_same_table_bytes() -> None:
    first = tokenfit.fit(_table(), SENTENCES, _targets(), ridge=0.1)
    second = tokenfit.fit(_table(), SENTENCES, _targets(), ridge=0.1)
    assert first.tobytes() == second.tobytes()


def test_targets_point_where_the_transformer_points_at_the_length_the_table_has() -> None:
    rng = np.random.default_rng(3)
    table, mean = _table(), rng.normal(size=6)
    axes = np.linalg.qr(rng.normal(size=(6, 4)))[0].T  # four orthonormal axes of a 6-d space
    pooled = rng.normal(size=(len(SENTENCES), 6))
    goal = tokenfit.targets(pooled, mean, axes, SENTENCES, table)
    direction = (pooled - mean) @ axes.T
    cosines = (goal * direction).sum(axis=1) / (
        np.linalg.norm(goal, axis=1) * np.linalg.norm(direction, axis=1)
    )
    assert np.allclose(cosines, 1.0)
    assert np.allclose(np.linalg.norm(goal, axis=1), np.linalg.norm(_means(table), axis=1))


@pytest.mark.parametrize(
    ("sentences", "goal", "ridge", "message"),
    [
        ([[1], []], np.zeros((2, 4)), 0.1, r"sentences \[1\] have no tokens"),
        (SENTENCES, np.zeros((3, 4)), 0.1, r"targets are \(3, 4\), expected \(5, 4\)"),
        (SENTENCES, np.zeros((5, 4)), 0.0, "ridge must be positive"),
    ],
)
def test_bad_input_is_a_clear_error(sentences, goal, ridge, message) -> None:
    with pytest.raises(ValueError, match=message):
        tokenfit.fit(_table(), sentences, goal, ridge)


def test_no_generic_corpus_sentence_is_an_evaluation_or_tuning_utterance() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import nlu_fitted

    corpus = {" ".join(words(t)) for t in nlu_fitted.generic_sentences()}
    sets = [*load_all(ROOT / "flows" / "eval"), *load_all(ROOT / "bench" / "nlu_dev")]
    said = {" ".join(words(c.text)) for s in sets for c in s.cases}
    assert len(corpus) > 150
    assert corpus & said == set()

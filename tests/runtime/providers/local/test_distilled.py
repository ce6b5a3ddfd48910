"""The static table distilled from all-MiniLM-L6-v2, and the paired model of intent matching."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from runtime.providers.local import distilled
from runtime.providers.local.model import (
    DistilledEmbedder,
    ModelNotInstalled,
    PairedEmbedder,
    StaticEmbedder,
    intent_embedder,
    load_intent_embedder,
)


@pytest.fixture(scope="module")
def minilm() -> DistilledEmbedder:
    return DistilledEmbedder()


def test_the_table_covers_the_vocabulary_in_the_declared_dimensions() -> None:
    from tokenizers import Tokenizer

    table = distilled.load_table()
    size = Tokenizer.from_file(str(distilled.tokenizer_path())).get_vocab_size()
    assert table.shape == (size, distilled.DIMENSIONS) and table.dtype == np.float32
    assert np.isfinite(table).all()


def test_loads_without_touching_the_network(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the model tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    vectors = DistilledEmbedder().embed(["I'll be there", "stop calling me", ""])
    assert vectors.shape == (3, distilled.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    assert not vectors[2].any()


def test_meaning_brings_distilled_vectors_closer(minilm) -> None:
    ring = minilm.embed_one("ring me some other day")
    assert float(ring @ minilm.embed_one("call me back later")) > float(
        ring @ minilm.embed_one("I want to pay my bill")
    )


def test_a_paired_similarity_is_the_mean_of_the_two_models(minilm) -> None:
    wordllama = StaticEmbedder()
    paired = PairedEmbedder(wordllama, minilm)
    a, b = "take me off your calling list", "stop phoning this number"
    expected = (
        float(wordllama.embed_one(a) @ wordllama.embed_one(b))
        + float(minilm.embed_one(a) @ minilm.embed_one(b))
    ) / 2
    assert paired.dimensions == 512
    assert float(paired.embed_one(a) @ paired.embed_one(b)) == pytest.approx(expected, abs=1e-5)


def test_a_table_of_the_wrong_shape_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "table.npy"
    distilled.save(np.zeros((10, 3), dtype=np.float32), path)
    with pytest.raises(ModelNotInstalled, match="delete it and run"):
        distilled.load_table(path)


def test_a_saved_table_is_complete_and_leaves_no_partial_file(tmp_path) -> None:
    path = tmp_path / "models" / "table.npy"
    table = np.arange(2 * distilled.DIMENSIONS, dtype=np.float32).reshape(2, -1)
    distilled.save(table, path)
    assert np.array_equal(distilled.load_table(path), table)
    assert [p.name for p in path.parent.iterdir()] == ["table.npy"]


async def test_async_callers_share_the_process_intent_model() -> None:
    first = await load_intent_embedder()
    assert first is intent_embedder() and await load_intent_embedder() is first

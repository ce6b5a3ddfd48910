"""A voxflow worker that reports its heap on ``SIGUSR1``, for ``bench/soak.py --trace``.

Run: ``python bench/traced_worker.py OUT_DIR`` with the worker's environment; it runs
``runtime.worker.main()`` unchanged. Each ``SIGUSR1`` runs a full collection and writes
``OUT_DIR/heap-<n>.json``: the blocks Python's allocator holds (``sys.getallocatedblocks()``:
every live Python object and buffer it allocated, so RSS growing while it does not is memory
outside Python's heap: the Temporal SDK's Rust core, libuv, numpy's large buffers, allocator
fragmentation) and the objects the collector tracks, counted by type (the start-up heap the
worker froze is not among them). Both are cheap enough to sample a worker carrying calls.
Each heap file also holds the native figures of ``bench/native_memory.py`` (glibc's
``mallinfo2``, its arenas, the threads, ``smaps_rollup``'s ``Rss`` and ``Anonymous``); each
``SIGUSR2`` appends those alone, with the wall-clock time, as one line of
``OUT_DIR/native.jsonl`` (about 2 ms: the soak sends one with every sample).

With ``BENCH_TRACEMALLOC=1`` the first ``SIGUSR1`` also starts ``tracemalloc`` (10 frames)
and each one writes ``OUT_DIR/snap-<n>.pickle``: which source lines allocated what is held.
Tracing slows every allocation several-fold (a worker at 16 calls on a busy 2-core machine
fell behind its calls), so it is for short runs only. A bench launcher, not a production
switch: the worker never turns any of this on by itself.
"""

from __future__ import annotations

import collections
import gc
import json
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from native_memory import native_sample  # noqa: E402

FRAMES = 10


def _dump(out: Path, n: int, trace: bool) -> None:
    gc.collect()
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    heap = {
        "blocks": sys.getallocatedblocks(),
        "types": dict(counts.most_common(300)),
        "native": native_sample(),
    }
    if trace:
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
        tracemalloc.take_snapshot().dump(str(out / f"snap-{n}.pickle"))
    (out / f"heap-{n}.json").write_text(json.dumps(heap))


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    trace = os.environ.get("BENCH_TRACEMALLOC") == "1"
    taken = 0

    def on_usr1(_signum: int, _frame: object) -> None:
        nonlocal taken
        _dump(out, taken, trace)
        taken += 1

    def on_usr2(_signum: int, _frame: object) -> None:
        with (out / "native.jsonl").open("a") as native:
            native.write(json.dumps({"time": time.time(), **native_sample()}) + "\n")

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGUSR2, on_usr2)
    from runtime.worker import main as worker_main

    worker_main()


if __name__ == "__main__":
    main()

"""runtime/allocator.py caps glibc's arenas in a fresh process, and yields to MALLOC_ARENA_MAX.

Each case runs a new interpreter (arenas are per process and never go away) that may call
``limit_arenas()``, then starts eight threads that allocate at once and prints the arenas
glibc made (``malloc_info``, read by bench/native_memory.py).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import ctypes, sys, threading
sys.path.insert(0, {bench!r})
import native_memory
from runtime.allocator import limit_arenas
capped = limit_arenas() if sys.argv[1] == "limit" else None
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
start = threading.Barrier(8)
def allocate():
    start.wait()
    for _ in range(5_000):
        libc.malloc(256)
threads = [threading.Thread(target=allocate) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(capped, native_memory.arenas())
"""


def arenas_after_threads(mode: str, extra_env: dict[str, str] | None = None) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env.update({"PYTHONPATH": str(ROOT), **(extra_env or {})})
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(bench=str(ROOT / "bench")), mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


def test_threads_get_arenas_of_their_own_without_the_cap() -> None:
    # The control: what the cap below prevents does happen in a fresh process.
    assert arenas_after_threads("plain")[1] > 2


def test_limit_arenas_caps_a_fresh_process_at_two() -> None:
    assert arenas_after_threads("limit") == ("True", 2)


def test_malloc_arena_max_in_the_environment_wins() -> None:
    capped, arenas = arenas_after_threads("limit", {"MALLOC_ARENA_MAX": "4"})
    assert capped == "False"
    assert arenas == 4

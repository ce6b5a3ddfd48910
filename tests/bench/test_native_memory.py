"""bench/native_memory.py reads glibc's and the kernel's figures the soak relies on.

The soak's reading of a native RSS step (bench/README.md, soak section) rests on these
figures moving with real allocations, so each test allocates natively and checks that the
figure it reads moved accordingly.
"""

import ctypes
import mmap
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import native_memory  # noqa: E402

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)

MIB = 2**20


def test_mallinfo2_counts_a_small_allocation_in_use_and_a_large_one_as_mmapd() -> None:
    before = native_memory.mallinfo2()
    small = [libc.malloc(1024) for _ in range(4096)]  # 4 MiB in the arena
    large = libc.malloc(64 * MIB)  # over M_MMAP_THRESHOLD: a mapping of its own
    during = native_memory.mallinfo2()
    for pointer in small:
        libc.free(pointer)
    libc.free(large)
    after = native_memory.mallinfo2()
    assert during["uordblks"] - before["uordblks"] >= 4 * MIB
    assert during["hblkhd"] - before["hblkhd"] >= 64 * MIB
    assert during["hblkhd"] - after["hblkhd"] >= 64 * MIB
    assert after["uordblks"] < during["uordblks"] - 3 * MIB


def test_arenas_grow_when_threads_allocate_at_once() -> None:
    # Threads that contend for an arena get one of their own (glibc's arena_get2), up to
    # MALLOC_ARENA_MAX; the main thread's arena is always there.
    assert native_memory.arenas() >= 1
    start, held = threading.Barrier(8), []

    def allocate() -> None:
        start.wait()
        held.extend(libc.malloc(256) for _ in range(20_000))

    workers = [threading.Thread(target=allocate) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert native_memory.arenas() >= 2
    for pointer in held:
        libc.free(pointer)


def test_threads_and_smaps_rollup_see_a_thread_and_its_anonymous_memory() -> None:
    before = native_memory.smaps_rollup()
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    # A fresh anonymous mapping, every page written: malloc could hand back pages that freed
    # blocks of earlier tests left resident, which would not grow the process's memory.
    block = mmap.mmap(-1, 32 * MIB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    block.write(b"\x01" * (32 * MIB))
    try:
        # Other threads of the session (BLAS pools, executors of earlier tests) may come and
        # go meanwhile: the new thread is found by its own id, not by a difference of counts.
        tasks = os.listdir("/proc/self/task")
        assert str(thread.native_id) in tasks
        assert native_memory.threads() >= 2
        rollup = native_memory.smaps_rollup()
        assert rollup["Anonymous"] - before["Anonymous"] >= 30 * 1024
        assert rollup["Rss"] >= rollup["Anonymous"]
    finally:
        release.set()
        thread.join()
        block.close()

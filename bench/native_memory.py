"""What a process's memory outside Python's heap is made of, read from inside it (glibc, Linux).

For ``bench/traced_worker.py``: a worker whose RSS steps up while Python's allocated blocks
do not holds that memory natively, and these figures say where: glibc's arenas (``mallinfo2``,
``malloc_info``), its threads (each may get an arena of its own), and the kernel's view of
the process (``/proc/self/smaps_rollup``).

``mallinfo2(3)`` fields (glibc >= 2.33, sizes in bytes, summed over every arena):
``arena`` bytes the arenas got from the system (``sbrk`` and per-thread heaps), ``hblkhd``
bytes in chunks glibc ``mmap``'d on their own (allocations over ``M_MMAP_THRESHOLD``),
``uordblks`` bytes in use in the arenas, ``fordblks`` bytes free in the arenas (held, not
returned: fragmentation shows here), ``keepcost`` the top chunk's releasable bytes.
``malloc_info(3)`` writes one ``<heap nr=...>`` element per arena, so counting them gives
the arenas in use (``MALLOC_ARENA_MAX`` bounds them; by default 8 × cores on 64-bit).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import tempfile
from pathlib import Path

MALLINFO2_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO2_FIELDS]


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mallinfo2.restype = _Mallinfo2
_libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
_libc.fopen.restype = ctypes.c_void_p
_libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
_libc.fclose.argtypes = (ctypes.c_void_p,)

_HEAP = re.compile(rb'<heap nr="\d+">')


def mallinfo2() -> dict[str, int]:
    """glibc's ``mallinfo2()``: the fields above, in bytes (counts for ``ordblks`` etc.)."""
    info = _libc.mallinfo2()
    return {name: int(getattr(info, name)) for name in MALLINFO2_FIELDS}


def arenas() -> int:
    """The arenas glibc's allocator has created in this process (``malloc_info``'s heaps)."""
    with tempfile.NamedTemporaryFile(prefix="malloc-info-") as out:
        stream = _libc.fopen(out.name.encode(), b"w")
        if not stream:
            raise OSError(ctypes.get_errno(), f"fopen {out.name}")
        try:
            if _libc.malloc_info(0, stream) != 0:
                raise OSError(ctypes.get_errno(), "malloc_info")
        finally:
            _libc.fclose(stream)
        return len(_HEAP.findall(Path(out.name).read_bytes()))


def threads(pid: int | str = "self") -> int:
    """The threads of process ``pid`` (its ``/proc/<pid>/task`` entries)."""
    return len(os.listdir(f"/proc/{pid}/task"))


def smaps_rollup(pid: int | str = "self") -> dict[str, int]:
    """``/proc/<pid>/smaps_rollup`` in KiB: ``Rss``, ``Anonymous`` (heap, arenas, thread
    stacks, anonymous ``mmap``: what neither a file nor shared memory backs) and the rest."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[-1] == "kB":
            fields[name] = int(parts[0])
    return fields


def native_sample() -> dict[str, object]:
    """One sample of all of the above for this process, JSON-ready."""
    rollup = smaps_rollup()
    return {
        "mallinfo2": mallinfo2(),
        "arenas": arenas(),
        "threads": threads(),
        "rss_kib": rollup.get("Rss", 0),
        "anonymous_kib": rollup.get("Anonymous", 0),
    }

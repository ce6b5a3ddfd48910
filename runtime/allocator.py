"""glibc's malloc arenas in a worker: two, unless the operator chose otherwise.

glibc gives each thread that allocates an arena of its own, up to 8 per core on 64-bit
(``mallopt(3)``, ``M_ARENA_MAX``); an arena keeps the memory its thread freed for that
thread's later use, so a worker whose threads (the Temporal SDK's Rust core, the activity
pools, the event loop) each once needed a burst keeps every burst: its RSS steps up and stays.
Measured in bench/README.md (soak section, "Native memory and glibc's arenas"): in a
3,000-call soak with the default 16 arenas (2 cores) the arenas grew from 81 to 132 MiB, 80 MiB
of it free, RSS stepping up 17 MiB within one sample at a campaign's continue-as-new; with two
arenas they held at 75-86 MiB and RSS at 253-271 MiB.

``MALLOC_ARENA_MAX`` in the environment is glibc's own setting (read at start-up) and wins:
this module then leaves the allocator alone. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import os

ARENA_MAX_ENV = "MALLOC_ARENA_MAX"
WORKER_ARENAS = 2
_M_ARENA_MAX = -8  # <malloc.h>


def limit_arenas(arenas: int = WORKER_ARENAS) -> bool:
    """Cap this process's glibc malloc arenas at ``arenas``.

    Call it before the process starts its threads: an arena a thread already has stays.
    Returns whether the cap was set (False: ``MALLOC_ARENA_MAX`` is set, or the C library
    has no ``mallopt``).
    """
    if os.environ.get(ARENA_MAX_ENV) is not None:
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))

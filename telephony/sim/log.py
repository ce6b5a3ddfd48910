"""The simulator's own append-only log of every originate (JSON lines, fsync'd per record).

It belongs to the simulated PBX, not to voxflow: tests use it as the ground truth of what was
really dialled (e.g. "no attempt was dialled twice") across restarts of the workers.

Records: ``{"type": "originate", "attempt": ID, "number": N, "time": ISO8601}`` when the
Originate is accepted, ``{"type": "result", "attempt": ID, "number": N, "time": ...,
"result": "answered"|"busy"|"no_answer"|"congestion"|"rejected"|"failed"}`` when dialling
ends, and ``{"type": "hangup"|"redirect"|"dtmf", ...}`` for later call events.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path


class OriginateLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: dict[str, object]) -> None:
        record = {"time": datetime.now(UTC).isoformat(), **record}
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_log(path: str | Path) -> list[dict[str, object]]:
    """Every record; a torn last line (the sim killed mid-write) is skipped."""
    records = []
    path = Path(path)
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def originates_per_attempt(path: str | Path) -> Counter[str]:
    """How many times each attempt id was originated (should be 1 for every attempt)."""
    return Counter(str(r["attempt"]) for r in read_log(path) if r.get("type") == "originate")

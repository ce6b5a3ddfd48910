"""What the Calls page's filters send to ``GET /calls``, and how a call is named in its picker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any


def day_range(days: Sequence[date] | date | None) -> tuple[str | None, str | None]:
    """``since`` and ``before`` (ISO 8601, UTC) for the days picked: one day, or a first and
    last day, both included; ``(None, None)`` when none is picked."""
    if isinstance(days, date):
        days = (days,)
    picked = list(days or ())
    if not picked:
        return None, None
    first, last = picked[0], picked[-1]
    since = datetime.combine(first, time(), tzinfo=UTC)
    before = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    return since.isoformat(), before.isoformat()


def label(call: dict[str, Any]) -> str:
    """``2026-11-23 15:04 UTC · +12125550100 · confirmed · nov · <id>``: when, who, how it
    ended and where from, then its id (two calls never share a label)."""
    started = datetime.fromisoformat(call["started_at"]).astimezone(UTC)
    parts = [
        f"{started:%Y-%m-%d %H:%M} UTC",
        call["phone"] or "no number",
        call["outcome"] or "in progress",
        call["campaign"] or call["direction"],
        call["id"],
    ]
    return " · ".join(parts)

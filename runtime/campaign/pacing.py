"""Dial pacing: how many calls may start now, under max concurrency, calls per minute and ramp.

Pure functions over a small state the campaign workflow keeps (and carries across
continue-as-new): when the campaign started, and the grant times of the last minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dsl.ir import Pacing

MINUTE = timedelta(minutes=1)


@dataclass
class PacingState:
    started_at: datetime
    """When dialling began (the ramp counts from here)."""
    recent_grants: list[datetime] = field(default_factory=list)
    """Grant times within the last minute, oldest first."""


def concurrency_limit(pacing: Pacing, started_at: datetime, now: datetime) -> int:
    """Calls allowed at once at ``now``: the ramp (if any) capped by ``max_concurrent``."""
    if pacing.ramp_start is None:
        return pacing.max_concurrent
    steps = int((now - started_at) / timedelta(milliseconds=pacing.ramp_every_ms))
    return min(pacing.max_concurrent, pacing.ramp_start + pacing.ramp_step * max(steps, 0))


def prune(state: PacingState, now: datetime) -> None:
    state.recent_grants = [t for t in state.recent_grants if now - t < MINUTE]


def available(pacing: Pacing, state: PacingState, in_flight: int, now: datetime) -> int:
    """How many new calls may start at ``now`` with ``in_flight`` calls running."""
    prune(state, now)
    free = concurrency_limit(pacing, state.started_at, now) - in_flight
    if pacing.per_minute is not None:
        free = min(free, pacing.per_minute - len(state.recent_grants))
    return max(free, 0)


def record_grant(state: PacingState, now: datetime) -> None:
    state.recent_grants.append(now)


def next_capacity_at(pacing: Pacing, state: PacingState, now: datetime) -> datetime | None:
    """The next moment capacity grows without any call ending: the oldest grant leaving the
    per-minute window, or the next ramp step. None when neither applies."""
    moments = []
    if pacing.per_minute is not None and state.recent_grants:
        moments.append(state.recent_grants[0] + MINUTE)
    if pacing.ramp_start is not None:
        if concurrency_limit(pacing, state.started_at, now) < pacing.max_concurrent:
            every = timedelta(milliseconds=pacing.ramp_every_ms)
            steps = int((now - state.started_at) / every) + 1
            moments.append(state.started_at + steps * every)
    future = [m for m in moments if m > now]
    return min(future) if future else None

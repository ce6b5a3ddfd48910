from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl.ir import Pacing
from runtime.campaign.pacing import (
    PacingState,
    available,
    concurrency_limit,
    next_capacity_at,
    record_grant,
)

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_concurrency_caps_new_calls() -> None:
    state = PacingState(T0)
    assert available(Pacing(max_concurrent=3), state, in_flight=2, now=T0) == 1
    assert available(Pacing(max_concurrent=3), state, in_flight=5, now=T0) == 0


def test_per_minute_budget_refills_as_grants_age() -> None:
    pacing = Pacing(max_concurrent=10, per_minute=2)
    state = PacingState(T0)
    record_grant(state, T0)
    record_grant(state, T0 + timedelta(seconds=10))
    assert available(pacing, state, 0, T0 + timedelta(seconds=30)) == 0
    assert next_capacity_at(pacing, state, T0 + timedelta(seconds=30)) == T0 + timedelta(minutes=1)
    assert available(pacing, state, 0, T0 + timedelta(seconds=61)) == 1


def test_ramp_grows_by_step_until_max() -> None:
    pacing = Pacing(max_concurrent=5, ramp_start=1, ramp_step=2, ramp_every_ms=60_000)
    assert [concurrency_limit(pacing, T0, T0 + timedelta(minutes=m)) for m in range(4)] == [
        1,
        3,
        5,
        5,
    ]
    assert next_capacity_at(pacing, PacingState(T0), T0 + timedelta(seconds=5)) == T0 + timedelta(
        minutes=1
    )

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl.ir import OutcomeRule
from runtime.campaign.rules import UNKNOWN_RETRY_DELAY, decide

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
RULES = (
    OutcomeRule("busy", "retry", delay_ms=900_000, max_attempts=2),
    OutcomeRule("callback", "callback"),
    OutcomeRule("confirmed", "final"),
)


def go(outcome: str, count: int = 1, total: int = 1, callback_at=None, rules=RULES):
    return decide(
        outcome,
        rules=rules,
        attempts_by_outcome={outcome: count},
        total_attempts=total,
        max_attempts=5,
        now=NOW,
        callback_at=callback_at,
    )


def test_retry_after_delay_until_cap() -> None:
    """``max 2``: two retries, so the third attempt ending busy is the last."""
    assert (go("busy").action, go("busy").next_at) == ("retry", NOW + timedelta(minutes=15))
    assert go("busy", count=2, total=2).action == "retry"
    assert go("busy", count=3, total=3).action == "final"


def test_max_1_retries_once() -> None:
    """``on unknown retry after 1m max 1`` tries again once (it never did: max counted the
    attempt that had just ended)."""
    rules = (OutcomeRule("unknown", "retry", delay_ms=60_000, max_attempts=1),)
    first = go("unknown", count=1, total=1, rules=rules)
    assert (first.action, first.next_at) == ("retry", NOW + timedelta(minutes=1))
    assert go("unknown", count=2, total=2, rules=rules).action == "final"


def test_campaign_attempt_cap_wins() -> None:
    assert go("busy", count=1, total=5).action == "final"


def test_callback_at_requested_time() -> None:
    at = NOW + timedelta(days=1)
    assert (go("callback", callback_at=at).action, go("callback", callback_at=at).next_at) == (
        "callback",
        at,
    )
    assert go("callback").action == "final"  # no time asked, no delay declared


def test_defaults_without_rule() -> None:
    assert go("opted_out").action == "dnc"
    unknown = go("unknown")
    assert (unknown.action, unknown.next_at) == ("retry", NOW + UNKNOWN_RETRY_DELAY)
    assert go("wrong_person").action == "final"

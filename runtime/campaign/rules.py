"""Outcome rules: what happens to a contact after an attempt ends with a given outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from dsl.ir import OutcomeRule
from dsl.outcomes import BuiltinOutcome, TelephonyOutcome

UNKNOWN_RETRY_DELAY = timedelta(minutes=30)
"""Delay before retrying an attempt whose result was lost (worker death) when no rule says."""


@dataclass(frozen=True)
class Decision:
    action: Literal["retry", "callback", "dnc", "final"]
    next_at: datetime | None = None
    """When to try again (``retry`` and ``callback``)."""
    reason: str = ""


def rule_for(rules: Sequence[OutcomeRule], outcome: str) -> OutcomeRule | None:
    for rule in rules:
        if rule.outcome == outcome:
            return rule
    return None


def decide(
    outcome: str,
    *,
    rules: Sequence[OutcomeRule],
    attempts_by_outcome: Mapping[str, int],
    total_attempts: int,
    max_attempts: int,
    now: datetime,
    callback_at: datetime | None = None,
    max_counts_retries: bool = True,
) -> Decision:
    """Apply the campaign's rule for ``outcome`` after an attempt.

    ``attempts_by_outcome`` and ``total_attempts`` already count the attempt that just ended.
    A rule's ``max N`` is how many times the outcome is retried; ``max_counts_retries=False``
    gives the reading of workflows started before that (``max`` capped the attempts with the
    outcome, the first included, so ``max 1`` never retried), for their replay.
    Without a rule, an opt-out goes to do-not-call, an ``unknown`` result is retried after
    :data:`UNKNOWN_RETRY_DELAY` (never on the spot) and anything else is final.
    """
    rule = rule_for(rules, outcome)
    if rule is None:
        if outcome == BuiltinOutcome.OPTED_OUT:
            return Decision("dnc", reason="opt-out")
        if outcome == TelephonyOutcome.UNKNOWN:
            rule = OutcomeRule(
                outcome=outcome,
                action="retry",
                delay_ms=int(UNKNOWN_RETRY_DELAY / timedelta(milliseconds=1)),
                max_attempts=max_attempts,
            )
        else:
            return Decision("final", reason="no rule")
    if rule.action in ("final", "dnc"):
        return Decision(rule.action, reason="rule")
    if total_attempts >= max_attempts:
        return Decision("final", reason="max attempts")
    if rule.action == "callback":
        if callback_at is not None:
            return Decision("callback", next_at=max(callback_at, now), reason="callback requested")
        if rule.delay_ms is None:
            return Decision("final", reason="callback without a time")
    # ``max N`` is how many times an outcome is retried: the attempts that ended with it,
    # less the first one, are the retries already made.
    retries = rule.max_attempts if rule.max_attempts is not None else max_attempts
    made = attempts_by_outcome.get(outcome, 0) - (1 if max_counts_retries else 0)
    if made >= retries:
        return Decision("final", reason=f"{outcome} retried {retries} times")
    delay = timedelta(milliseconds=rule.delay_ms or 0)
    return Decision(rule.action, next_at=now + delay, reason="rule")

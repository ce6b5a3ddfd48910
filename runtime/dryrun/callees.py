"""Simulated callees: each attempt's result drawn from an outcome mix, reproducibly.

A draw depends only on the seed, the contact and the attempt number, never on the order in
which the workflows happen to dial, so two runs with one seed dial the same way.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from dsl.ir import Flow
from dsl.outcomes import BUILTIN_OUTCOMES, TELEPHONY_OUTCOMES, TelephonyOutcome

UNANSWERED_SHARE = {
    TelephonyOutcome.NO_ANSWER.value: 0.25,
    TelephonyOutcome.BUSY.value: 0.10,
    TelephonyOutcome.VOICEMAIL.value: 0.10,
}
"""The default mix's calls nobody answers; the rest is spread over the agent's outcomes."""


class MixError(ValueError):
    """An outcome mix that cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class OutcomeMix:
    weights: Mapping[str, float]
    """Outcome → relative weight (need not sum to 1)."""

    def draw(self, seed: int, contact_id: str, attempt: int) -> str:
        rng = random.Random(f"{seed}:{contact_id}:{attempt}")
        outcomes = sorted(self.weights)
        return rng.choices(outcomes, weights=[self.weights[o] for o in outcomes])[0]

    def describe(self) -> str:
        total = sum(self.weights.values())
        return ", ".join(
            f"{o} {self.weights[o] / total:.0%}" for o in sorted(self.weights, key=str)
        )


def answered(outcome: str) -> bool:
    """Whether a drawn outcome means a person answered (a conversation took place)."""
    return outcome not in TELEPHONY_OUTCOMES


def default_mix(flow: Flow) -> OutcomeMix:
    """Unanswered calls as in :data:`UNANSWERED_SHARE`, the rest spread evenly over the
    agent's own outcomes (``completed`` when it declares none)."""
    own = flow.agent.outcomes or ("completed",)
    share = (1 - sum(UNANSWERED_SHARE.values())) / len(own)
    return OutcomeMix({**UNANSWERED_SHARE, **dict.fromkeys(own, share)})


def parse_mix(text: str, flow: Flow) -> OutcomeMix:
    """``confirmed=50,no_answer=30,busy=20`` (weights or fractions) checked against the
    outcomes a call of ``flow`` can end in.

    Raises:
        MixError: an entry that is not ``outcome=weight``, an unknown outcome or a weight
            that is not a positive number; every bad entry is named.
    """
    known = TELEPHONY_OUTCOMES | BUILTIN_OUTCOMES | set(flow.agent.outcomes)
    weights: dict[str, float] = {}
    problems: list[str] = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        name, sep, value = entry.partition("=")
        name = name.strip()
        if not sep:
            problems.append(f"{entry!r} is not outcome=weight")
            continue
        if name not in known:
            problems.append(f"{name!r} is not an outcome of this flow")
            continue
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not weight > 0:
            problems.append(f"{name}: weight {value.strip()!r} is not a positive number")
            continue
        weights[name] = weights.get(name, 0.0) + weight
    if problems or not weights:
        hint = "known outcomes: " + ", ".join(sorted(known))
        raise MixError("; ".join(problems or ["the mix is empty"]) + f" ({hint})")
    return OutcomeMix(weights)

"""Rules about outcome names."""

from __future__ import annotations

from collections.abc import Iterator

from dsl import ir
from dsl.diagnostics import Diagnostic
from dsl.rules.context import RuleContext


def unknown_outcome(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF406: an action or a campaign rule names an outcome outside the vocabulary.

    The vocabulary is the agent's ``outcomes`` plus the telephony and built-in outcomes of
    ``dsl.outcomes``.
    """
    known = ctx.known_outcomes()
    hint = "declare it in outcomes (outcomes a, b, c) or use a built-in outcome"
    for path, action in ctx.actions():
        name = (
            getattr(action, "outcome", None)
            if isinstance(action, ir.EndAction | ir.OutcomeAction)
            else None
        )
        if name is not None and name not in known:
            yield ctx.error(ctx.at(path), "VF406", f"unknown outcome {name!r}", hint)
    if ctx.flow.campaign is not None:
        for rule in ctx.flow.campaign.rules:
            if rule.outcome not in known:
                yield ctx.error(
                    ctx.at(("rule", rule.outcome), ("campaign",)),
                    "VF406",
                    f"campaign rule for unknown outcome {rule.outcome!r}",
                    hint,
                )

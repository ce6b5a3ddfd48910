"""Rules that relate the campaign to the agent."""

from __future__ import annotations

from collections.abc import Iterator

from dsl import ir
from dsl.diagnostics import Diagnostic
from dsl.rules.context import RuleContext


def outcome_without_rule(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF501 (warning): an agent outcome the campaign says nothing about.

    Without a rule the campaign treats the outcome as final; the warning makes that a choice.
    """
    campaign = ctx.flow.campaign
    if campaign is None:
        return
    ruled = {r.outcome for r in campaign.rules}
    used = {name: ctx.at(("outcome", name)) for name in ctx.agent.outcomes}
    for path, a in ctx.actions():
        if isinstance(a, ir.EndAction | ir.OutcomeAction) and a.outcome and a.outcome not in used:
            used[a.outcome] = ctx.at(path)
    for name, pos in used.items():
        if name not in ruled:
            yield ctx.warning(
                pos,
                "VF501",
                f"outcome {name!r} has no campaign rule",
                f"add on {name} final (or retry/callback/dnc) to the campaign",
            )

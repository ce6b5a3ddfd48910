"""Validation rules over the built IR, one module per concern, one function per rule.

Each rule takes a ``RuleContext`` (the IR, where things were written, the file name) and
yields diagnostics with a stable code. ``run_rules`` runs them all, so a designer sees every
problem at once. Structural rules (``VF2xx``, campaign values ``VF5xx``) are reported while
building (``dsl.build``), where the values are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dsl.diagnostics import Diagnostic
from dsl.rules import campaign, graph, names, outcomes, repair, subflows, tools, transitions
from dsl.rules.context import RuleContext

Rule = Callable[[RuleContext], Iterable[Diagnostic]]

RULES: tuple[Rule, ...] = (
    graph.missing_start,
    graph.unknown_target,
    graph.unknown_tool,
    graph.unreachable_node,
    graph.dead_end_node,
    transitions.duplicate_intent,
    transitions.never_fires,
    transitions.unreachable_budget,
    outcomes.unknown_outcome,
    campaign.outcome_without_rule,
    tools.call_arguments,
    names.expressions,
    names.templates,
    names.set_targets,
    subflows.recursion,
    subflows.never_returns,
    subflows.return_outside,
    subflows.return_values,
    repair.reserved_intent,
    repair.rerun_reads_nothing,
    repair.clarify_never_asked,
    repair.rerun_undoes_correction,
)


def run_rules(ctx: RuleContext) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for rule in RULES:
        out.extend(rule(ctx))
    return out


__all__ = ["RULES", "RuleContext", "run_rules"]

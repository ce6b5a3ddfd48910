"""Rules about transitions that cannot work as written."""

from __future__ import annotations

from collections.abc import Iterator

from dsl import ir
from dsl.diagnostics import Diagnostic
from dsl.rules.context import RuleContext


def duplicate_intent(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF211: two intents of one node (or of a node and the globals) share a name.

    Intents become function tools named after them; a provider rejects duplicate names.
    """
    global_names = {
        t.name for t in ctx.agent.global_transitions if isinstance(t, ir.IntentTransition)
    }
    seen_global: set[str] = set()
    for i, t in enumerate(ctx.agent.global_transitions):
        if isinstance(t, ir.IntentTransition):
            if t.name in seen_global:
                yield ctx.error(
                    ctx.at(("global", "tr", i)),
                    "VF211",
                    f"global intent {t.name!r} is declared twice",
                    "merge them or rename one",
                )
            seen_global.add(t.name)
    for node in ctx.agent.nodes:
        seen: set[str] = set()
        for i, t in enumerate(node.transitions):
            if not isinstance(t, ir.IntentTransition):
                continue
            if t.name in seen or t.name in global_names:
                where = "this node" if t.name in seen else "the global transitions"
                yield ctx.error(
                    ctx.at(("node", node.name, "tr", i)),
                    "VF211",
                    f"intent {t.name!r} is already declared in {where}",
                    "rename it or merge the two",
                )
            seen.add(t.name)


def _key(t) -> tuple | None:
    """Transitions with equal keys fire on the same event; only the first ever does."""
    if isinstance(t, ir.WhenTransition):
        return ("when", t.condition.src)
    if isinstance(t, ir.DtmfTransition):
        return ("dtmf", t.digits)
    if isinstance(t, ir.SilenceTransition):
        return ("silence",)
    if isinstance(t, ir.NoMatchTransition):
        return ("no_match",)
    if isinstance(t, ir.ToolErrorTransition):
        return ("tool_error", t.tool)
    if isinstance(t, ir.FailuresTransition):
        return ("failures",)
    if isinstance(t, ir.ClarifyTransition | ir.ChitchatTransition):
        return (t.kind,)
    return None


def never_fires(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF405: a transition that can never be taken.

    ``when false``; a transition shadowed by an earlier one of the same event (same condition,
    same DTMF keys, a second ``on silence`` or ``on no_match``); a DTMF key after ``dtmf "any"``.
    """
    groups = [(("node", n.name), n.transitions) for n in ctx.agent.nodes]
    groups.append((("global",), ctx.agent.global_transitions))
    for prefix, trs in groups:
        seen: set[tuple] = set()
        any_dtmf = False
        for i, t in enumerate(trs):
            pos = ctx.at(prefix + ("tr", i))
            if isinstance(t, ir.WhenTransition) and t.condition.src == "false":
                yield ctx.error(
                    pos,
                    "VF405",
                    "this transition can never fire: its condition is always false",
                    "remove it or fix the condition",
                )
                continue
            key = _key(t)
            if key is None:
                continue
            if key in seen:
                yield ctx.error(
                    pos,
                    "VF405",
                    "this transition can never fire: an earlier one of this node handles the same event",
                    "remove it or merge it into the first one",
                )
            elif isinstance(t, ir.DtmfTransition) and any_dtmf:
                yield ctx.error(
                    pos,
                    "VF405",
                    f'dtmf "{t.digits}" can never fire: an earlier dtmf "any" takes every key',
                    'move dtmf "any" last',
                )
            seen.add(key)
            any_dtmf = any_dtmf or (isinstance(t, ir.DtmfTransition) and t.digits == "any")


def unreachable_budget(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF408 (warning): a node's ``on failures max N`` that its own re-prompt limits never let
    it reach.

    In a node that collects nothing and leaves on both ``on silence ... max S -> x`` and
    ``on no_match ... max M -> y``, the most failures one visit can count before one of them
    leaves is ``S + M + 1``; a larger budget never fires there.
    """
    for node in ctx.agent.nodes:
        if node.collect:
            continue
        silence = [t for t in node.transitions if isinstance(t, ir.SilenceTransition)]
        no_match = [t for t in node.transitions if isinstance(t, ir.NoMatchTransition)]
        if not silence or not no_match:
            continue
        s, m = silence[0], no_match[0]
        if s.target is None or m.target is None:
            continue
        most = s.max_reprompts + m.max_retries + 1
        for i, t in enumerate(node.transitions):
            if isinstance(t, ir.FailuresTransition) and t.max > most:
                yield ctx.warning(
                    ctx.at(("node", node.name, "tr", i)),
                    "VF408",
                    f"on failures max {t.max} never fires: silence and no_match leave this "
                    f"node after at most {most} failures",
                    f"lower it to {most} or less, or raise the silence/no_match max",
                )

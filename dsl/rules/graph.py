"""Rules about the node graph: start, targets, tools, reachability, dead ends."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from dsl import ir
from dsl.diagnostics import Diagnostic
from dsl.rules.context import RuleContext


def _close(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(sorted(known))


def missing_start(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF407: the flow has no nodes, or ``start`` names a node that does not exist."""
    nodes = ctx.node_names()
    if not nodes:
        yield ctx.error(
            ctx.at(("agent",)),
            "VF407",
            "the agent has no nodes to start from",
            "add node <name> with what to say first",
        )
    elif ctx.agent.start not in nodes:
        yield ctx.error(
            ctx.at(("start",)),
            "VF407",
            f"start node {ctx.agent.start!r} does not exist",
            _close(ctx.agent.start, nodes),
        )


def unknown_target(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF401: a transition, ``fallback``, ``on_error`` or ``amd_node`` names no node."""
    nodes = ctx.node_names()
    for path, _, t in ctx.transitions():
        if t.target is not None and t.target not in nodes:
            yield ctx.error(
                ctx.at(path + ("to",), path),
                "VF401",
                f"unknown target node {t.target!r}",
                _close(t.target, nodes),
            )
    refs = [(("fallback",), ctx.agent.fallback, "fallback")]
    refs += [
        (("tool", t.name, "on_error"), t.on_error, "on_error")
        for t in ctx.agent.tools
        if isinstance(t, ir.HttpTool)
    ]
    if ctx.flow.campaign is not None:
        refs.append((("amd_node",), ctx.flow.campaign.amd_node, "amd_node"))
    for path, action in ctx.actions():
        if isinstance(action, ir.SubFlowCall) and action.then is not None:
            refs.append((path + ("to",), action.then, f"the call of {action.flow!r}"))
    for f in ctx.agent.subflows:
        refs.append((("flow", f.name, "start"), f.start, f"the start of sub-flow {f.name!r}"))
    for path, name, what in refs:
        if name is not None and name not in nodes:
            yield ctx.error(
                ctx.at(path), "VF401", f"{what} names unknown node {name!r}", _close(name, nodes)
            )


def unknown_tool(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF402: a node offers, or an action calls, a tool that is neither built in nor declared."""
    known = set(ir.BUILTIN_TOOLS) | {t.name for t in ctx.agent.tools if isinstance(t, ir.HttpTool)}
    for node in ctx.agent.nodes:
        for j, name in enumerate(node.tools):
            if name not in known:
                yield ctx.error(
                    ctx.at(("node", node.name, "tool", j), ("node", node.name)),
                    "VF402",
                    f"unknown tool {name!r}",
                    _close(name, known),
                )
    for path, action in ctx.actions():
        if isinstance(action, ir.CallAction) and action.tool not in known:
            yield ctx.error(
                ctx.at(path), "VF402", f"unknown tool {action.tool!r}", _close(action.tool, known)
            )
    for path, _, t in ctx.transitions():
        if isinstance(t, ir.ToolErrorTransition) and t.tool and t.tool not in known:
            yield ctx.error(
                ctx.at(path + ("tool",), path),
                "VF402",
                f"on tool_error names unknown tool {t.tool!r}",
                _close(t.tool, known),
            )


def _targets(t) -> Iterator[str]:
    if t.target is not None:
        yield t.target


def _action_targets(actions, starts: dict[str, str]) -> Iterator[str]:
    """Where the actions lead: a sub-flow call enters the sub-flow, then continues."""
    for a in actions:
        if isinstance(a, ir.SubFlowCall):
            if a.flow in starts:
                yield starts[a.flow]
            if a.then is not None:
                yield a.then


def unreachable_node(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF403 (warning): no path leads to the node from start, fallback, globals, amd or on_error."""
    by_name = {n.name: n for n in ctx.agent.nodes}
    starts = {f.name: f.start for f in ctx.agent.subflows}
    roots = [ctx.agent.start, ctx.agent.fallback]
    roots += [t.target for t in ctx.agent.global_transitions]
    roots += [t.on_error for t in ctx.agent.tools if isinstance(t, ir.HttpTool)]
    if ctx.flow.campaign is not None:
        roots.append(ctx.flow.campaign.amd_node)
    seen: set[str] = set()
    todo = [r for r in roots if r in by_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        node = by_name[name]
        for t in node.transitions:
            todo.extend(x for x in _targets(t) if x in by_name)
            todo.extend(x for x in _action_targets(t.actions, starts) if x in by_name)
        todo.extend(x for x in _action_targets(node.on_enter, starts) if x in by_name)
    for node in ctx.agent.nodes:
        if node.name not in seen and ctx.agent.start in by_name:
            yield ctx.warning(
                ctx.at(("node", node.name)),
                "VF403",
                f"node {node.name!r} is unreachable",
                "add a transition to it, or remove it",
            )


def _ends(actions) -> bool:
    """The actions leave the node: end, transfer, call a sub-flow, or return from one."""
    return any(
        isinstance(a, ir.EndAction | ir.TransferAction | ir.SubFlowCall | ir.ReturnAction)
        for a in actions
    )


def dead_end_node(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF404: a node with no transition out that neither ends nor transfers the call."""
    for node in ctx.agent.nodes:
        if _ends(node.on_enter):
            continue
        if any(t.target is not None or _ends(t.actions) for t in node.transitions):
            continue
        if any(
            isinstance(a, ir.CallAction) and a.tool in ("end_call", "transfer")
            for a in node.on_enter
        ):
            continue
        if "end_call" in node.tools or "transfer" in node.tools:
            continue
        yield ctx.error(
            ctx.at(("node", node.name)),
            "VF404",
            f"node {node.name!r} is a dead end: no way out and it does not end the call",
            "add a transition (on ... -> node) or end the call (end <outcome>)",
        )

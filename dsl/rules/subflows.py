"""Rules about sub-flows: recursion (VF410), a sub-flow that never returns (VF411), ``return``
outside a sub-flow (VF412), return values against the declared results (VF413).

A sub-flow's nodes are ``Agent.nodes`` named ``<flow>.<node>``; the graph rules (targets, dead
ends, reachability) check them like any node, and ``dsl.rules.tools`` checks a call's
arguments against the sub-flow's parameters as it does a tool's.
"""

from __future__ import annotations

from collections.abc import Iterator

from dsl import ir
from dsl.diagnostics import Diagnostic
from dsl.rules.context import RuleContext


def owner(agent: ir.Agent, node: str) -> ir.SubFlow | None:
    """The sub-flow a node belongs to (``None``: the main flow)."""
    return next((f for f in agent.subflows if f.owns(node)), None)


def _node_actions(node: ir.Node) -> Iterator[ir.Action]:
    yield from node.on_enter
    for t in node.transitions:
        yield from t.actions


def calls(agent: ir.Agent, flow: ir.SubFlow | None) -> set[str]:
    """The sub-flows called from the nodes of ``flow`` (``None``: the main flow)."""
    out = set()
    for node in agent.nodes:
        if owner(agent, node.name) == flow:
            out |= {a.flow for a in _node_actions(node) if isinstance(a, ir.SubFlowCall)}
    return out


def recursion(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF410: a sub-flow that calls itself, directly or through others."""
    by_name = {f.name: f for f in ctx.agent.subflows}
    graph = {f.name: calls(ctx.agent, f) for f in ctx.agent.subflows}
    for f in ctx.agent.subflows:
        seen, todo, path = set(), [(f.name, [f.name])], None
        while todo and path is None:
            name, trail = todo.pop()
            for nxt in sorted(graph.get(name, ())):
                if nxt == f.name:
                    path = [*trail, nxt]
                    break
                if nxt in by_name and nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, [*trail, nxt]))
        if path is not None:
            yield ctx.error(
                ctx.at(("flow", f.name)),
                "VF410",
                f"sub-flow {f.name!r} calls itself: {' -> '.join(path)}",
                "a sub-flow cannot recurse; repeat with a transition back to one of its nodes",
            )


def never_returns(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF411: a sub-flow none of whose nodes returns (its callers would never continue)."""
    for f in ctx.agent.subflows:
        nodes = [n for n in ctx.agent.nodes if f.owns(n.name)]
        if not any(isinstance(a, ir.ReturnAction) for n in nodes for a in _node_actions(n)):
            yield ctx.error(
                ctx.at(("flow", f.name)),
                "VF411",
                f"sub-flow {f.name!r} never returns",
                "end one of its paths with return(<result> = ...)",
            )


def return_outside(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF412: ``return`` in a node of the main flow (there is no caller to go back to)."""
    for path, action in ctx.actions():
        if isinstance(action, ir.ReturnAction):
            node = path[1] if path[0] == "node" else None
            if node is None or owner(ctx.agent, str(node)) is None:
                yield ctx.error(
                    ctx.at(path),
                    "VF412",
                    "return outside a sub-flow",
                    "end the call (end <outcome>) or move the node into a flow <name>(...)",
                )


def return_values(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF413: a ``return`` that gives a result the sub-flow does not declare, or leaves out a
    required one."""
    for path, action in ctx.actions():
        if not isinstance(action, ir.ReturnAction) or path[0] != "node":
            continue
        f = owner(ctx.agent, str(path[1]))
        if f is None:
            continue
        declared = {r.name: r for r in f.results}
        given = {name for name, _ in action.values}
        for name in sorted(given - set(declared)):
            yield ctx.error(
                ctx.at(path + ("arg", name), path),
                "VF413",
                f"sub-flow {f.name!r} declares no result {name!r}",
                f"its results: {', '.join(declared) or 'none'}",
            )
        missing = [r.name for r in f.results if r.required and r.name not in given]
        if missing:
            yield ctx.error(
                ctx.at(path),
                "VF413",
                f"this return of {f.name!r} leaves out {', '.join(map(repr, missing))}",
                f"write return({', '.join(f'{m} = ...' for m in missing)})",
            )

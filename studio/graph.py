"""Draw a flow as a Graphviz digraph, with the current node and a node path highlighted.

The edges are ``dsl.graph.edges`` (the same as ``voxflow graph``); the studio only adds
colour: the node a test chat or call is in, the nodes it went through and the steps between
them. The result is DOT source for ``st.graphviz_chart``, laid out in the browser (no
Graphviz binary needed).
"""

from __future__ import annotations

from collections.abc import Sequence

import graphviz

from dsl import ir
from dsl.graph import ANY, MACHINE, edges

_CURRENT = "#f59e0b"
_VISITED = "#fde68a"
_START = "#dbeafe"
_PATH_EDGE = "#b45309"
_PSEUDO = {ANY: "any node", MACHINE: "machine answered"}


def end_label(node: ir.Node) -> str | None:
    """``end <outcome>`` / ``transfer`` when entering the node ends the call, ``return`` when it
    leaves its sub-flow, else ``None``."""
    for action in node.on_enter:
        if isinstance(action, ir.EndAction):
            return f"end {action.outcome}" if action.outcome else "end"
        if isinstance(action, ir.TransferAction):
            return "transfer"
        if isinstance(action, ir.ReturnAction):
            return "return"  # back to the sub-flow's caller
    return None


def flow_dot(flow: ir.Flow, *, current: str | None = None, path: Sequence[str] = ()) -> str:
    """DOT source of ``flow``'s node graph.

    Args:
        flow: the compiled flow.
        current: node to highlight as the one a test chat or call is in now.
        path: nodes visited, in order; visited nodes are tinted and the edges between
            consecutive nodes of the path drawn bold.
    """
    agent = flow.agent
    visited = set(path)
    steps = set(zip(path, path[1:], strict=False))
    all_edges = edges(flow)
    dot = graphviz.Digraph(agent.name)
    dot.attr(rankdir="LR", fontname="Helvetica")
    dot.attr("node", shape="box", style="rounded,filled", fillcolor="white", fontname="Helvetica")
    dot.attr("edge", fontname="Helvetica", fontsize="10")
    for pseudo, label in _PSEUDO.items():
        if any(source == pseudo for source, *_ in all_edges):
            dot.node(pseudo, label, style="dashed")
    for node in agent.nodes:
        attrs: dict[str, str] = {}
        label = node.name
        ending = end_label(node)
        if ending is not None:
            attrs["peripheries"] = "2"
            label += "\\n" + ending
        if node.name == agent.start:
            attrs["fillcolor"] = _START
        if node.name in visited:
            attrs["fillcolor"] = _VISITED
        if node.name == current:
            attrs["fillcolor"] = _CURRENT
            attrs["penwidth"] = "3"
        dot.node(node.name, label, **attrs)
    for source, target, label, dashed in all_edges:
        attrs = {"style": "dashed"} if dashed else {}
        if (source, target) in steps:
            attrs.update(color=_PATH_EDGE, penwidth="3")
        dot.edge(source, target, label, **attrs)
    return dot.source

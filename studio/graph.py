"""Draw a flow as a Graphviz digraph, with the current node and a node path highlighted.

Only presentation: the structure comes from the IR (``dsl.ir``), unchanged. The result is DOT
source for ``st.graphviz_chart``, which lays it out in the browser (no Graphviz binary needed).
"""

from __future__ import annotations

from collections.abc import Sequence

import graphviz

from dsl import ir

_CURRENT = "#f59e0b"
_VISITED = "#fde68a"
_START = "#dbeafe"
_PATH_EDGE = "#b45309"
_ANY = "(any node)"


def transition_label(t: object) -> str:
    """A short human label for a transition, as drawn on its edge."""
    match t:
        case ir.IntentTransition(name=name):
            return f"on {name}"
        case ir.WhenTransition(condition=cond):
            return f"when {cond.src}"
        case ir.DtmfTransition(digits=digits):
            return f"dtmf {digits}"
        case ir.SilenceTransition(after_ms=ms):
            return f"silence {ms / 1000:g}s"
        case ir.NoMatchTransition():
            return "no match"
    return type(t).__name__


def _ends_call(node: ir.Node) -> str | None:
    """The outcome a node ends the call with on entry, ``""`` for no outcome, else ``None``."""
    for action in node.on_enter:
        if isinstance(action, ir.EndAction):
            return action.outcome or ""
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
    steps = {(a, b) for a, b in zip(path, path[1:], strict=False)}
    dot = graphviz.Digraph(agent.name)
    dot.attr(rankdir="LR", fontname="Helvetica")
    dot.attr("node", shape="box", style="rounded,filled", fillcolor="white", fontname="Helvetica")
    dot.attr("edge", fontname="Helvetica", fontsize="10")
    for node in agent.nodes:
        attrs: dict[str, str] = {}
        label = node.name
        outcome = _ends_call(node)
        if outcome is not None:
            attrs["peripheries"] = "2"
            label += f"\\nend {outcome}" if outcome else "\\nend"
        if node.name == agent.start:
            attrs["fillcolor"] = _START
        if node.name in visited:
            attrs["fillcolor"] = _VISITED
        if node.name == current:
            attrs["fillcolor"] = _CURRENT
            attrs["penwidth"] = "3"
        dot.node(node.name, label, **attrs)
    for node in agent.nodes:
        for t in node.transitions:
            target = getattr(t, "target", None)
            if target is None:
                continue
            attrs = {}
            if (node.name, target) in steps:
                attrs = {"color": _PATH_EDGE, "penwidth": "3"}
            dot.edge(node.name, target, transition_label(t), **attrs)
    if agent.global_transitions:
        dot.node(_ANY, _ANY, shape="plaintext", style="")
        for t in agent.global_transitions:
            target = getattr(t, "target", None)
            if target is not None:
                dot.edge(_ANY, target, transition_label(t), style="dashed")
    return dot.source

"""Draw a flow as a Graphviz digraph, with the current node and a node path highlighted.

The edges are ``dsl.graph.edges`` (the same as ``voxflow graph``); the studio only adds
colour: the node a test chat or call is in, the nodes it went through and the steps between
them. The result is DOT source for ``st.graphviz_chart``, laid out in the browser (no
Graphviz binary needed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import graphviz

from dsl import ir
from dsl.diagnostics import Diagnostic
from dsl.graph import ANY, MACHINE, edges

_CURRENT = "#f59e0b"
_VISITED = "#fde68a"
_START = "#dbeafe"
_PATH_EDGE = "#b45309"
_FAILING = "#fee2e2"
_FAILING_LINE = "#dc2626"
_FLOW_NODE = re.compile(r"^(\s*)node\s+([A-Za-z_]\w*)")
_YAML_KEY = re.compile(r"^(\s*)([A-Za-z_]\w*)\s*:")
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


def node_spans(source: str) -> dict[str, tuple[int, int]]:
    """Each node's first and last line (1-based) in a flow's text, even one that does not
    compile: ``node <name>`` blocks of the ``.flow`` syntax, or the keys under ``nodes:``
    in YAML. A block ends where a line is indented no deeper than its header."""
    lines = source.splitlines()
    headers: list[tuple[int, int, str]] = []  # (line, indent, name)
    nodes_indent: int | None = None
    child_indent: int | None = None
    for number, line in enumerate(lines, 1):
        if m := _FLOW_NODE.match(line):
            headers.append((number, len(m.group(1)), m.group(2)))
            continue
        m = _YAML_KEY.match(line)
        if m is None:
            continue
        indent = len(m.group(1))
        if m.group(2) == "nodes":
            nodes_indent, child_indent = indent, None
        elif nodes_indent is not None and indent <= nodes_indent:
            nodes_indent = None
        elif nodes_indent is not None and (child_indent is None or indent == child_indent):
            child_indent = indent
            headers.append((number, indent, m.group(2)))
    spans: dict[str, tuple[int, int]] = {}
    for start, indent, name in headers:
        end = start
        for number in range(start + 1, len(lines) + 1):
            text = lines[number - 1]
            if text.strip() and not text.lstrip().startswith("#"):
                if len(text) - len(text.lstrip()) <= indent:
                    break
                end = number
        spans[name] = (start, end)
    return spans


def failing_nodes(source: str, diagnostics: Iterable[Diagnostic]) -> set[str]:
    """The nodes whose lines hold an error of ``diagnostics``."""
    spans = node_spans(source)
    return {
        name
        for d in diagnostics
        if d.is_error
        for name, (start, end) in spans.items()
        if start <= d.line <= end
    }


def flow_dot(
    flow: ir.Flow,
    *,
    current: str | None = None,
    path: Sequence[str] = (),
    failing: Iterable[str] = (),
) -> str:
    """DOT source of ``flow``'s node graph.

    Args:
        flow: the compiled flow.
        current: node to highlight as the one a test chat or call is in now.
        path: nodes visited, in order; visited nodes are tinted and the edges between
            consecutive nodes of the path drawn bold.
        failing: nodes whose text has an error now (drawn red on the last good graph).
    """
    agent = flow.agent
    visited = set(path)
    broken = set(failing)
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
        if node.name in broken:
            attrs.update(fillcolor=_FAILING, color=_FAILING_LINE, penwidth="3")
            label += "\\n(has errors)"
        dot.node(node.name, label, **attrs)
    for source, target, label, dashed in all_edges:
        attrs = {"style": "dashed"} if dashed else {}
        if (source, target) in steps:
            attrs.update(color=_PATH_EDGE, penwidth="3")
        dot.edge(source, target, label, **attrs)
    return dot.source

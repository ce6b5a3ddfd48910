"""Draw a flow's node graph: Graphviz DOT (and SVG through the ``dot`` binary) or Mermaid.

Nodes are boxes (double border when the node ends or transfers the call); edges carry the
transition that takes them (intent name, ``when`` condition, DTMF keys, silence, no match).
Global transitions start from a dashed "any node" box; the answering-machine node from a
"machine answered" box.
"""

from __future__ import annotations

import graphviz

from dsl import ir
from dsl.format import duration

ANY = "__any__"
MACHINE = "__machine__"


def _label(t) -> str:
    if isinstance(t, ir.IntentTransition):
        return t.name
    if isinstance(t, ir.WhenTransition):
        return f"when {t.condition.src}"
    if isinstance(t, ir.DtmfTransition):
        return f"dtmf {t.digits}"
    if isinstance(t, ir.SilenceTransition):
        return f"silence {duration(t.after_ms)}"
    if isinstance(t, ir.ToolErrorTransition):
        return f"tool error {t.tool}" if t.tool else "tool error"
    if isinstance(t, ir.FailuresTransition):
        return f"{t.max} failures"
    if isinstance(t, ir.ClarifyTransition | ir.ChitchatTransition):
        return t.kind
    return "no match"


def _ends(node: ir.Node) -> bool:
    acts = [*node.on_enter, *(a for t in node.transitions for a in t.actions)]
    return any(isinstance(a, ir.EndAction | ir.TransferAction | ir.ReturnAction) for a in acts)


def edges(flow: ir.Flow) -> list[tuple[str, str, str, bool]]:
    """``(source, target, label, dashed)`` for every transition with a target."""
    out = []
    for node in flow.agent.nodes:
        for t in node.transitions:
            if t.target:
                out.append((node.name, t.target, _label(t), False))
        acts = [*node.on_enter, *(a for t in node.transitions for a in t.actions)]
        for a in acts:
            if isinstance(a, ir.SubFlowCall):
                start = next((f.start for f in flow.agent.subflows if f.name == a.flow), None)
                if start is not None:
                    out.append((node.name, start, f"call {a.flow}", True))
                if a.then is not None:
                    out.append((node.name, a.then, f"after {a.flow}", False))
        called = {a.tool for a in node.on_enter if isinstance(a, ir.CallAction)}
        for tool in flow.agent.tools:
            if not isinstance(tool, ir.HttpTool) or tool.on_error is None:
                continue
            if tool.name in node.tools or tool.name in called:
                out.append((node.name, tool.on_error, f"{tool.name} failed", True))
    for t in flow.agent.global_transitions:
        if t.target:
            out.append((ANY, t.target, _label(t), True))
    if flow.campaign is not None and flow.campaign.amd_node:
        out.append((MACHINE, flow.campaign.amd_node, "amd", True))
    return out


def _dot_id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(flow: ir.Flow) -> str:
    a = flow.agent
    lines = [
        f"digraph {_dot_id(a.name)} {{",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica"];',
    ]
    lines.append(f'  {_dot_id("__start__")} [shape=point, label=""];')
    lines.append(f"  {_dot_id('__start__')} -> {_dot_id(a.start)};")
    es = edges(flow)
    if any(s == ANY for s, *_ in es):
        lines.append(f'  {_dot_id(ANY)} [label="any node", style=dashed];')
    if any(s == MACHINE for s, *_ in es):
        lines.append(f'  {_dot_id(MACHINE)} [label="machine answered", style=dashed];')
    for node in a.nodes:
        extra = ", peripheries=2" if _ends(node) else ""
        lines.append(f"  {_dot_id(node.name)} [label={_dot_id(node.name)}{extra}];")
    for s, t, label, dashed in es:
        style = ", style=dashed" if dashed else ""
        lines.append(f"  {_dot_id(s)} -> {_dot_id(t)} [label={_dot_id(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(flow: ir.Flow) -> str:
    """SVG rendered by Graphviz ``dot``.

    Raises:
        graphviz.ExecutableNotFound: the ``dot`` binary is not installed (scripts/setup.sh
            installs it).
    """
    return graphviz.Source(to_dot(flow)).pipe(format="svg", encoding="utf-8")


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(flow: ir.Flow) -> str:
    a = flow.agent
    ids = {n.name: f"n{i}" for i, n in enumerate(a.nodes)}
    ids[ANY], ids[MACHINE] = "any", "machine"
    lines = ["flowchart LR", "  start((start))"]
    for node in a.nodes:
        shape = ("[[", "]]") if _ends(node) else ("[", "]")
        lines.append(f"  {ids[node.name]}{shape[0]}{_mermaid_text(node.name)}{shape[1]}")
    es = edges(flow)
    if any(s == ANY for s, *_ in es):
        lines.append('  any{{"any node"}}')
    if any(s == MACHINE for s, *_ in es):
        lines.append('  machine{{"machine answered"}}')
    if a.start in ids:
        lines.append(f"  start --> {ids[a.start]}")
    for s, t, label, dashed in es:
        if s in ids and t in ids:
            arrow = "-.->" if dashed else "-->"
            lines.append(f"  {ids[s]} {arrow}|{_mermaid_text(label)}| {ids[t]}")
    return "\n".join(lines) + "\n"

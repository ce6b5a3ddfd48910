"""Draw a flow's heat map (``GET /flows/{name}/heatmap``) on its graph, as DOT source.

Nodes are filled on a five-step scale by the chosen measure (visits, drop-off, no-match or
re-prompt rate, mean time); every edge of the flow (``dsl.graph.edges``) is labelled with
the calls that took it and drawn thicker the more were; transitions calls took that the graph
draws from no node (a global transition, the fallback) are added as dotted edges. A legend
gives the scale's bounds. Like ``studio.graph``, the layout is done in the browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import graphviz

from dsl import ir
from dsl.graph import ANY, MACHINE, edges
from studio.graph import end_label

SCALE = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")
"""ColorBrewer's YlOrRd, light (low) to dark (high)."""
_DARK = {"#e31a1c", "#800026"}
_UNVISITED = "#f3f4f6"
_EXTRA_EDGE = "#6b7280"


@dataclass(frozen=True)
class Measure:
    key: str
    """A field of ``NodeHeatOut``."""
    label: str
    percent: bool = False
    ms: bool = False

    def text(self, value: float | None) -> str:
        if value is None:
            return "–"
        if self.percent:
            return f"{value:.0%}"
        if self.ms:
            return f"{value / 1000:.1f} s"
        return f"{value:g}"


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("visits", "Visits"),
        Measure("drop_off_rate", "Drop-off (hang-ups per call at the node)", percent=True),
        Measure("no_match_rate", "No-match rate (per visit)", percent=True),
        Measure("reprompt_rate", "Re-prompt rate (per visit)", percent=True),
        Measure("mean_ms", "Mean time in the node", ms=True),
    )
}


def _step(value: float, top: float) -> int:
    """The scale step of ``value`` in ``[0, top]``."""
    if top <= 0:
        return 0
    return min(len(SCALE) - 1, int(value / top * len(SCALE)))


def heat_dot(flow: ir.Flow, heat: Mapping[str, Any], measure: str = "visits") -> str:
    """DOT source of ``flow``'s graph coloured by ``heat`` (a ``HeatMapOut`` body).

    Args:
        flow: the version to draw (``heat["flow_hash"]``).
        heat: the API's answer.
        measure: a key of :data:`MEASURES`.
    """
    m = MEASURES[measure]
    nodes = {n["node"]: n for n in heat["nodes"]}
    counts = {(e["source"], e["target"]): e["count"] for e in heat["edges"]}
    values = [n[measure] for n in nodes.values() if n[measure] is not None]
    top = max(values, default=0)
    most = max(counts.values(), default=0)
    agent = flow.agent
    dot = graphviz.Digraph(f"{agent.name}_heat")
    dot.attr(rankdir="LR", fontname="Helvetica")
    dot.attr("node", shape="box", style="rounded,filled", fontname="Helvetica")
    dot.attr("edge", fontname="Helvetica", fontsize="10")
    static = edges(flow)
    for pseudo, label in ((ANY, "any node"), (MACHINE, "machine answered")):
        if any(source == pseudo for source, *_ in static):
            dot.node(pseudo, label, style="dashed", fillcolor="white")
    for node in agent.nodes:
        n = nodes.get(node.name)
        label = node.name
        ending = end_label(node)
        attrs: dict[str, str] = {"peripheries": "2"} if ending else {}
        if n is None:
            attrs["fillcolor"] = _UNVISITED
            label += "\\nnot visited"
        else:
            value = n[measure]
            colour = SCALE[_step(value, top)] if value is not None else _UNVISITED
            attrs["fillcolor"] = colour
            if colour in _DARK:
                attrs["fontcolor"] = "white"
            label += f"\\n{n['visits']} visits · drop {n['drop_off_rate']:.0%}"
            if measure not in ("visits", "drop_off_rate"):
                label += f"\\n{m.label.split(' (')[0].lower()}: {m.text(value)}"
        dot.node(node.name, label, **attrs)
    drawn: set[tuple[str, str]] = set()
    for source, target, label, dashed in static:
        count = counts.get((source, target), 0)
        drawn.add((source, target))
        attrs = {"style": "dashed"} if dashed else {}
        if count:
            attrs["penwidth"] = f"{1 + 4 * count / most:.1f}"
        dot.edge(source, target, f"{label} ×{count}" if label else f"×{count}", **attrs)
    for (source, target), count in counts.items():
        if (source, target) in drawn or source not in nodes or target not in nodes:
            continue
        if not {source, target} <= {n.name for n in agent.nodes}:
            continue
        dot.edge(
            source,
            target,
            f"×{count}",
            style="dotted",
            color=_EXTRA_EDGE,
            fontcolor=_EXTRA_EDGE,
            penwidth=f"{1 + 4 * count / most:.1f}",
        )
    _legend(dot, m, top)
    return dot.source


def _legend(dot: graphviz.Digraph, m: Measure, top: float) -> None:
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label=m.label, fontsize="10", style="rounded", color="#9ca3af")
        names = []
        for i, colour in enumerate(SCALE):
            low, high = top * i / len(SCALE), top * (i + 1) / len(SCALE)
            name = f"legend_{i}"
            names.append(name)
            legend.node(
                name,
                f"{m.text(low)}–{m.text(high)}",
                shape="box",
                style="filled",
                fillcolor=colour,
                fontcolor="white" if colour in _DARK else "black",
                fontsize="9",
            )
        legend.node("legend_none", "not visited", shape="box", style="rounded,filled",
                    fillcolor=_UNVISITED, fontsize="9")  # fmt: skip
        for a, b in zip([*names, "legend_none"], [*names[1:], "legend_none"], strict=False):
            legend.edge(a, b, style="invis")


_NOT_VISITED = {"drop-off": "–", "no-match": "–", "re-prompt": "–", "silences": 0, "mean time": "–"}


def heat_rows(heat: Mapping[str, Any], flow: ir.Flow | None = None) -> list[dict[str, Any]]:
    """The table beside the graph: one row per node (the flow's nodes no call reached too)."""
    nodes = {n["node"]: n for n in heat["nodes"]}
    order: Sequence[str] = list(nodes)
    if flow is not None:
        order = [*order, *(n.name for n in flow.agent.nodes if n.name not in nodes)]
    rows = []
    for name in order:
        n = nodes.get(name)
        if n is None:
            rows.append({"node": name, "visits": 0, "calls": 0, "drop-offs": 0} | _NOT_VISITED)
            continue
        rows.append(
            {
                "node": name,
                "visits": n["visits"],
                "calls": n["calls"],
                "drop-offs": n["drop_offs"],
                "drop-off": f"{n['drop_off_rate']:.0%}",
                "no-match": f"{n['no_match_rate']:.0%}",
                "re-prompt": f"{n['reprompt_rate']:.0%}",
                "silences": n["silences"],
                "mean time": MEASURES["mean_ms"].text(n["mean_ms"]),
            }
        )
    return rows

"""The heat map drawn on the flow's graph (``studio.heatmap``): node colours on the chosen
measure's scale, edge counts, transitions through global ones added as dotted edges, a legend,
and the table beside it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dsl import compile_source
from studio.graph import flow_dot
from studio.heatmap import SCALE, heat_dot, heat_rows
from tests.studio.conftest import REPO


def _node(name: str, visits: int, calls: int, drops: int = 0, nm: int = 0, ms: float | None = 1000):
    return {
        "node": name, "visits": visits, "calls": calls, "drop_offs": drops,
        "drop_off_rate": drops / calls, "no_matches": nm, "no_match_rate": nm / visits,
        "silences": 0, "reprompts": nm, "reprompt_rate": nm / visits,
        "timed_visits": visits, "mean_ms": ms,
    }  # fmt: skip


FLOW = compile_source((REPO / "flows" / "reminder.flow").read_text(), file="reminder.flow").unwrap()
HEAT = {
    "nodes": [
        _node("greet", 40, 40, drops=8, nm=10, ms=4200),
        _node("confirmed", 20, 20, ms=1500),
        _node("opted_out", 4, 4, ms=900),
    ],
    "edges": [
        {"source": "greet", "target": "confirmed", "count": 20},
        {"source": "greet", "target": "opted_out", "count": 4},  # a global transition
    ],
}


def _lines(dot: str) -> list[str]:
    return [line.strip() for line in dot.splitlines()]


def test_nodes_take_the_scale_colour_of_their_visits_and_unvisited_ones_say_so() -> None:
    lines = _lines(heat_dot(FLOW, HEAT, "visits"))

    greet = next(x for x in lines if x.startswith("greet [label="))
    assert f'fillcolor="{SCALE[-1]}"' in greet and "40 visits · drop 20%" in greet
    confirmed = next(x for x in lines if x.startswith("confirmed [label="))
    assert f'fillcolor="{SCALE[2]}"' in confirmed  # 20 of 40: the middle step
    goodbye = next(x for x in lines if x.startswith("goodbye [label="))
    assert "not visited" in goodbye


def test_edges_carry_their_counts_and_global_steps_are_dotted() -> None:
    lines = _lines(heat_dot(FLOW, HEAT, "visits"))

    assert any(x.startswith('greet -> confirmed [label="confirms ×20"') for x in lines)
    assert any(x.startswith('greet -> cancelled [label="cancel ×0"') for x in lines)
    # opt_out is drawn from "any node" in the flow; the calls' step from greet is added
    dotted = next(x for x in lines if x.startswith("greet -> opted_out"))
    assert 'label="×4"' in dotted and "style=dotted" in dotted


def test_the_measure_recolours_nodes_and_names_the_legend() -> None:
    dot = heat_dot(FLOW, HEAT, "mean_ms")
    lines = _lines(dot)

    assert 'label="Mean time in the node"' in dot
    assert any(x.startswith('legend_0 [label="0.0 s–0.8 s"') for x in lines)
    opted = next(x for x in lines if x.startswith("opted_out [label="))
    assert f'fillcolor="{SCALE[1]}"' in opted and "mean time in the node: 0.9 s" in opted


def test_an_empty_heat_map_draws_the_flow_unvisited() -> None:
    dot = heat_dot(FLOW, {"nodes": [], "edges": []}, "drop_off_rate")

    assert dot.count("not visited") == len(FLOW.agent.nodes) + 1  # and the legend's entry
    assert dot.count("×0") == flow_dot(FLOW).count("->")


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graphviz_lays_it_out() -> None:
    done = subprocess.run(
        ["dot", "-Tsvg"], input=heat_dot(FLOW, HEAT, "visits"), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "40 visits · drop 20%" in done.stdout


def test_table_lists_every_node_busiest_first_then_the_unvisited() -> None:
    rows = heat_rows(HEAT, FLOW)

    assert [r["node"] for r in rows[:3]] == ["greet", "confirmed", "opted_out"]
    assert rows[0]["drop-off"] == "20%"
    assert rows[0]["no-match"] == "25%" and rows[0]["mean time"] == "4.2 s"
    assert {r["node"] for r in rows} == {n.name for n in FLOW.agent.nodes}
    unvisited = next(r for r in rows if r["node"] == "goodbye")
    assert (unvisited["visits"], unvisited["drop-off"]) == (0, "–")
    assert len({tuple(r) for r in rows}) == 1  # every row has the same columns

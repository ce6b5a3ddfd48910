"""The flow graph: one DOT node per flow node, one edge per targeted transition, highlights."""

from __future__ import annotations

import graphviz

from dsl import ir
from studio.graph import flow_dot


def _flow() -> ir.Flow:
    greet = ir.Node(
        name="greet",
        say=(ir.Template("Hi"),),
        transitions=(
            ir.IntentTransition(name="confirms", description="yes", target="confirmed"),
            ir.DtmfTransition(digits="2", target="goodbye"),
            ir.SilenceTransition(after_ms=6000, target="goodbye"),
        ),
    )
    confirmed = ir.Node(name="confirmed", on_enter=(ir.EndAction(outcome="confirmed"),))
    goodbye = ir.Node(name="goodbye", on_enter=(ir.EndAction(),))
    agent = ir.Agent(
        name="reminder",
        persona=ir.Template("You are Ava."),
        start="greet",
        nodes=(greet, confirmed, goodbye),
        outcomes=("confirmed",),
        global_transitions=(
            ir.IntentTransition(name="opt_out", description="stop calling", target="goodbye"),
        ),
    )
    return ir.Flow(agent=agent)


def _statements(dot: str) -> list[str]:
    return [line.strip() for line in dot.splitlines()]


def test_every_transition_with_a_target_is_an_edge_labelled_as_voxflow_graph_does() -> None:
    lines = _statements(flow_dot(_flow()))

    assert "greet -> confirmed [label=confirms]" in lines
    assert 'greet -> goodbye [label="dtmf 2"]' in lines
    assert 'greet -> goodbye [label="silence 6s"]' in lines
    assert "__any__ -> goodbye [label=opt_out style=dashed]" in lines
    assert '__any__ [label="any node" style=dashed]' in lines


def test_nodes_that_end_the_call_are_drawn_with_their_outcome() -> None:
    lines = _statements(flow_dot(_flow()))

    assert 'confirmed [label="confirmed\\nend confirmed" peripheries=2]' in lines
    assert 'goodbye [label="goodbye\\nend" peripheries=2]' in lines


def test_current_node_and_path_edges_are_highlighted() -> None:
    lines = _statements(flow_dot(_flow(), current="confirmed", path=["greet", "confirmed"]))

    assert (
        'confirmed [label="confirmed\\nend confirmed" fillcolor="#f59e0b" penwidth=3 peripheries=2]'
        in lines
    )
    assert 'greet [label=greet fillcolor="#fde68a"]' in lines
    assert 'greet -> confirmed [label=confirms color="#b45309" penwidth=3]' in lines
    assert 'greet -> goodbye [label="dtmf 2"]' in lines


def test_dot_source_is_valid_graphviz_syntax() -> None:
    source = graphviz.Source(flow_dot(_flow(), current="greet"))

    assert source.source.startswith("digraph reminder {")
    assert source.source.rstrip().endswith("}")


def test_a_subflow_is_drawn_with_its_call_edges_and_returns() -> None:
    from dsl import compile_source

    flow = compile_source(
        'agent t\n  persona "p"\n  start greet\n\n'
        "  flow check() -> (ok: bool)\n    node ask\n      return(ok = true)\n\n"
        "  node greet\n    call check into c -> bye\n\n  node bye\n    end\n",
        file="t.flow",
    ).unwrap()
    lines = _statements(flow_dot(flow))

    assert 'greet -> "check.ask" [label="call check" style=dashed]' in lines
    assert 'greet -> bye [label="after check"]' in lines
    assert '"check.ask" [label="check.ask\\nreturn" peripheries=2]' in lines

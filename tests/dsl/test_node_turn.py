"""A node's own turn detection (``turn``): checked like the agent's, over the agent's, and
written back by ``fmt`` in both syntaxes."""

from __future__ import annotations

import jsonschema

from dsl import compile_source
from dsl.format import to_flow
from dsl.format_yaml import to_data, to_yaml
from dsl.ir import Flow, TurnDetection
from dsl.schema import flow_schema

FLOW = """\
agent t
  persona "Hi"
  outcomes done
  start a
  provider
{provider}
  node a
    task "Ask for the card number."
    turn
{turn}
    on done "The caller gave it" -> b

  node b
    say "Thanks"
    end done
"""


def compile_with(provider: list[str], turn: list[str]):
    text = FLOW.format(
        provider="\n".join("    " + x for x in provider) or '    language "en-US"',
        turn="\n".join("      " + x for x in turn),
    )
    return compile_source(text, file="t.flow")


def where(result, code: str) -> list[tuple[int, int]]:
    return [(d.line, d.col) for d in result.diagnostics if d.code == code]


def test_a_node_turn_is_over_the_agents_and_keeps_what_the_node_leaves_out():
    flow = compile_with(["turn_detection semantic_vad", "eagerness high", "silence 700ms"],
                        ["eagerness low"]).unwrap()  # fmt: skip
    a, b = flow.agent.nodes
    assert a.turn == TurnDetection(eagerness="low") and b.turn is None
    assert flow.agent.turn_in(a) == TurnDetection("semantic_vad", None, "low", 700)
    assert flow.agent.turn_in(b) == TurnDetection("semantic_vad", None, "high", 700)


def test_prefix_padding_reaches_the_openai_turn_detection():
    from runtime.providers.openai_realtime.session import turn_detection

    flow = compile_with(["prefix_padding 200ms"], ["silence 2s"]).unwrap()
    assert turn_detection(flow.agent.turn_in(flow.agent.nodes[0])) == {
        "type": "server_vad", "create_response": True, "interrupt_response": False,
        "silence_duration_ms": 2000, "prefix_padding_ms": 200}  # fmt: skip


def test_a_node_that_changes_the_mode_does_not_inherit_the_other_modes_parameters():
    flow = compile_with(["turn_detection semantic_vad", "eagerness high"],
                        ["turn_detection server_vad", "silence 2s"]).unwrap()  # fmt: skip
    assert flow.agent.turn_in(flow.agent.nodes[0]) == TurnDetection("server_vad", None, None, 2000)


def test_node_turn_is_checked_against_the_mode_it_inherits():
    # eagerness in a node of a server-VAD agent: VF205 where the node wrote it
    result = compile_with([], ["eagerness low"])
    assert where(result, "VF205") == [(10, 17)] and result.flow is None
    assert "agent uses server_vad" in result.diagnostics[0].message
    # vad_threshold in a node of a semantic-VAD agent, and out of range
    assert where(compile_with(["turn_detection semantic_vad"], ["vad_threshold 0.6"]),
                 "VF205") == [(10, 21)]  # fmt: skip
    assert where(compile_with([], ["vad_threshold 1.5"]), "VF205") == [(10, 21)]
    assert where(compile_with([], ["silence 20s"]), "VF205") == [(10, 15)]
    assert where(compile_with([], ["prefix_padding 9s"]), "VF205") == [(10, 22)]
    assert where(compile_with(["turn_detection semantic_vad"], ["prefix_padding 500ms"]),
                 "VF205") == [(10, 22)]  # fmt: skip
    # the node's own mode decides: eagerness with the node's semantic_vad is fine
    assert compile_with([], ["turn_detection semantic_vad", "eagerness low"]).ok


def test_turn_detection_none_is_refused_in_a_node_too():
    result = compile_with([], ["turn_detection none"])
    assert where(result, "VF204") == [(10, 22)] and result.flow is None


def test_ultravox_in_the_fallback_gets_a_warning_for_a_node_turn():
    result = compile_with(["fallback ultravox", 'voice openai "marin" ultravox "Mark"'],
                          ["silence 2s"])  # fmt: skip
    assert result.ok
    (warning,) = [d for d in result.diagnostics if d.code == "VF207"]
    assert (warning.line, warning.col, warning.is_error) == (11, 15, False)
    assert not [d for d in compile_with([], ["silence 2s"]).diagnostics if d.code == "VF207"]


def test_node_turn_round_trips_through_both_syntaxes_and_fits_the_schema():
    flow = compile_with(["turn_detection semantic_vad"],
                        ["turn_detection server_vad", "vad_threshold 0.7", "silence 1.5s",
                         "prefix_padding 500ms"]).unwrap()  # fmt: skip
    yaml_text = to_yaml(flow)
    assert "turn:\n        turn_detection: server_vad\n        vad_threshold: 0.7" in yaml_text
    assert "        prefix_padding: 500ms\n" in yaml_text
    jsonschema.validate(to_data(flow), flow_schema())
    for text, name in ((to_flow(flow), "t.flow"), (yaml_text, "t.flow.yaml")):
        again = compile_source(text, file=name).unwrap()
        assert again.hash == flow.hash and again.agent.nodes[0].turn == flow.agent.nodes[0].turn


def test_a_flow_without_node_turns_keeps_its_hash():
    # ``turn`` is left out of the canonical JSON when unset: stored flows keep their hash
    flow = compile_with([], ["silence 2s"]).unwrap()
    assert '"turn":{' in flow.to_json() and '"turn":null' not in flow.to_json()
    assert Flow.from_json(flow.to_json()) == flow  # a stored IR reads back, turn or not

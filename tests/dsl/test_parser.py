"""The .flow parser: statements land in the document tree with their positions."""

from __future__ import annotations

import pytest

from dsl import ir
from dsl.ast import Map, Scalar, Seq
from dsl.compiler import compile_source
from dsl.parser import FlowSyntaxError, parse_flow

SRC = """\
# a comment line
agent demo  # trailing comment
  persona "You are {{ \\"Ava\\" }}."
  context contact(first_name: str, tz: tz? "Their zone")
  var tries: int = 0
  outcomes ok
  start a

  node a
    collect n: int "how many"
      validate value > 0
      max_asks 2
    call lookup(id = contact.first_name, n = max(1, 2)) into res
    say "Hi"
    when slots.n > 2 and res.x == 1 -> b
      do
        set vars.tries = vars.tries + 1
    on dtmf "1" -> b
    on silence 1h30m reprompt "Hello?" max 2 -> b
    on no_match -> b
  node b
    end ok
"""


def test_statements_map_onto_the_yaml_shape_with_positions():
    doc = parse_flow(SRC, "t.flow")
    agent = doc.get("agent")
    assert isinstance(agent, Map)
    persona = agent.get("persona")
    assert isinstance(persona, Scalar) and persona.value == 'You are {{ "Ava" }}.'
    assert (persona.pos.line, persona.pos.col) == (3, 11)
    assert (persona.text_pos.line, persona.text_pos.col) == (3, 12)
    node = agent.get("nodes").get("a")
    validate = node.get("collect").get("n").get("validate")
    assert validate.raw == "value > 0" and (validate.pos.line, validate.pos.col) == (11, 16)
    call = node.get("enter").items[0]
    args = call.get("args")
    assert [k.raw for k, _ in args.entries] == ["id", "n"]
    assert args.get("n").raw == "max(1, 2)"
    line13 = SRC.splitlines()[12]
    assert (args.get("n").pos.line, args.get("n").pos.col) == (13, line13.index("max(") + 1)
    when = node.get("on").items[0]
    assert when.get("when").raw == "slots.n > 2 and res.x == 1"
    assert isinstance(when.get("do"), Seq)


def test_the_parsed_flow_builds_every_kind_of_transition():
    # ``lookup`` is not declared, so compile through the YAML of the same shape instead of
    # asserting on errors: here we only check what the statements became.
    result = compile_source(
        SRC.replace("call lookup", "call opt_out")
        .replace("(id = contact.first_name, n = max(1, 2))", "")
        # opt_out's result has the declared fields of dsl.builtins, no ``x``
        .replace("res.x == 1", "res.opted_out"),
        file="t.flow",
    )
    assert result.ok, [d.headline() for d in result.diagnostics]
    node = result.unwrap().node("a")
    kinds = [t.kind for t in node.transitions]
    assert kinds == ["when", "dtmf", "silence", "no_match"]
    silence = node.transitions[2]
    assert isinstance(silence, ir.SilenceTransition)
    assert silence.after_ms == 5_400_000 and silence.max_reprompts == 2
    assert node.collect[0] == ir.Slot(
        "n", "int", validate=ir.Expr("value > 0"), max_asks=2, description="how many"
    )
    assert result.unwrap().agent.context[1] == ir.Field(
        "tz", "tz", required=False, description="Their zone"
    )
    assert result.unwrap().agent.variables[0].default == ir.Expr("0")


@pytest.mark.parametrize(
    ("src", "line", "col"),
    [
        ("agent x\n  persona\n", 2, 10),
        ('agent x\n  persona "a"\n  node a\n    on -> b\n', 4, 8),
        ('agent x\n  persona "a"\n   node a\n', 3, 4),
        ("agent\n", 1, 6),
    ],
)
def test_syntax_errors_are_vf101_where_the_text_goes_wrong(src, line, col):
    with pytest.raises(FlowSyntaxError) as e:
        parse_flow(src, "t.flow")
    d = e.value.diagnostics[0]
    assert (d.code, d.line) == ("VF101", line)
    assert d.col == col
    assert d.hint


def test_syntax_error_says_what_was_expected():
    with pytest.raises(FlowSyntaxError) as e:
        parse_flow('agent x\n  persona "a"\n  node a\n    on silence -> b\n', "t.flow")
    assert "duration" in e.value.diagnostics[0].hint

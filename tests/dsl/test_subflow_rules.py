"""Sub-flows: both syntaxes give one IR, and each rule about them reports its code, position,
message and hint."""

from __future__ import annotations

import pytest

from dsl import compile_source, ir
from dsl.format import to_flow
from dsl.format_yaml import to_yaml
from tests.dsl.test_rules import at

SRC = """\
agent t
  persona "Hi"
  context contact(birth_date: date)
  outcomes done, failed
  start greet

  flow identity(birth_date: date) -> (verified: bool)
    start ask

    node ask
      collect dob: date
        prompt "Your date of birth?"
      when slots.dob == params.birth_date -> ok
      on no_match -> nope

    node ok
      RETURN_OK

    node nope
      return(verified = false)

  node greet
    say "Hi"
    CALL

  node after
    when id.verified -> yes
    when not id.verified -> no

  node yes
    end done

  node no
    end failed
"""


def case(
    ret: str = "return(verified = true)",
    call: str = "call identity(birth_date = contact.birth_date) into id -> after",
) -> str:
    return SRC.replace("RETURN_OK", ret).replace("CALL", call)


def test_a_subflow_compiles_to_qualified_nodes_and_a_call_action():
    flow = compile_source(case(), file="t.flow").unwrap()
    (sub,) = flow.agent.subflows
    assert sub == ir.SubFlow(
        "identity",
        "identity.ask",
        (ir.Field("birth_date", "date"),),
        (ir.Field("verified", "bool"),),
    )
    assert [n.name for n in flow.agent.nodes if sub.owns(n.name)] == [
        "identity.ask",
        "identity.ok",
        "identity.nope",
    ]
    assert flow.node("identity.ask").transitions[0].target == "identity.ok"
    (call,) = flow.node("greet").on_enter
    assert call == ir.SubFlowCall(
        "identity", "after", (("birth_date", ir.Expr("contact.birth_date")),), "id"
    )


def test_subflows_read_the_same_in_both_syntaxes():
    flow = compile_source(case(), file="t.flow").unwrap()
    assert compile_source(to_yaml(flow), file="t.flow.yaml").unwrap().hash == flow.hash
    assert compile_source(to_flow(flow), file="t.flow").unwrap().hash == flow.hash


CASES = [
    # (id, code, source, needle)
    (
        "recursion",
        "VF410",
        case(ret="call identity(birth_date = params.birth_date) -> ok"),
        "identity(birth_date: date)",
    ),
    (
        "never returns",
        "VF411",
        case(ret="end done").replace("return(verified = false)", "end failed"),
        "identity(birth_date: date)",
    ),
    (
        "return outside",
        "VF412",
        SRC.replace("    end done", "    return")
        .replace("RETURN_OK", "return(verified = true)")
        .replace("CALL", "call identity(birth_date = contact.birth_date) into id -> after"),
        "return\n",
    ),
    ("unknown result", "VF413", case(ret="return(verifed = true)"), "verifed"),
    ("missing result", "VF413", case(ret="return"), "return\n"),
    (
        "unknown node after the call",
        "VF401",
        case(call="call identity(birth_date = contact.birth_date) into id -> aftr"),
        "aftr",
    ),
    (
        "unknown argument",
        "VF306",
        case(call="call identity(birthdate = contact.birth_date) into id -> after"),
        "birthdate",
    ),
    ("missing argument", "VF307", case(call="call identity into id -> after"), "identity into"),
    (
        "call without a node to continue at",
        "VF203",
        case(call="call identity(birth_date = contact.birth_date) into id"),
        "identity(birth_date = contact",
    ),
    ("continue after a tool call", "VF202", case(call="call opt_out -> after"), "after\n"),
    (
        "a sub-flow reads only what it is given",
        "VF301",
        case().replace("params.birth_date -> ok", "contact.birth_date -> ok"),
        "contact.birth_date -> ok",
    ),
    (
        "an unknown result field of a sub-flow",
        "VF301",
        case().replace("when id.verified", "when id.verifed"),
        "id.verifed",
    ),
]


@pytest.mark.parametrize(
    ("code", "src", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_subflow_rule_reports_code_position_message_and_hint(code, src, needle):
    result = compile_source(src, file="t.flow")
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.headline() for d in result.diagnostics]
    here = [d for d in found if (d.line, d.col) == at(src, needle)]
    assert here, [d.headline() for d in found]
    assert here[0].message and here[0].hint


def test_a_flow_without_subflows_keeps_the_hash_it_had_before_them():
    # The IR of a flow without sub-flows, as stored before ``Agent.subflows`` existed.
    flow = compile_source(case().split("  flow identity")[0] + "  node greet\n    end\n").unwrap()
    assert '"subflows"' not in flow.to_json()
    assert ir.Flow.from_json(flow.to_json()) == flow
    with_subflows = compile_source(case(), file="t.flow").unwrap()
    assert '"subflows"' in with_subflows.to_json()
    assert ir.Flow.from_json(with_subflows.to_json()) == with_subflows

"""Calls of tools checked against their declared signatures (built-ins and HTTP tools alike),
result fields checked, and the ``on tool_error`` transition in both syntaxes."""

from __future__ import annotations

import pytest

from dsl import compile_source, ir
from dsl.builtins import BUILTINS
from dsl.format import to_flow
from dsl.format_yaml import to_yaml
from tests.dsl.test_rules import at

BASE = """\
agent t
  persona "Hi"
  context contact(first_name: str, age: int, due: datetime)
  outcomes done
  tool lookup http GET "https://example.com/orders/{{ id }}"
    param id: str
    response status = "status"
  start a

  node a
    CALL
    say "Hello {{ contact.first_name }}"
    end done
"""


def case(call: str) -> str:
    return BASE.replace("CALL", call)


CASES = [
    # (id, code, source, needle, offset)
    (
        "unknown argument of a built-in",
        "VF306",
        case("call schedule_callback(at = contact.due)"),
        "at =",
        0,
    ),
    ("unknown argument of an HTTP tool", "VF306", case("call lookup(idd = 'x')"), "idd", 0),
    ("missing required argument", "VF307", case("call set_outcome"), "set_outcome", 0),
    (
        "argument of the wrong type",
        "VF308",
        case("call opt_out(reason = contact.age)"),
        "reason",
        0,
    ),
    (
        "unknown result field",
        "VF302",
        case("call lookup(id = 'x') into order\n    say \"{{ order.stauts }}\""),
        "order.stauts",
        0,
    ),
    (
        "unknown built-in result field in a condition",
        "VF301",
        case("call schedule_callback into cb\n    when cb.sheduled -> a"),
        "cb.sheduled",
        0,
    ),
    (
        "on tool_error names an unknown tool",
        "VF402",
        case("call lookup(id = 'x')\n    on tool_error lookpu -> a"),
        "lookpu",
        0,
    ),
]


@pytest.mark.parametrize(
    ("code", "src", "needle", "offset"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_tool_call_rule_reports_code_position_and_hint(code, src, needle, offset):
    result = compile_source(src, file="t.flow")
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.headline() for d in result.diagnostics]
    d = found[0]
    assert (d.file, d.line, d.col) == ("t.flow", *at(src, needle, offset))
    assert d.message and d.hint


def test_unknown_argument_hint_names_the_close_parameter():
    result = compile_source(case("call schedule_callback(whn = contact.due)"), file="t.flow")
    d = next(d for d in result.diagnostics if d.code == "VF306")
    assert "'when'" in d.hint


@pytest.mark.parametrize(
    "call",
    [
        "call schedule_callback(when = contact.due, reason = 'asked') into cb",
        "call schedule_callback(when = 'tomorrow at 3pm')",
        'call lookup(id = contact.first_name) into order\n    say "{{ order.status }}"',
        "call knowledge_search(query = 'hours') into k\n    say \"{{ k.message }}\"",
        "call opt_out into o\n    when o.opted_out -> a",
    ],
)
def test_well_typed_calls_compile(call):
    result = compile_source(case(call), file="t.flow")
    assert result.ok, [d.headline() for d in result.diagnostics]


def test_every_builtin_is_declared_with_typed_params_and_result():
    assert set(BUILTINS) == set(ir.BUILTIN_TOOLS)
    for tool in BUILTINS.values():
        assert tool.description and tool.result and tool.example
        assert compile_source(case(tool.example), file="t.flow").ok, tool.name


TOOL_ERROR = (
    case(
        "call lookup(id = 'x') into order\n"
        "    on tool_error lookup -> sorry\n"
        "    on failures max 3 -> sorry"
    )
    + """
  node sorry
    say "The {{ tool_error.tool }} service failed: {{ tool_error.message }}"
    end done

  global
    on tool_error -> sorry
"""
)


def test_tool_error_and_failures_transitions_read_the_same_in_both_syntaxes():
    flow = compile_source(TOOL_ERROR, file="t.flow").unwrap()
    node = flow.node("a")
    assert node.transitions == (
        ir.ToolErrorTransition("lookup", "sorry"),
        ir.FailuresTransition(3, "sorry"),
    )
    assert flow.agent.global_transitions == (ir.ToolErrorTransition(None, "sorry"),)
    yaml_flow = compile_source(to_yaml(flow), file="t.flow.yaml").unwrap()
    assert yaml_flow.hash == flow.hash
    assert compile_source(to_flow(flow), file="t.flow").unwrap().hash == flow.hash


def test_failures_budget_must_be_at_least_one():
    result = compile_source(TOOL_ERROR.replace("max 3", "max 0"), file="t.flow")
    assert [d.code for d in result.errors] == ["VF202"]

"""Rules of the repair and retry-budget constructs: ``set`` targets (VF309) and a retry
budget a node never reaches (VF408), each asserting code, position, message and hint."""

from __future__ import annotations

import pytest

from dsl import compile_source
from dsl.diagnostics import Severity
from tests.dsl.test_rules import at

BASE = """\
agent t
  persona "Hi"
  var count: int
  start a

  node a
    collect day: date
    BODY
    when slots.day != null -> b

  node b
    say "Thanks."
    on silence 5s max 1 -> c
    on no_match max 1 -> c
    BUDGET

  node c
    end
"""


def case(body: str = 'say "Which day?"', budget: str = "on failures max 3 -> c") -> str:
    return BASE.replace("BODY", body).replace("BUDGET", budget)


CASES = [
    # (id, code, severity, source, needle)
    ("set of an unknown slot", "VF309", Severity.ERROR, case("set slots.dya = null"), "slots.dya"),
    (
        "set of an undeclared variable",
        "VF309",
        Severity.ERROR,
        case("set vars.cnt = 1"),
        "vars.cnt",
    ),
    (
        "set of a value of another type",
        "VF309",
        Severity.ERROR,
        case('set vars.count = "x"'),
        "vars.count",
    ),
    (
        "budget never reached",
        "VF408",
        Severity.WARNING,
        case(budget="on failures max 4 -> c"),
        "4 -> c",
    ),
]


@pytest.mark.parametrize(
    ("code", "severity", "src", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_reports_code_position_message_and_hint(code, severity, src, needle):
    result = compile_source(src, file="t.flow")
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.headline() for d in result.diagnostics]
    d = found[0]
    assert (d.line, d.col, d.severity) == (*at(src, needle), severity)
    assert d.message and d.hint


def test_unknown_slot_hint_names_the_close_slot():
    result = compile_source(case("set slots.dya = null"), file="t.flow")
    assert (
        next(d for d in result.diagnostics if d.code == "VF309").hint == "did you mean 'slots.day'?"
    )


@pytest.mark.parametrize(
    "body",
    [
        "set slots.day = null",
        "set day = null",
        "set vars.count = 2",
        "set count = 2",
        "set slots.day = today()",
    ],
)
def test_clearing_and_setting_declared_names_compiles(body):
    result = compile_source(case(body), file="t.flow")
    assert result.ok, [d.headline() for d in result.diagnostics]


def test_a_reachable_budget_gives_no_warning():
    result = compile_source(case(budget="on failures max 3 -> c"), file="t.flow")
    assert not [d for d in result.diagnostics if d.code == "VF408"]


@pytest.mark.parametrize(
    "second", ["on failures max 2 -> c", "on tool_error -> c\n    on tool_error -> c"]
)
def test_a_second_budget_or_tool_error_handler_in_a_node_never_fires(second):
    src = case(budget="on failures max 3 -> c\n    " + second)
    result = compile_source(src, file="t.flow")
    found = [d for d in result.diagnostics if d.code == "VF405"]
    assert len(found) == 1 and found[0].hint

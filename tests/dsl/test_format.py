"""The formatter: canonical text in both syntaxes, same IR either way."""

from __future__ import annotations

import pytest

from dsl import compile_source
from dsl.format import days, duration, leading_comment, to_flow
from dsl.format_yaml import to_yaml

FLOW = """\
# What this flow shows.
agent t
  persona "Line one\\nline two"
  var n: int = 1 + 2
  outcomes done
  start a

  node a
    set vars.n = vars.n * 2
    say "Hi"
    on dtmf "#" -> b
      do
        say "ok"
  node b
    enter
      say "bye"
      end done
"""


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (500, "500ms"),
        (30_000, "30s"),
        (900_000, "15m"),
        (7_200_000, "2h"),
        (86_400_000, "1d"),
        (5_400_000, "90m"),
        (1500, "1500ms"),
    ],
)
def test_durations_are_written_in_the_largest_exact_unit(ms, text):
    assert duration(ms) == text


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ((1, 2, 3, 4, 5), "mon-fri"),
        ((6,), "sat"),
        ((1, 3, 5), "mon,wed,fri"),
        ((1, 2, 6, 7), "mon,tue,sat,sun"),
        ((1, 2, 3, 6), "mon-wed,sat"),
    ],
)
def test_days_are_written_as_ranges(values, text):
    assert days(values) == text


def test_flow_to_yaml_and_back_keeps_the_hash_and_the_header_comment():
    flow = compile_source(FLOW, file="t.flow").unwrap()
    yaml_text = to_yaml(flow, header=leading_comment(FLOW))
    assert yaml_text.startswith("# What this flow shows.\nagent:\n")
    again = compile_source(yaml_text, file="t.flow.yaml").unwrap()
    assert again.hash == flow.hash
    assert to_flow(again, header=leading_comment(yaml_text)) == to_flow(
        flow, header=["# What this flow shows."]
    )


def test_expressions_are_written_in_canonical_form():
    flow = compile_source(FLOW.replace("1 + 2", "(1+2)"), file="t.flow").unwrap()
    assert flow.agent.variables[0].default.src == "1 + 2"
    assert "var n: int = 1 + 2" in to_flow(flow)


def test_say_actions_keep_an_explicit_enter_block():
    flow = compile_source(FLOW, file="t.flow").unwrap()
    text = to_flow(flow)
    assert '    enter\n      say "bye"\n      end done\n' in text
    assert compile_source(text, file="t.flow").unwrap().hash == flow.hash

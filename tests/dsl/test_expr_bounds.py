"""Expressions cannot hang a worker on a regular expression or build unbounded values."""

from __future__ import annotations

import time

import pytest

from dsl.expr import ExprRuntimeError, compile_expr


def test_a_catastrophic_pattern_times_out_as_a_runtime_error():
    evaluate = compile_expr("contact.name matches '^(a|aa)+$'")
    started = time.perf_counter()
    with pytest.raises(ExprRuntimeError, match="took longer"):
        evaluate({"contact": {"name": "a" * 40 + "b"}})
    assert time.perf_counter() - started < 1.0


def test_a_pattern_read_from_the_context_times_out_too():
    evaluate = compile_expr("contact.name matches contact.pattern")
    with pytest.raises(ExprRuntimeError):
        evaluate({"contact": {"name": "a" * 40 + "b", "pattern": "^(a|a)*$"}})


def test_ordinary_patterns_still_match():
    assert compile_expr("contact.name matches '^An'")({"contact": {"name": "Ana"}}) is True


@pytest.mark.parametrize(
    "src",
    ["vars.s + vars.s", "vars.big * vars.big"],
)
def test_values_past_the_bounds_are_runtime_errors(src):
    env = {"vars": {"s": "x" * 60_000, "big": 10**70}}
    with pytest.raises(ExprRuntimeError, match="bound"):
        compile_expr(src)(env)

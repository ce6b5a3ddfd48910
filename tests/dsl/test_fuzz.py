"""Property: whatever the input, the compiler answers with diagnostics and never raises.

Inputs are the example flows in both syntaxes, mutated (lines deleted, duplicated, swapped,
re-indented, truncated; random characters inserted), and random text. 10,000 inputs in all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import compile_file, compile_source
from dsl.format import to_flow
from dsl.format_yaml import to_yaml

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def _sources() -> list[tuple[str, str]]:
    out = []
    for path in sorted([*FLOWS.glob("*.flow"), *FLOWS.glob("*.flow.yaml")]):
        result = compile_file(path)
        flow = result.unwrap()
        out.append(("x.flow", to_flow(flow)))
        out.append(("x.flow.yaml", to_yaml(flow)))
    return out


SOURCES = _sources()
CODE = re.compile(r"^VF\d{3}$")
NOISE = st.text(
    alphabet=st.sampled_from(list(" \t\n\"'#:-[]{}()|>=*&!%@`,.0123456789azAZ_é\\")), max_size=12
)


@st.composite
def mutated(draw) -> tuple[str, str]:
    name, text = draw(st.sampled_from(SOURCES))
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(["delete", "duplicate", "swap", "noise", "indent", "truncate", "cut"])
        )
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "noise":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(NOISE) + lines[i][at:]
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 7)) + lines[i].lstrip(" ")
        elif op == "truncate":
            lines = lines[:i]
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + "\n"
    return name, "".join(lines)


def _assert_answers_with_diagnostics(name: str, src: str) -> None:
    result = compile_source(src, file=name)
    for d in result.diagnostics:
        assert CODE.match(d.code), d
        assert d.line >= 1 and d.col >= 1, d
        assert d.message
    if result.ok:
        flow = result.unwrap()
        assert flow.hash.startswith("sha256:")
    else:
        assert any(d.is_error for d in result.diagnostics)


@pytest.mark.slow
@settings(max_examples=8000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(mutated())
def test_mutated_examples_get_diagnostics_never_exceptions(case):
    _assert_answers_with_diagnostics(*case)


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(["x.flow", "x.flow.yaml"]), st.text(max_size=200))
def test_random_text_gets_diagnostics_never_exceptions(name, src):
    _assert_answers_with_diagnostics(name, src)

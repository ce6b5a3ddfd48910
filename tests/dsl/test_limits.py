"""Hostile flow sources are refused with a diagnostic before any parser expands them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dsl.compiler import compile_file, compile_source
from dsl.limits import MAX_LINES, MAX_NESTING, MAX_NODES, MAX_SOURCE_BYTES
from dsl.yaml_loader import YamlSyntaxError, load_yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "flows" / "payment.flow.yaml"


def _laughs(levels: int = 9) -> str:
    """The "billion laughs": each level is nine aliases of the level before (9**9 leaves)."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "agent:\n  name: x\n  junk:\n" + "".join(f"    {line}\n" for line in lines)


def test_nested_aliases_are_vf104_at_the_first_anchor_without_expanding_them():
    started = time.perf_counter()
    with pytest.raises(YamlSyntaxError) as err:
        load_yaml(_laughs(), "bomb.flow.yaml")
    assert time.perf_counter() - started < 1.0
    (d,) = err.value.diagnostics
    assert (d.file, d.line, d.col, d.code) == ("bomb.flow.yaml", 4, 9, "VF104")
    assert d.hint


def test_an_alias_alone_is_vf104_at_the_alias():
    src = "agent:\n  name: x\n  persona: *p\n"
    with pytest.raises(YamlSyntaxError) as err:
        load_yaml(src, "a.flow.yaml")
    assert [(d.line, d.col, d.code) for d in err.value.diagnostics] == [(3, 12, "VF104")]


def test_quoted_ampersands_and_stars_are_plain_text():
    doc = load_yaml('agent:\n  persona: "Tom & Jerry *wave*"\n  say: "&x"\n')
    assert doc.get("agent").get("persona").value == "Tom & Jerry *wave*"


def test_a_flow_compiles_with_the_alias_bomb_as_a_diagnostic_not_a_crash():
    result = compile_source(_laughs(), file="bomb.flow.yaml")
    assert [d.code for d in result.diagnostics] == ["VF104"]


def test_too_many_yaml_values_is_vf103():
    src = "agent:\n  junk: [" + ", ".join(["1"] * (MAX_NODES + 1)) + "]\n"
    with pytest.raises(YamlSyntaxError) as err:
        load_yaml(src, "big.flow.yaml")
    assert [d.code for d in err.value.diagnostics] == ["VF103"]


@pytest.mark.parametrize("syntax", ["flow", "yaml"])
def test_a_source_over_the_size_limit_is_vf103_before_parsing(syntax):
    src = "#" * (MAX_SOURCE_BYTES + 1)
    result = compile_source(src, file=f"big.{syntax}", syntax=syntax)
    assert [(d.code, d.line, d.col) for d in result.diagnostics] == [("VF103", 1, 1)]


def test_a_source_over_the_line_limit_is_vf103():
    result = compile_source("\n" * MAX_LINES, file="lines.flow", syntax="flow")
    assert [d.code for d in result.diagnostics] == ["VF103"]


def test_a_big_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.flow"
    path.write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    result = compile_file(path)
    assert [d.code for d in result.diagnostics] == ["VF103"]


@pytest.mark.parametrize("where", ["template", "condition"])
def test_thousands_of_nested_parentheses_are_vf103_at_the_bracket(where):
    source = EXAMPLE.read_text()
    parens = "(" * 2000 + "1" + ")" * 2000
    if where == "template":
        source = source.replace("{{ contact.first_name }}", "{{ " + parens + " }}", 1)
    else:
        source = source.replace("value >= contact.minimum_due", f"value >= {parens}", 1)
    result = compile_source(source, file="deep.flow.yaml")
    (d,) = result.diagnostics
    assert d.code == "VF103"
    line = source.splitlines()[d.line - 1]
    assert line[d.col - 1] == "(" and line[: d.col].count("(") > MAX_NESTING - 10

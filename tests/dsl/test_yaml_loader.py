"""The YAML loader keeps every key's and value's position and reads scalars as written."""

from __future__ import annotations

import pytest

from dsl.ast import Map, Scalar, Seq
from dsl.yaml_loader import YamlSyntaxError, load_yaml

SRC = """\
agent:
  name: x
  on: [1, "two"]
  hours: 09:00-18:00
  sexagesimal: 9:30
  date: 2026-12-24
  flag: yes
  empty:
  quoted: 'it''s'
"""


def test_keys_and_values_keep_line_and_column():
    doc = load_yaml(SRC, "t.flow.yaml")
    agent = doc.get("agent")
    assert isinstance(agent, Map)
    key = agent.key("name")
    assert (key.pos.line, key.pos.col) == (2, 3)
    value = agent.get("name")
    assert (value.pos.line, value.pos.col) == (2, 9)
    seq = agent.get("on")
    assert isinstance(seq, Seq) and (seq.items[1].pos.line, seq.items[1].pos.col) == (3, 11)
    assert (seq.items[1].text_pos.line, seq.items[1].text_pos.col) == (3, 12)


def test_scalars_keep_their_text_instead_of_yaml_1_1_guesses():
    agent = load_yaml(SRC).get("agent")
    assert agent.get("hours").raw == "09:00-18:00"
    assert agent.get("sexagesimal").raw == "9:30"
    assert agent.get("date").raw == "2026-12-24" and agent.get("date").tag == "str"
    assert agent.key("on").raw == "on"
    flag = agent.get("flag")
    assert flag.tag == "bool" and flag.value is True and flag.raw == "yes"
    assert agent.get("empty").tag == "null"
    assert agent.get("quoted").value == "it's" and agent.get("quoted").quoted


def test_numbers_are_typed_only_when_plain():
    seq = load_yaml(SRC).get("agent").get("on")
    assert (
        isinstance(seq.items[0], Scalar) and seq.items[0].value == 1 and seq.items[0].tag == "int"
    )
    assert seq.items[1].tag == "str"


def test_duplicate_keys_are_kept_so_they_can_be_reported():
    doc = load_yaml("a: 1\na: 2\n")
    assert [k.raw for k, _ in doc.entries] == ["a", "a"]


@pytest.mark.parametrize(
    ("src", "line"),
    # an unclosed [ is blamed where it opens (tests/dsl/test_yaml_errors.py)
    [("a: [1, 2\n", 1), ("a:\n  - b\n  c: d\n", 3), ("a: 1\n---\nb: 2\n", 2)],
)
def test_malformed_yaml_is_one_vf102_with_the_line(src, line):
    with pytest.raises(YamlSyntaxError) as e:
        load_yaml(src, "t.flow.yaml")
    d = e.value.diagnostics[0]
    assert d.code == "VF102" and d.line == line


def test_an_empty_document_is_an_empty_mapping():
    assert load_yaml("") == Map([], load_yaml("").pos)

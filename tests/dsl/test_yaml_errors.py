"""Malformed YAML is blamed on the line to fix (``VF102``), saying what is wrong and how to fix it.

Each case is an example flow with one mistake. Before, an unclosed string was reported at the
end of the file or several lines later, and a key without its colon or an unclosed ``[`` at
the next line.
"""

from __future__ import annotations

import pytest

from dsl import compile_source

FLOW = """\
agent:
  name: a
  persona: Hi
  start: greet
  nodes:
    greet:
      say: Hello
      task: Ask
      on:
      - intent: done
        description: Done
        to: bye
    bye:
      say: Bye
"""


def with_line(n: int, text: str) -> str:
    lines = FLOW.splitlines()
    lines[n - 1] = text
    return "\n".join(lines) + "\n"


def diagnostic(source: str):
    result = compile_source(source, file="t.flow.yaml")
    assert result.flow is None and len(result.diagnostics) == 1
    d = result.diagnostics[0]
    assert d.code == "VF102" and d.file == "t.flow.yaml"
    return d


@pytest.mark.parametrize(
    ("n", "text", "where", "hint_has"),
    [
        # unclosed strings: blamed at the opening quote, not at the end of the file
        (7, '      say: "Hello', (7, 12), 'close it with "'),
        (3, "  persona: 'Hi", (3, 12), "close it with '"),
        # a key without its colon: blamed on its line, not the next one
        (8, "      task Ask", (8, 7), "key: value"),
        # an unclosed [ : blamed where it opens
        (9, "      on: [a, b", (9, 11), "close it with ]"),
        # under-indented: the line itself, with the indentations it could have
        (8, "     task: Ask", (8, 6), "4 or 6 spaces"),
        (11, "       description: Done", (11, 8), "6 or 8 spaces"),
        (13, "   bye:", (13, 4), "2 or 4 spaces"),
        # over-indented: read as the rest of the value above
        (8, "        task: Ask", (8, 9), "6 spaces like 'say'"),
        (11, "          description: Done", (11, 11), "8 spaces like 'intent'"),
        # a tab in the indentation
        (8, "\ttask: Ask", (8, 1), "spaces only"),
    ],
)
def test_yaml_mistakes_point_at_the_line_to_fix(n, text, where, hint_has):
    d = diagnostic(with_line(n, text))
    assert (d.line, d.col) == where
    assert hint_has in d.hint


def test_an_unclosed_string_closed_by_a_later_quote_is_blamed_where_it_opens():
    source = with_line(3, '  persona: "Hi').replace("description: Done", 'description: "Done"')
    d = diagnostic(source)
    assert (d.line, d.col) == (3, 12)
    assert "line 11" in d.message and 'close it with "' in d.hint


def test_a_legitimate_multi_line_string_is_not_blamed_for_a_later_mistake():
    source = FLOW.replace("persona: Hi", 'persona: "Hi,\n    this goes on: fine"').replace(
        "    bye:", "   bye:"
    )
    d = diagnostic(source)
    assert (d.line, d.col) == (14, 4)


def test_a_colon_inside_a_plain_value_says_to_quote_it():
    d = diagnostic(FLOW.replace("say: Bye", "say: Note: bye"))
    assert (d.line, d.col) == (14, 16) and "quote the value" in d.hint


def test_a_second_document_and_a_key_among_list_items():
    d = diagnostic(FLOW + "---\nagent: {}\n")
    assert (d.line, d.col) == (15, 1) and "---" in d.hint
    items = "      on:\n        - intent: done\n          description: Done\n        to: bye\n"
    d = diagnostic(FLOW.replace(FLOW[FLOW.index("      on:") : FLOW.index("    bye:")], items))
    assert (d.line, d.col) == (12, 9) and "'- '" in d.hint


def test_the_rendered_diagnostic_has_file_line_col_caret_and_hint():
    source = with_line(7, '      say: "Hello')
    text = diagnostic(source).render(source)
    assert text.splitlines()[0].startswith("t.flow.yaml:7:12: error VF102: ")
    assert '|       say: "Hello' in text and "hint: close it with" in text

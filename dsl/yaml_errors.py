"""``VF102`` diagnostics for malformed YAML that name the line to fix, say what is wrong there
and how to fix it.

PyYAML reports where parsing could not go on (``problem_mark``), which is often after the
mistake: a string whose closing quote is missing runs on, swallowing lines, until a later quote
or the end of the file; a key without its colon is noticed at the next line. Its
``context_mark`` says where the construct being read started (the opening quote, the key).
This module picks the mark that points at the mistake, and for an unclosed string that a later
quote closed, scans the tokens back for the string that swallowed lines.
"""

from __future__ import annotations

import re

import yaml

from dsl.diagnostics import Diagnostic

_KEY_LINE = re.compile(r"^\s*(- )?[A-Za-z_][\w-]*:(\s|$)")
"""A line that reads as ``key: ...`` (or ``- key: ...``): inside a string, a sign the string
ran on past its line."""


def yaml_diagnostic(e: yaml.MarkedYAMLError, source: str, file: str) -> Diagnostic:
    """The diagnostic of a YAML parse error ``e`` of ``source``."""
    lines = source.splitlines()
    problem = e.problem or ""
    context = e.context or ""
    pm, cm = e.problem_mark, e.context_mark

    def at(mark, message: str, hint: str) -> Diagnostic:
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return Diagnostic(file, line, col, "VF102", message, hint)

    if "quoted scalar" in context and cm is not None:
        q = _char(lines, cm)
        return at(
            cm,
            f"this string's closing {q} is missing: it runs on to the end of the file",
            f"close it with {q} on this line (a text on several lines: `key: |` and the text "
            "indented below)",
        )
    swallowed = _runaway_string(source, pm)
    if swallowed is not None:
        token, last = swallowed
        q = token.style
        return at(
            token.start_mark,
            f"this string's closing {q} is missing: it runs on to line {last}, where a "
            f"later {q} closes it",
            f"close it with {q} on this line",
        )
    if "tab" in problem or "'\\t'" in problem:
        return at(pm, "a tab in the indentation", "indent with spaces only")
    if "simple key" in context and cm is not None:
        text = lines[cm.line][cm.column :].strip() if cm.line < len(lines) else ""
        return at(
            cm,
            f"{text!r} reads as a key, but no ':' follows it",
            "write `key: value`, with a colon and a space (quote a value that is text alone)",
        )
    if "flow sequence" in context or "flow mapping" in context:
        opening, closing = ("[", "]") if "sequence" in context else ("{", "}")
        return at(
            cm,
            f"the {opening} opened here is not closed",
            f"close it with {closing} on this line, or write one `- item` per line",
        )
    if "another document" in problem or "single document" in context:
        return at(
            pm,
            "a second YAML document: a flow file holds one",
            "remove this --- line (and what follows it, if it is another flow: give that one "
            "its own file)",
        )
    if "'-' indicator" in problem or "block collection" in context:
        return at(
            pm,
            "a key among the items of a list",
            "start it with '- ' to make it an item, or indent it like the key that owns the list",
        )
    if pm is not None and "mapping values are not allowed" in problem:
        return _colon_in_value(lines, pm, at)
    if pm is not None and ("expected key" in problem or "expected <block end>" in problem):
        return _bad_indent(lines, pm, at)
    where = f" ({context} from line {cm.line + 1})" if context and cm is not None else ""
    return at(
        pm or cm,
        f"YAML syntax error: {problem or context}{where}",
        "check indentation, colons and quotes on this line",
    )


def _char(lines: list[str], mark) -> str:
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line[mark.column] if mark.column < len(line) else '"'


def _runaway_string(source: str, limit) -> tuple[yaml.ScalarToken, int] | None:
    """The last quoted string before ``limit`` that spans lines reading as ``key:`` lines and
    ends at most one line before it, and the line where it ends."""
    if limit is None:
        return None
    found = None
    try:
        for token in yaml.scan(source, Loader=yaml.SafeLoader):
            if token.start_mark.index >= limit.index:
                break
            if not isinstance(token, yaml.ScalarToken) or token.style not in ('"', "'"):
                continue
            start, end = token.start_mark.line, token.end_mark.line
            inner = source.splitlines()[start + 1 : end + 1]
            if end > start and limit.line - end <= 1 and any(_KEY_LINE.match(x) for x in inner):
                found = (token, end + 1)
    except yaml.YAMLError:
        pass
    return found


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _key_indent(text: str) -> int:
    """Where the line's key starts: after its indentation and any ``- `` list markers."""
    n = _indent(text)
    while text[n : n + 2] == "- ":
        n += 2
        n += _indent(text[n:])
    return n


def _code_above(lines: list[str], row: int) -> list[tuple[int, str]]:
    """The non-blank, non-comment lines above 0-based ``row``, nearest first, as (row, text)."""
    return [
        (i, lines[i])
        for i in range(min(row, len(lines)) - 1, -1, -1)
        if lines[i].strip() and not lines[i].lstrip().startswith("#")
    ]


def _colon_in_value(lines: list[str], pm, at) -> Diagnostic:
    row = pm.line
    text = lines[row] if row < len(lines) else ""
    above = _code_above(lines, row)
    prev = above[0][1] if above else ""
    _, colon, value = prev.partition(":")
    if (
        colon
        and value.strip()  # the line above has a value this line can continue
        and _indent(text) > _key_indent(prev)
        and pm.column == text.find(":")  # this line's own key, not a colon in its value
    ):
        prev_row = above[0][0]
        width = _key_indent(prev)
        key = prev[width:].split(":", 1)[0]
        return at(
            _Mark(row, _indent(text)),
            f"this line is indented deeper ({_indent(text)} spaces) than {key!r} on line "
            f"{prev_row + 1} ({width}), so it reads as the rest of that value",
            f"indent it by {width} spaces like {key!r}",
        )
    return at(
        pm,
        "': ' inside an unquoted value reads as a second key on the same line",
        'quote the value: key: "text: with a colon"',
    )


def _bad_indent(lines: list[str], pm, at) -> Diagnostic:
    """A line whose indentation matches no open block above it."""
    row = pm.line
    text = lines[row] if row < len(lines) else ""
    mine = _indent(text)
    levels: list[int] = []
    for _, above in _code_above(lines, row):
        for n in (_key_indent(above), _indent(above)):  # a list item opens two blocks
            if not levels or n < levels[-1]:
                levels.append(n)
    levels.reverse()  # the open blocks, outermost first
    if mine in levels or not text.strip():
        return at(
            pm,
            "a key or list item does not fit the block it is in",
            "check the indentation of this line against the keys above it",
        )
    lower = max((n for n in levels if n < mine), default=0)
    higher = min((n for n in levels if n > mine), default=None)
    choices = f"{lower}" + (f" or {higher}" if higher is not None else "")
    return at(
        _Mark(row, mine),
        f"this line is indented by {mine} spaces, which matches no block above it "
        f"(they are at {', '.join(map(str, levels))})",
        f"indent it by {choices} spaces, like the keys it belongs with",
    )


class _Mark:
    """A position built here (0-based, like PyYAML's marks)."""

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column

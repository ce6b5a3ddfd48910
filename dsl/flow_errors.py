"""Syntax errors of the ``.flow`` syntax as ``VF101`` diagnostics in words a designer reads."""

from __future__ import annotations

from lark import UnexpectedCharacters, UnexpectedInput
from lark.exceptions import UnexpectedEOF, UnexpectedToken
from lark.lexer import TerminalDef

from dsl.diagnostics import Diagnostic

_TOKEN_WORDS = {
    "_NL": "end of line",
    "_INDENT": "an indented block",
    "_DEDENT": "end of block",
    "NAME": "a name",
    "STRING": 'a "quoted string"',
    "INT": "a whole number",
    "NUMBER": "a number",
    "DURATION": "a duration like 15m",
    "TYPE": "a type name",
    "COND": "a condition",
    "EXPR": "an expression",
    "ARGS": "(name = value, ...)",
    "DOTTED": "a name such as vars.x",
    "DAYS": "days like mon-fri",
    "HOURS": "hours like 09:00-18:00",
    "DATE": "a date YYYY-MM-DD",
    "METHOD": "an HTTP method",
    "SOURCE": "csv, xlsx or postgres",
    "AMD_POLICY": "hangup, leave_message or continue",
    "COLUMN_KEY": "phone, timezone, id or name",
    "$END": "end of file",
}


_FOUND = {
    "$END": "end of file",
    "_NL": "end of line",
    "_INDENT": "indentation (this line is indented deeper than the statement above allows)",
    "_DEDENT": "end of the indented block",
}


def _expected_words(expected: set[str], terminals: list[TerminalDef]) -> list[str]:
    words = []
    for name in sorted(expected):
        if name in _TOKEN_WORDS:
            words.append(_TOKEN_WORDS[name])
            continue
        term = next((t for t in terminals if t.name == name), None)
        if term is not None and term.pattern.type == "str":
            words.append(repr(term.pattern.value))
        else:
            words.append(name.lower())
    return sorted(set(words))


def syntax_diagnostic(e: UnexpectedInput, file: str, terminals: list[TerminalDef]) -> Diagnostic:
    """A ``VF101`` diagnostic saying what was found and what the grammar expected there."""
    line, col = max(getattr(e, "line", 1) or 1, 1), max(getattr(e, "column", 1) or 1, 1)
    if isinstance(e, UnexpectedCharacters):
        found = repr(e.char)
        expected = _expected_words(set(e.allowed or ()), terminals)
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        found = _FOUND.get(tok.type) or repr(str(tok))
        expected = _expected_words(set(e.expected or ()), terminals)
        if tok.type in ("_INDENT", "_DEDENT"):
            # Indentation tokens borrow the newline's position; the problem is on the next line.
            line, col = max(tok.end_line or 1, 1), max(tok.end_column or 1, 1)
    elif isinstance(e, UnexpectedEOF):
        found = "end of file"
        expected = _expected_words(set(e.expected or ()), terminals)
    else:  # pragma: no cover - lark has no other UnexpectedInput kinds
        found, expected = "input", []
    shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
    return Diagnostic(
        file,
        line,
        col,
        "VF101",
        f"unexpected {found}",
        f"expected {shown}" if shown else "check the statement against the flow syntax",
    )

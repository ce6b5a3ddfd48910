"""Parsing expression text into ``ExprNode`` trees with the lark grammar ``dsl/expr.lark``.

The LALR parser calls the transformer as it reduces (no intermediate parse tree), which keeps
parsing cheap enough to compile flows of thousands of expressions. Positions are offset so
that diagnostics point into the flow file where the expression sits: an expression starting
at ``line``/``col`` of the file reports its first character there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import regex
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from dsl.diagnostics import Diagnostic
from dsl.expressions.nodes import (
    Binary,
    Call,
    ExprNode,
    ListExpr,
    Literal,
    Name,
    Unary,
)
from dsl.types import parse_duration

GRAMMAR = Path(__file__).resolve().parent.parent / "expr.lark"

MAX_LENGTH = 10_000
"""Longest expression text accepted (characters)."""

MAX_DEPTH = 100
"""Deepest nesting accepted, so checking and evaluation never exhaust the stack."""


class ExprError(Exception):
    """An expression that cannot be compiled; ``diagnostic`` says where and why."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.headline())


class ExprSyntaxError(ExprError):
    """Bad expression text: VF110 syntax, VF111 duration, VF112 date/time literal (and VF304
    from ``compile_expr`` for an unknown function)."""


class _LiteralError(Exception):
    def __init__(self, code: str, message: str, hint: str, line: int, col: int):
        super().__init__(message)
        self.code, self.message, self.hint, self.line, self.col = code, message, hint, line, col


def _token_pos(tok: Token) -> dict[str, int]:
    return {
        "line": tok.line,
        "col": tok.column,
        "end_line": tok.end_line,
        "end_col": tok.end_column,
    }


def _span(first: ExprNode | dict, last: ExprNode | dict, extra: int = 0) -> dict[str, int]:
    """From the start of ``first`` to the end of ``last`` (+ ``extra`` closing characters)."""
    start = first if isinstance(first, dict) else first.__dict__
    end = last if isinstance(last, dict) else last.__dict__
    return {
        "line": start["line"],
        "col": start["col"],
        "end_line": end["end_line"],
        "end_col": end["end_col"] + extra,
    }


def _fail(code: str, tok: Token, message: str, hint: str) -> _LiteralError:
    return _LiteralError(code, message, hint, tok.line, tok.column)


_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _unquote(token: str) -> str:
    # Unknown escapes keep their backslash, so regexes such as '\d+' read as written.
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(0)), token[1:-1])


def _read_time(text: str) -> time:
    if len(text) >= 2 and text[1] == ":":
        text = "0" + text
    return time.fromisoformat(text)


def _nodes(children: list) -> list[ExprNode]:
    return [c for c in children if isinstance(c, ExprNode)]


_DURATION_HINT = "write a number with a unit ms, s, m, h or d (e.g. 500ms, 30s, 15m, 2h, 1h30m)"


class _ToNodes(Transformer):
    """Parse reductions → ``ExprNode``s (called by the LALR parser as it reduces)."""

    # literals
    def string(self, children):
        (tok,) = children
        return Literal(_unquote(tok), "str", **_token_pos(tok))

    def int(self, children):
        (tok,) = children
        try:
            value = int(tok)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise _fail("VF110", tok, "number is too long", "use a smaller number") from None
        return Literal(value, "int", **_token_pos(tok))

    def float(self, children):
        (tok,) = children
        value = float(tok)
        if value == float("inf"):
            raise _fail("VF110", tok, f"number {tok} is too large", "use a smaller number")
        return Literal(value, "float", **_token_pos(tok))

    def duration(self, children):
        (tok,) = children
        try:
            value = parse_duration(tok)
        except (ValueError, OverflowError):
            raise _fail("VF111", tok, f"invalid duration {str(tok)!r}", _DURATION_HINT) from None
        if value % timedelta(milliseconds=1):
            message = f"duration {str(tok)!r} is finer than a millisecond"
            raise _fail("VF111", tok, message, _DURATION_HINT)
        return Literal(value, "duration", **_token_pos(tok))

    def date(self, children):
        (tok,) = children
        try:
            value = date.fromisoformat(tok)
        except ValueError as exc:
            message = f"invalid date {str(tok)!r}: {exc}"
            raise _fail("VF112", tok, message, "write a date as YYYY-MM-DD") from None
        return Literal(value, "date", **_token_pos(tok))

    def time(self, children):
        (tok,) = children
        try:
            value = _read_time(tok)
        except ValueError as exc:
            message = f"invalid time {str(tok)!r}: {exc}"
            raise _fail("VF112", tok, message, "write a time as HH:MM (00-23)") from None
        return Literal(value, "time", **_token_pos(tok))

    def datetime(self, children):
        (tok,) = children
        day, _, clock = str(tok).partition("T")
        try:
            value = datetime.combine(date.fromisoformat(day), _read_time(clock))
        except ValueError as exc:
            message = f"invalid date and time {str(tok)!r}: {exc}"
            raise _fail("VF112", tok, message, "write YYYY-MM-DDTHH:MM") from None
        return Literal(value, "datetime", **_token_pos(tok))

    def true(self, children):
        return Literal(True, "bool", **_token_pos(children[0]))

    def false(self, children):
        return Literal(False, "bool", **_token_pos(children[0]))

    def null(self, children):
        return Literal(None, "null", **_token_pos(children[0]))

    # structure
    def dotted(self, children):
        return Name(
            tuple(str(t) for t in children),
            **_span(_token_pos(children[0]), _token_pos(children[-1])),
        )

    def call(self, children):
        func, *rest = children
        args = tuple(_nodes(rest))
        start = _token_pos(func)
        end = (
            _span(args[-1], args[-1], extra=1)
            if args
            else dict(start, end_col=start["end_col"] + 2)
        )
        return Call(str(func), args, **_span(start, end))

    def list(self, children):
        start = _token_pos(children[0])
        items = tuple(_nodes(children[1:]))
        end = (
            _span(items[-1], items[-1], extra=1)
            if items
            else dict(start, end_col=start["end_col"] + 1)
        )
        return ListExpr(items, **_span(start, end))

    def not_op(self, children):
        (operand,) = _nodes(children)
        return Unary("not", operand, **_span(_token_pos(children[0]), operand))

    def neg(self, children):
        (operand,) = _nodes(children)
        return Unary("-", operand, **_span(_token_pos(children[0]), operand))

    def matches_op(self, children):
        left, right = _nodes(children)
        if isinstance(right, Literal) and right.kind == "str":
            try:
                regex.compile(right.value)  # the engine ``matches`` runs with
            except regex.error as exc:
                raise _LiteralError(
                    "VF110",
                    f"invalid regular expression {right.value!r}: {exc}",
                    "fix the pattern (Python re syntax; escape special characters with \\)",
                    right.line,
                    right.col,
                ) from None
        return Binary("matches", left, right, **_span(left, right))


def _binary(op: str):
    def build(self, children):
        left, right = _nodes(children)
        return Binary(op, left, right, **_span(left, right))

    return build


for _rule, _op in {
    "or_op": "or",
    "and_op": "and",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in_op": "in",
    "not_in_op": "not_in",
    "contains_op": "contains",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "mod": "%",
}.items():
    setattr(_ToNodes, _rule, _binary(_op))


_parser = Lark(
    GRAMMAR.read_text(encoding="utf-8"),
    parser="lalr",
    maybe_placeholders=True,
    transformer=_ToNodes(),
)

_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "FLOAT": "a number",
    "UNIT_NUMBER": "a duration",
    "DATE": "a date",
    "TIME": "a time",
    "DATETIME": "a date and time",
    "$END": "end of expression",
}


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    try:
        pattern = _parser.get_terminal(terminal).pattern
    except KeyError:
        return terminal
    return repr(pattern.value) if pattern.type == "str" else terminal


def _expected_hint(expected: set[str]) -> str:
    described = sorted({_describe(t) for t in expected})
    return "expected " + ", ".join(described) if described else ""


def _too_deep(node: ExprNode) -> bool:
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        if d > MAX_DEPTH:
            return True
        for child in _children(n):
            stack.append((child, d + 1))
    return False


def _children(node: ExprNode) -> list[ExprNode]:
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, ListExpr):
        return list(node.items)
    return []


@dataclass(frozen=True)
class _Failure:
    """A syntax error at a position relative to the expression's start."""

    code: str
    line: int
    col: int
    message: str
    hint: str


def parse_expr(src: str, *, file: str = "<expr>", line: int = 1, col: int = 1) -> ExprNode:
    """Parse expression text.

    Args:
        src: the expression.
        file, line, col: where ``src`` starts in the flow file (diagnostics point there).

    Raises:
        ExprSyntaxError: with ``.diagnostic`` (VF110 syntax, VF111 duration, VF112 date/time).
    """
    result = _parse(src)
    if isinstance(result, _Failure):
        at_line, at_col = _offset(result.line, result.col, line, col)
        diagnostic = Diagnostic(file, at_line, at_col, result.code, result.message, result.hint)
        raise ExprSyntaxError(diagnostic)
    return result if (line, col) == (1, 1) else _shift(result, line, col)


def _offset(at_line: int, at_col: int, line: int, col: int) -> tuple[int, int]:
    """A position relative to the expression → the position in the file."""
    if at_line == 1:
        return line, col + at_col - 1
    return line + at_line - 1, at_col


def _shift(node: ExprNode, line: int, col: int) -> ExprNode:
    start = _offset(node.line, node.col, line, col)
    end = _offset(node.end_line or node.line, node.end_col or node.col, line, col)
    pos = {"line": start[0], "col": start[1], "end_line": end[0], "end_col": end[1]}
    if isinstance(node, Literal):
        return Literal(node.value, node.kind, **pos)
    if isinstance(node, Name):
        return Name(node.parts, **pos)
    if isinstance(node, Unary):
        return Unary(node.op, _shift(node.operand, line, col), **pos)
    if isinstance(node, Binary):
        return Binary(node.op, _shift(node.left, line, col), _shift(node.right, line, col), **pos)
    if isinstance(node, Call):
        return Call(node.func, tuple(_shift(a, line, col) for a in node.args), **pos)
    if isinstance(node, ListExpr):
        return ListExpr(tuple(_shift(a, line, col) for a in node.items), **pos)
    raise TypeError(f"not an expression node: {node!r}")


@lru_cache(maxsize=8192)
def _parse(src: str) -> ExprNode | _Failure:
    """Parse at position (1, 1); cached by text, since flows repeat conditions verbatim."""
    if not src.strip():
        return _Failure("VF110", 1, 1, "empty expression", "write a condition or a value")
    if len(src) > MAX_LENGTH:
        return _Failure("VF110", 1, 1, "expression is too long", "split it into variables")
    try:
        node = _parser.parse(src)
    except (_LiteralError, VisitError) as exc:
        err = exc.orig_exc if isinstance(exc, VisitError) else exc
        if not isinstance(err, _LiteralError):
            raise
        return _Failure(err.code, err.line, err.col, err.message, err.hint)
    except UnexpectedCharacters as exc:
        char = src[exc.pos_in_stream] if exc.pos_in_stream < len(src) else ""
        hint = _expected_hint(set(exc.allowed or ()))
        return _Failure("VF110", exc.line, exc.column, f"unexpected character {char!r}", hint)
    except UnexpectedToken as exc:
        tok = exc.token
        hint = _expected_hint(set(exc.accepts or exc.expected))
        if tok.type == "$END":
            end = src.rstrip()
            last_line = end.count("\n") + 1
            last_col = len(end) - (end.rfind("\n") + 1) + 1
            return _Failure("VF110", last_line, last_col, "expression ends too early", hint)
        return _Failure("VF110", tok.line, tok.column, f"unexpected {str(tok)!r}", hint)
    except UnexpectedInput as exc:  # any other lark parse failure
        first = str(exc).splitlines()[0]
        at_line, at_col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
        return _Failure("VF110", at_line, at_col, "invalid expression", first)
    if _too_deep(node):
        return _Failure("VF110", 1, 1, "expression nests too deeply", "split it into variables")
    return node

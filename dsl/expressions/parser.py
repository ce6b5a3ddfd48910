"""Parsing expression text into ``ExprNode`` trees with the lark grammar ``dsl/expr.lark``.

The LALR parser calls the transformer as it reduces (no intermediate parse tree), which keeps
parsing cheap enough to compile flows of thousands of expressions. Positions are offset so
that diagnostics point into the flow file where the expression sits: an expression starting
at ``line``/``col`` of the file reports its first character there.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from pathlib import Path

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


# Where the expression being parsed starts in its file; a context variable so that parsing
# stays safe from several threads or tasks with one shared parser.
_OFFSET: ContextVar[tuple[int, int]] = ContextVar("expr_offset", default=(1, 1))


def _at(line: int, col: int) -> tuple[int, int]:
    base_line, base_col = _OFFSET.get()
    if line == 1:
        return base_line, base_col + col - 1
    return base_line + line - 1, col


def _token_pos(tok: Token) -> dict[str, int]:
    line, col = _at(tok.line, tok.column)
    end_line, end_col = _at(tok.end_line, tok.end_column)
    return {"line": line, "col": col, "end_line": end_line, "end_col": end_col}


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
    return _LiteralError(code, message, hint, *_at(tok.line, tok.column))


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
                re.compile(right.value)
            except re.error as exc:
                raise _LiteralError(
                    "VF110",
                    f"invalid regular expression {right.value!r}: {exc.msg}",
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


def parse_expr(src: str, *, file: str = "<expr>", line: int = 1, col: int = 1) -> ExprNode:
    """Parse expression text.

    Args:
        src: the expression.
        file, line, col: where ``src`` starts in the flow file (diagnostics point there).

    Raises:
        ExprSyntaxError: with ``.diagnostic`` (VF110 syntax, VF111 duration, VF112 date/time).
    """

    def fail(code: str, at_line: int, at_col: int, message: str, hint: str) -> ExprSyntaxError:
        return ExprSyntaxError(Diagnostic(file, at_line, at_col, code, message, hint))

    if not src.strip():
        raise fail("VF110", line, col, "empty expression", "write a condition or a value")
    if len(src) > MAX_LENGTH:
        raise fail("VF110", line, col, "expression is too long", "split it into variables")
    token = _OFFSET.set((line, col))
    try:
        node = _parser.parse(src)
    except (_LiteralError, VisitError) as exc:
        err = exc.orig_exc if isinstance(exc, VisitError) else exc
        if not isinstance(err, _LiteralError):
            raise
        raise fail(err.code, err.line, err.col, err.message, err.hint) from None
    except UnexpectedCharacters as exc:
        at = _at(exc.line, exc.column)
        char = src[exc.pos_in_stream] if exc.pos_in_stream < len(src) else ""
        hint = _expected_hint(set(exc.allowed or ()))
        raise fail("VF110", *at, f"unexpected character {char!r}", hint) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            end = src.rstrip()
            last_line = end.count("\n") + 1
            at = _at(last_line, len(end) - (end.rfind("\n") + 1) + 1)
            message = "expression ends too early"
        else:
            at = _at(tok.line, tok.column)
            message = f"unexpected {str(tok)!r}"
        hint = _expected_hint(set(exc.accepts or exc.expected))
        raise fail("VF110", *at, message, hint) from None
    except UnexpectedInput as exc:  # any other lark parse failure
        at = _at(getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1)
        raise fail("VF110", *at, "invalid expression", str(exc).splitlines()[0]) from None
    finally:
        _OFFSET.reset(token)
    if _too_deep(node):
        raise fail("VF110", line, col, "expression nests too deeply", "split it into variables")
    return node

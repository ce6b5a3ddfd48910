"""Parsing expression text into ``ExprNode`` trees with the lark grammar ``dsl/expr.lark``.

Positions are offset so that diagnostics point into the flow file where the expression sits:
an expression starting at ``line``/``col`` of the file reports its first character there.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from dsl.diagnostics import Diagnostic
from dsl.expressions.nodes import Binary, Call, ExprNode, ListExpr, Literal, Name, Unary
from dsl.types import parse_duration

GRAMMAR = Path(__file__).resolve().parent.parent / "expr.lark"

_parser = Lark(
    GRAMMAR.read_text(encoding="utf-8"),
    parser="lalr",
    propagate_positions=True,
    maybe_placeholders=True,
)


MAX_LENGTH = 10_000
"""Longest expression text accepted (characters)."""


MAX_DEPTH = 100
"""Deepest nesting of operators accepted, so checking and evaluation never exhaust the stack."""


def _depth(tree: Tree) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in node.children if isinstance(c, Tree))
    return deepest


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


_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _unquote(token: str) -> str:
    # Unknown escapes keep their backslash, so regexes such as '\d+' read as written.
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(0)), token[1:-1])


class _ToNodes(Transformer):
    """lark tree → ``ExprNode``, offsetting positions by where the expression sits."""

    def __init__(self, line: int, col: int):
        super().__init__()
        self._line, self._col = line, col

    def _at(self, line: int, col: int) -> tuple[int, int]:
        if line == 1:
            return self._line, self._col + col - 1
        return self._line + line - 1, col

    def _pos(self, meta_or_token) -> dict[str, int]:
        if isinstance(meta_or_token, Token):
            line, col = meta_or_token.line, meta_or_token.column
            end_line, end_col = meta_or_token.end_line, meta_or_token.end_column
        else:
            line, col = meta_or_token.line, meta_or_token.column
            end_line, end_col = meta_or_token.end_line, meta_or_token.end_column
        line, col = self._at(line, col)
        end_line, end_col = self._at(end_line, end_col)
        return {"line": line, "col": col, "end_line": end_line, "end_col": end_col}

    def _fail(self, code: str, token: Token, message: str, hint: str) -> _LiteralError:
        line, col = self._at(token.line, token.column)
        return _LiteralError(code, message, hint, line, col)

    # literals
    def string(self, children):
        (tok,) = children
        return Literal(_unquote(tok), "str", **self._pos(tok))

    def int(self, children):
        (tok,) = children
        try:
            value = int(tok)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise self._fail("VF110", tok, "number is too long", "use a smaller number") from None
        return Literal(value, "int", **self._pos(tok))

    def float(self, children):
        (tok,) = children
        value = float(tok)
        if value == float("inf"):
            raise self._fail("VF110", tok, f"number {tok} is too large", "use a smaller number")
        return Literal(value, "float", **self._pos(tok))

    def duration(self, children):
        (tok,) = children
        hint = "write a number with a unit ms, s, m, h or d (e.g. 500ms, 30s, 15m, 2h, 1h30m)"
        try:
            value = parse_duration(tok)
        except (ValueError, OverflowError):
            raise self._fail("VF111", tok, f"invalid duration {str(tok)!r}", hint) from None
        if value % timedelta(milliseconds=1):
            raise self._fail(
                "VF111", tok, f"duration {str(tok)!r} is finer than a millisecond", hint
            )
        return Literal(value, "duration", **self._pos(tok))

    def date(self, children):
        (tok,) = children
        try:
            value = date.fromisoformat(tok)
        except ValueError as exc:
            raise self._fail(
                "VF112", tok, f"invalid date {str(tok)!r}: {exc}", "write a date as YYYY-MM-DD"
            ) from None
        return Literal(value, "date", **self._pos(tok))

    def time(self, children):
        (tok,) = children
        try:
            value = _read_time(tok)
        except ValueError as exc:
            raise self._fail(
                "VF112", tok, f"invalid time {str(tok)!r}: {exc}", "write a time as HH:MM (00-23)"
            ) from None
        return Literal(value, "time", **self._pos(tok))

    def datetime(self, children):
        (tok,) = children
        day, _, clock = str(tok).partition("T")
        try:
            value = datetime.combine(date.fromisoformat(day), _read_time(clock))
        except ValueError as exc:
            raise self._fail(
                "VF112",
                tok,
                f"invalid date and time {str(tok)!r}: {exc}",
                "write a date and time as YYYY-MM-DDTHH:MM",
            ) from None
        return Literal(value, "datetime", **self._pos(tok))

    @v_args(meta=True)
    def true(self, meta, _children):
        return Literal(True, "bool", **self._pos(meta))

    @v_args(meta=True)
    def false(self, meta, _children):
        return Literal(False, "bool", **self._pos(meta))

    @v_args(meta=True)
    def null(self, meta, _children):
        return Literal(None, "null", **self._pos(meta))

    # structure
    @v_args(meta=True)
    def dotted(self, meta, children):
        return Name(tuple(str(t) for t in children), **self._pos(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        func, *args = children
        return Call(str(func), tuple(a for a in args if a is not None), **self._pos(meta))

    @v_args(meta=True)
    def list(self, meta, children):
        return ListExpr(tuple(a for a in children if a is not None), **self._pos(meta))

    @v_args(meta=True)
    def not_op(self, meta, children):
        return Unary("not", children[0], **self._pos(meta))

    @v_args(meta=True)
    def neg(self, meta, children):
        return Unary("-", children[0], **self._pos(meta))

    @v_args(meta=True)
    def matches_op(self, meta, children):
        left, right = children
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
        return Binary("matches", left, right, **self._pos(meta))


def _binary(op: str):
    @v_args(meta=True)
    def build(self, meta, children):
        return Binary(op, children[0], children[1], **self._pos(meta))

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


def _read_time(text: str) -> time:
    if len(text) >= 2 and text[1] == ":":
        text = "0" + text
    return time.fromisoformat(text)


def parse_expr(src: str, *, file: str = "<expr>", line: int = 1, col: int = 1) -> ExprNode:
    """Parse expression text.

    Args:
        src: the expression.
        file, line, col: where ``src`` starts in the flow file (diagnostics point there).

    Raises:
        ExprSyntaxError: with ``.diagnostic`` (VF110 syntax, VF111 duration, VF112 date/time).
    """
    to_nodes = _ToNodes(line, col)

    def fail(code: str, at_line: int, at_col: int, message: str, hint: str) -> ExprSyntaxError:
        return ExprSyntaxError(Diagnostic(file, at_line, at_col, code, message, hint))

    if not src.strip():
        raise fail("VF110", line, col, "empty expression", "write a condition or a value")
    if len(src) > MAX_LENGTH:
        raise fail("VF110", line, col, "expression is too long", "split it into variables")
    try:
        tree = _parser.parse(src)
        if _depth(tree) > MAX_DEPTH:
            raise fail("VF110", line, col, "expression nests too deeply", "split it")
        return to_nodes.transform(tree)
    except VisitError as exc:
        err = exc.orig_exc
        if isinstance(err, _LiteralError):
            raise fail(err.code, err.line, err.col, err.message, err.hint) from None
        raise
    except UnexpectedCharacters as exc:
        at = to_nodes._at(exc.line, exc.column)
        char = src[exc.pos_in_stream] if exc.pos_in_stream < len(src) else ""
        raise fail(
            "VF110", *at, f"unexpected character {char!r}", _expected_hint(set(exc.allowed or ()))
        ) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            end = src.rstrip()
            last = end.count("\n") + 1
            last_col = len(end) - (end.rfind("\n") + 1) + 1
            at = to_nodes._at(last, last_col)
            message = "expression ends too early"
        else:
            at = to_nodes._at(tok.line, tok.column)
            message = f"unexpected {str(tok)!r}"
        raise fail(
            "VF110", *at, message, _expected_hint(set(exc.accepts or exc.expected))
        ) from None
    except RecursionError:
        raise fail("VF110", line, col, "expression nests too deeply", "split it") from None
    except UnexpectedInput as exc:  # any other lark parse failure
        at = to_nodes._at(getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1)
        raise fail("VF110", *at, "invalid expression", str(exc).splitlines()[0]) from None

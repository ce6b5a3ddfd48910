"""The expression tree: frozen nodes with source positions, canonical text and names read.

Positions (``line``, ``col``, ``end_line``, ``end_col``; 1-based, already offset into the flow
file) are excluded from equality, so two trees are equal when they mean the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ExprNode:
    line: int = field(default=1, compare=False, kw_only=True)
    col: int = field(default=1, compare=False, kw_only=True)
    end_line: int | None = field(default=None, compare=False, kw_only=True, repr=False)
    end_col: int | None = field(default=None, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class Literal(ExprNode):
    """A constant; ``kind`` is ``str``, ``int``, ``float``, ``bool``, ``null``, ``duration``,
    ``date``, ``time`` or ``datetime`` (naive: read in the time zone of ``now`` at run time)."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Name(ExprNode):
    """A dotted name read from the environment: ``contact.first_name``."""

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Unary(ExprNode):
    op: str
    """``not`` or ``-``."""
    operand: ExprNode


@dataclass(frozen=True)
class Binary(ExprNode):
    op: str
    """``or and == != < <= > >= in not_in contains matches + - * / %``."""
    left: ExprNode
    right: ExprNode


@dataclass(frozen=True)
class Call(ExprNode):
    func: str
    args: tuple[ExprNode, ...]


@dataclass(frozen=True)
class ListExpr(ExprNode):
    items: tuple[ExprNode, ...]


COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "matches"})

_PREC = {"or": 1, "and": 2, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_PREC.update({op: 4 for op in COMPARISONS})
_NOT_PREC, _NEG_PREC, _ATOM_PREC = 3, 7, 8
_SPELLING = {"not_in": "not in"}


def precedence(node: ExprNode) -> int:
    if isinstance(node, Binary):
        return _PREC[node.op]
    if isinstance(node, Unary):
        return _NOT_PREC if node.op == "not" else _NEG_PREC
    return _ATOM_PREC


def canonical(node: ExprNode) -> str:
    """Canonical source: single spaces around operators, single-quoted strings, parentheses
    only where precedence needs them. ``parse_expr(canonical(n)) == n``."""
    if isinstance(node, Literal):
        return literal_text(node.value, node.kind)
    if isinstance(node, Name):
        return node.dotted
    if isinstance(node, Call):
        return f"{node.func}(" + ", ".join(canonical(a) for a in node.args) + ")"
    if isinstance(node, ListExpr):
        return "[" + ", ".join(canonical(a) for a in node.items) + "]"
    if isinstance(node, Unary):
        inner = canonical(node.operand)
        if precedence(node.operand) < precedence(node):
            inner = f"({inner})"
        return f"not {inner}" if node.op == "not" else f"-{inner}"
    if isinstance(node, Binary):
        p = _PREC[node.op]
        left, right = canonical(node.left), canonical(node.right)
        # Comparisons do not chain, so both sides of one need parentheses at equal precedence.
        if precedence(node.left) < p or (p == 4 and precedence(node.left) == p):
            left = f"({left})"
        if precedence(node.right) <= p:
            right = f"({right})"
        return f"{left} {_SPELLING.get(node.op, node.op)} {right}"
    raise TypeError(f"not an expression node: {node!r}")


_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def literal_text(value: Any, kind: str) -> str:
    """Source text of a constant of the given kind."""
    if kind == "str":
        return "'" + "".join(_ESCAPES.get(c, c) for c in value) + "'"
    if kind == "bool":
        return "true" if value else "false"
    if kind == "null":
        return "null"
    if kind == "int":
        return str(value)
    if kind == "float":
        if not math.isfinite(value):
            raise ValueError(f"float literal must be finite, got {value!r}")
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    if kind == "duration":
        return duration_text(value)
    if kind == "date":
        return value.isoformat()
    if kind == "time":
        return time_text(value)
    if kind == "datetime":
        return value.date().isoformat() + "T" + time_text(value.time())
    raise ValueError(f"unknown literal kind {kind!r}")


def duration_text(value: timedelta) -> str:
    """``1h30m``-style text of a whole number of milliseconds (``0s`` for zero)."""
    ms = value // timedelta(milliseconds=1)
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    out = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        q, ms = divmod(ms, size)
        if q:
            out.append(f"{q}{unit}")
    if ms:
        out.append(f"{ms}ms")
    return sign + ("".join(out) or "0s")


def time_text(value: time) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}"
    return text + f":{value.second:02d}" if value.second else text


def walk(node: ExprNode) -> Iterator[ExprNode]:
    """Every node of the tree, parents before children, left to right."""
    yield node
    if isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for a in node.args:
            yield from walk(a)
    elif isinstance(node, ListExpr):
        for a in node.items:
            yield from walk(a)


def names(node: ExprNode) -> list[tuple[str, int, int]]:
    """The dotted names an expression reads, in source order, with line and column."""
    return [(n.dotted, n.line, n.col) for n in walk(node) if isinstance(n, Name)]


__all__ = [
    "Binary",
    "Call",
    "ExprNode",
    "ListExpr",
    "Literal",
    "Name",
    "Unary",
    "canonical",
    "names",
    "walk",
]

r"""The expression language of voxflow flows: parse, check, print canonically, compile.

Used for ``when`` conditions, slot validations (the candidate is ``value``), ``set`` values
and tool arguments. Grammar: ``dsl/expr.lark``; implementation: ``dsl/expressions/``.

Language (loosest binding first)::

    a or b            a and b            not a                 -- bools only, short-circuit
    a == b   a != b   a < b   a <= b   a > b   a >= b         -- comparisons do not chain
    x in [1, 2]       x not in list      list contains x      -- or substring of text
    text matches '^\d{4}$'                                    -- re.search; literal checked
    a + b   a - b     a * b   a / b   a % b                   -- numbers, text/list +,
                                                               -- date(time) +- duration
    -a      (a)       f(x, y)           [a, b]      contact.first_name

Literals: ``'text'`` or ``"text"`` (escapes ``\n \t \' \" \\``; other backslashes kept, for
regexes), ``42``, ``2.5``, ``true``, ``false``, ``null``, durations ``500ms 30s 15m 2h 1d 1h30m``,
dates ``2026-11-22``, times ``09:30``, datetimes ``2026-11-22T09:30`` (read in the zone of
``now``). Functions: see ``dsl.expressions.functions`` (len, lower, upper, trim, abs, min, max,
round, int, float, str, digits_only, starts_with, ends_with, weekday, date_of, time_of,
hour_of, minute_of, now, today, coalesce). Evaluation semantics: ``dsl.expressions.compiler``.

API:
- ``parse_expr(src, file=, line=, col=) -> ExprNode`` (``ExprSyntaxError``: VF110/111/112);
- ``check_expr(node, scope, file=, expect=) -> (VoxType, [Diagnostic])`` (VF301/303/304);
- ``canonical(node) -> str`` (the IR form; ``parse_expr(canonical(n)) == n``);
- ``compile_expr(src) -> fn(env)`` (closures, cached by text; ``ExprRuntimeError``);
- ``names(node) -> [(dotted, line, col)]``.
"""

from __future__ import annotations

from dsl.expressions.checker import check_expr
from dsl.expressions.compiler import Evaluator, compile_expr, compile_node
from dsl.expressions.functions import FUNCTIONS, ExprRuntimeError
from dsl.expressions.nodes import (
    Binary,
    Call,
    ExprNode,
    ListExpr,
    Literal,
    Name,
    Unary,
    canonical,
    names,
    walk,
)
from dsl.expressions.parser import ExprError, ExprSyntaxError, parse_expr

__all__ = [
    "FUNCTIONS",
    "Binary",
    "Call",
    "Evaluator",
    "ExprError",
    "ExprNode",
    "ExprRuntimeError",
    "ExprSyntaxError",
    "ListExpr",
    "Literal",
    "Name",
    "Unary",
    "canonical",
    "check_expr",
    "compile_expr",
    "compile_node",
    "names",
    "parse_expr",
    "walk",
]

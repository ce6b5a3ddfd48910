"""Compiling expressions to Python closures (never ``eval``/``exec``/``compile``).

``compile_expr(src)`` returns ``fn(env) -> value`` where ``env`` is a nested mapping such as
``{"contact": {...}, "vars": {...}, "slots": {...}, "value": ..., "now": aware datetime}``.

Semantics:
- a name whose value is absent (missing key, or a missing parent) is ``null``;
- ``and``/``or``/``not`` need bools (no truthiness) and short-circuit;
- ``==``/``!=`` never fail; ordering fails on values that do not order (e.g. null);
- ``x in y``: membership in a list, or substring when both are text; ``y contains x`` is the
  same with sides swapped; ``s matches p``: a search with the ``regex`` engine, whose
  timeout (``dsl.bounds.REGEX_SECONDS``) ends a pattern that backtracks catastrophically
  (anchor with ``^``/``$``);
- ``+ - * / %`` on numbers (money stays exact), text and lists concatenate with ``+``,
  dates and datetimes move by durations, ``/`` is true division;
- naive datetime literals are read in the time zone of ``now``.
- text, lists and integers are bounded as in templates (``dsl.bounds``).
Every evaluation problem raises ``ExprRuntimeError``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import regex

from dsl import bounds
from dsl.diagnostics import Diagnostic
from dsl.expressions.functions import FUNCTIONS, ExprRuntimeError, _kind, env_now
from dsl.expressions.nodes import (
    Binary,
    Call,
    ExprNode,
    ListExpr,
    Literal,
    Name,
    Unary,
    canonical,
)
from dsl.expressions.parser import ExprSyntaxError, parse_expr

Evaluator = Callable[[Mapping[str, Any]], Any]


@lru_cache(maxsize=4096)
def compile_expr(src: str) -> Evaluator:
    """Compile expression text (cached by text).

    Raises:
        ExprSyntaxError: the text does not parse, or calls an unknown function / with the
            wrong number of arguments (VF304). Type errors are ``check_expr``'s job.
    """
    return compile_node(parse_expr(src))


def compile_node(node: ExprNode) -> Evaluator:
    """Compile an already parsed tree."""
    return _guarded(_compile(node), canonical(node))


def _guarded(fn: Evaluator, text: str) -> Evaluator:
    """Whatever the environment holds, evaluation fails only with ``ExprRuntimeError``."""

    def evaluate(env: Mapping[str, Any]) -> Any:
        try:
            return fn(env)
        except ExprRuntimeError:
            raise
        except Exception as exc:  # e.g. env not a mapping, a value whose __eq__ raises
            raise ExprRuntimeError(
                f"cannot evaluate {text!r}: {type(exc).__name__}: {exc}"
            ) from exc

    return evaluate


def _compile(node: ExprNode) -> Evaluator:
    if isinstance(node, Literal):
        return _literal(node)
    if isinstance(node, Name):
        return _name(node.parts)
    if isinstance(node, ListExpr):
        items = [_compile(i) for i in node.items]
        if all(isinstance(i, Literal) and i.kind != "datetime" for i in node.items):
            const = [i.value for i in node.items]
            return lambda env: list(const)
        return lambda env: [f(env) for f in items]
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Unary):
        operand = _compile(node.operand)
        return _not(operand) if node.op == "not" else _neg(operand)
    if isinstance(node, Binary):
        return _binary(node)
    raise TypeError(f"not an expression node: {node!r}")


def _literal(node: Literal) -> Evaluator:
    value = node.value
    if node.kind == "datetime":
        return lambda env: value.replace(tzinfo=env_now(env).tzinfo)
    return lambda env: value


def _name(parts: tuple[str, ...]) -> Evaluator:
    dotted = ".".join(parts)

    def read(env: Mapping[str, Any]) -> Any:
        value: Any = env
        for i, part in enumerate(parts):
            if value is None:
                return None
            if not isinstance(value, Mapping):
                head = ".".join(parts[:i])
                raise ExprRuntimeError(
                    f"cannot read {dotted!r}: {head!r} is a {_kind(value)}, not a record"
                )
            value = value.get(part)
        return value

    if len(parts) == 1:
        (only,) = parts
        return lambda env: env.get(only)
    if len(parts) == 2:
        first, second = parts

        def read2(env: Mapping[str, Any]) -> Any:
            outer = env.get(first)
            if isinstance(outer, Mapping):
                return outer.get(second)
            return read(env)

        return read2
    return read


def _call(node: Call) -> Evaluator:
    fn = FUNCTIONS.get(node.func)
    n = len(node.args)
    if fn is None or n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
        what = (
            f"unknown function {node.func}()"
            if fn is None
            else f"{node.func}() takes {fn.arity()}, got {n}"
        )
        raise ExprSyntaxError(Diagnostic("<expr>", node.line, node.col, "VF304", what))
    args = [_compile(a) for a in node.args]
    impl = fn.impl
    if fn.needs_env:
        return lambda env: impl(env)

    def call(env: Mapping[str, Any]) -> Any:
        values = [a(env) for a in args]
        try:
            return impl(*values)
        except ExprRuntimeError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExprRuntimeError(f"{node.func}(): {exc}") from None

    return call


def _bool(value: Any, what: str) -> bool:
    if value is True or value is False:
        return value
    raise ExprRuntimeError(f"{what} needs a bool, got {_kind(value)} {value!r}")


def _not(operand: Evaluator) -> Evaluator:
    return lambda env: not _bool(operand(env), "'not'")


def _neg(operand: Evaluator) -> Evaluator:
    def neg(env):
        v = operand(env)
        if isinstance(v, int | float | Decimal | timedelta) and not isinstance(v, bool):
            return -v
        raise ExprRuntimeError(f"cannot negate {_kind(v)}")

    return neg


def _binary(node: Binary) -> Evaluator:
    op = node.op
    left, right = _compile(node.left), _compile(node.right)
    if op == "and":

        def and_(env):
            if _bool(left(env), "'and'"):
                return _bool(right(env), "'and'")
            return False

        return and_
    if op == "or":

        def or_(env):
            if _bool(left(env), "'or'"):
                return True
            return _bool(right(env), "'or'")

        return or_
    if op in ("==", "!="):
        negate = op == "!="

        def eq(env):
            a, b = left(env), right(env)
            if type(a) is not type(b):
                a, b = _align(a, b)
            return (a != b) if negate else (a == b)

        return eq
    if op in _ORDER:
        compare = _ORDER[op]

        def order(env):
            a, b = left(env), right(env)
            if type(a) is not type(b):
                a, b = _align(a, b)
            try:
                return compare(a, b)
            except TypeError:
                raise ExprRuntimeError(
                    f"cannot order {_kind(a)} and {_kind(b)} with {op!r}"
                ) from None

        return order
    if op in ("in", "not_in", "contains"):
        return _membership(node, left, right)
    if op == "matches":
        return _matches(node, left, right)
    return _arith(op, left, right)


_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


_NEVER = object()
"""Stands in for a value that equals nothing and orders with nothing."""


def _align(a: Any, b: Any) -> tuple[Any, Any]:
    """Make money and float comparable exactly; a bool is never a number."""
    if isinstance(a, Decimal) and isinstance(b, float):
        return a, Decimal(repr(b))
    if isinstance(b, Decimal) and isinstance(a, float):
        return Decimal(repr(a)), b
    if isinstance(a, bool) != isinstance(b, bool):
        return a, _NEVER
    return a, b


def _equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        a, b = _align(a, b)
    return a == b


def _membership(node: Binary, left: Evaluator, right: Evaluator) -> Evaluator:
    op = node.op
    swap = op == "contains"
    negate = op == "not_in"
    const: frozenset | None = None
    container_node = node.left if swap else node.right
    if isinstance(container_node, ListExpr) and all(
        isinstance(i, Literal) and i.kind in ("str", "int", "null") for i in container_node.items
    ):
        const = frozenset(i.value for i in container_node.items)

    if const is not None:
        item_fn = right if swap else left

        def in_const(env):
            item = item_fn(env)
            try:
                found = item in const and not isinstance(item, bool)
            except TypeError:
                found = False
            return found != negate

        return in_const

    def member(env):
        a, b = left(env), right(env)
        item, container = (b, a) if swap else (a, b)
        if isinstance(container, list | tuple):
            found = any(_equal(item, c) for c in container)
        elif isinstance(container, str):
            if not isinstance(item, str):
                raise ExprRuntimeError(f"text can only contain text, not {_kind(item)}")
            found = item in container
        else:
            spelled = "not in" if negate else op
            raise ExprRuntimeError(f"{spelled!r} needs a list or text, got {_kind(container)}")
        return found != negate

    return member


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> regex.Pattern[str]:
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise ExprRuntimeError(f"invalid regular expression {pattern!r}: {exc}") from None


def _search(pattern: regex.Pattern[str], text: str) -> bool:
    try:
        return pattern.search(text, timeout=bounds.REGEX_SECONDS) is not None
    except TimeoutError:
        raise ExprRuntimeError(
            f"the pattern {pattern.pattern!r} took longer than {bounds.REGEX_SECONDS} s on this"
            " text; simplify it (no nested repetition such as (a+)+)"
        ) from None


def _matches(node: Binary, left: Evaluator, right: Evaluator) -> Evaluator:
    fixed = None
    if isinstance(node.right, Literal) and node.right.kind == "str":
        fixed = _regex(node.right.value)

    def matches(env):
        text = left(env)
        if not isinstance(text, str):
            raise ExprRuntimeError(f"'matches' needs text, got {_kind(text)}")
        pattern = fixed
        if pattern is None:
            p = right(env)
            if not isinstance(p, str):
                raise ExprRuntimeError(f"'matches' needs a text pattern, got {_kind(p)}")
            pattern = _regex(p)
        return _search(pattern, text)

    return matches


_ARITH = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}
_SEQUENCE = (str, list, tuple)


def _arith(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    fn = _ARITH[op]

    def arith(env):
        a, b = left(env), right(env)
        if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
            raise ExprRuntimeError(f"cannot apply {op!r} to {_kind(a)} and {_kind(b)}")
        # Repetition ('ab' * 10**9) would let a flow exhaust memory.
        if op != "+" and (isinstance(a, _SEQUENCE) or isinstance(b, _SEQUENCE)):
            raise ExprRuntimeError(f"cannot apply {op!r} to {_kind(a)} and {_kind(b)}")
        if isinstance(a, Decimal) and isinstance(b, float):
            b = Decimal(repr(b))
        elif isinstance(b, Decimal) and isinstance(a, float):
            a = Decimal(repr(a))
        if (
            isinstance(a, datetime) != isinstance(b, datetime)
            and isinstance(a, date)
            and isinstance(b, date)
        ):
            raise ExprRuntimeError(f"cannot apply {op!r} to {_kind(a)} and {_kind(b)}")
        try:
            result = fn(a, b)
            if isinstance(result, int | str | list):
                bounds.check_size(result, "result")
            return result
        except bounds.BoundExceeded as exc:
            raise ExprRuntimeError(f"{op!r} exceeds a bound: {exc}") from None
        except ZeroDivisionError:
            raise ExprRuntimeError(f"division by zero in {op!r}") from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExprRuntimeError(
                f"cannot apply {op!r} to {_kind(a)} and {_kind(b)} ({exc})"
            ) from None

    return arith

"""Type checking of expressions against a ``Scope``: every problem at once.

Codes: VF301 undefined name (hint: the closest known name), VF303 type error (including a
condition that is not ``bool``), VF304 unknown function or wrong number of arguments. A
sub-expression that already failed has type ``any``, so one mistake is reported once.
"""

from __future__ import annotations

import difflib

from dsl.diagnostics import Diagnostic
from dsl.expressions.functions import FUNCTIONS, ArgTypeError
from dsl.expressions.nodes import (
    COMPARISONS,
    Binary,
    Call,
    ExprNode,
    ListExpr,
    Literal,
    Name,
    Unary,
    canonical,
)
from dsl.types import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    FLOAT,
    INT,
    MONEY,
    NULL,
    NUMERIC,
    STR,
    TIME,
    EnumType,
    ListType,
    Scope,
    VoxType,
    assignable,
    compatible,
    family,
    is_stringlike,
)

_LITERAL_TYPES = {
    "str": STR,
    "int": INT,
    "float": FLOAT,
    "bool": BOOL,
    "null": NULL,
    "duration": DURATION,
    "date": DATE,
    "time": TIME,
    "datetime": DATETIME,
}
_ORDERED = frozenset({"number", "string", "date", "time", "datetime", "duration"})
_SPELL = {"not_in": "not in"}


def check_expr(
    node: ExprNode, scope: Scope, *, file: str = "<expr>", expect: VoxType | None = None
) -> tuple[VoxType, list[Diagnostic]]:
    """The type of ``node`` in ``scope`` and every problem found.

    Args:
        expect: the type the context requires (``BOOL`` for a condition); a mismatch is VF303.
    """
    checker = _Checker(scope, file)
    t = checker.visit(node)
    if expect is not None and not assignable(t, expect):
        what = "a condition" if expect == BOOL else f"a value of type {expect}"
        checker.report(
            node,
            "VF303",
            f"{canonical(node)!r} is {t}, but {what} is expected here",
            "compare it with something (e.g. == or >) to get a bool"
            if expect == BOOL
            else f"convert it to {expect}",
        )
    return t, checker.diagnostics


class _Checker:
    def __init__(self, scope: Scope, file: str):
        self.scope, self.file = scope, file
        self.diagnostics: list[Diagnostic] = []

    def report(self, node: ExprNode, code: str, message: str, hint: str = "") -> VoxType:
        self.diagnostics.append(
            Diagnostic(
                self.file,
                node.line,
                node.col,
                code,
                message,
                hint,
                end_line=node.end_line,
                end_col=node.end_col,
            )
        )
        return ANY

    def visit(self, node: ExprNode) -> VoxType:
        if isinstance(node, Literal):
            return _LITERAL_TYPES[node.kind]
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, ListExpr):
            return self.list(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        raise TypeError(f"not an expression node: {node!r}")

    def name(self, node: Name) -> VoxType:
        t = self.scope.lookup(node.dotted)
        if t is not None:
            return t
        close = self.scope.suggest(node.dotted)
        hint = f"did you mean {close!r}?" if close else "declare it in the context or a variable"
        return self.report(node, "VF301", f"{node.dotted!r} is not defined", hint)

    def list(self, node: ListExpr) -> VoxType:
        types = [self.visit(i) for i in node.items]
        known = [t for t in types if t not in (ANY, NULL)]
        for item, t in zip(node.items, types, strict=True):
            if known and t not in (ANY, NULL) and not compatible(known[0], t):
                self.report(item, "VF303", f"list mixes {known[0]} and {t}", "use one type")
                return ListType(ANY)
        if known and all(t in NUMERIC for t in known):
            return ListType(MONEY if MONEY in known else FLOAT if FLOAT in known else INT)
        return ListType(known[0] if known else ANY)

    def call(self, node: Call) -> VoxType:
        args = [self.visit(a) for a in node.args]
        fn = FUNCTIONS.get(node.func)
        if fn is None:
            close = difflib.get_close_matches(node.func, list(FUNCTIONS), n=1)
            hint = f"did you mean {close[0]}()?" if close else "known: " + ", ".join(FUNCTIONS)
            return self.report(node, "VF304", f"unknown function {node.func}()", hint)
        n = len(args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            return self.report(
                node,
                "VF304",
                f"{node.func}() takes {fn.arity()}, got {n}",
                f"call it as documented in dsl.expressions.functions ({fn.arity()})",
            )
        try:
            return fn.result(args)
        except ArgTypeError as exc:
            return self.report(node, "VF303", f"{node.func}(): {exc}", "convert the argument")

    def unary(self, node: Unary) -> VoxType:
        t = self.visit(node.operand)
        if node.op == "not":
            self.need_bool(node.operand, t, "not")
            return BOOL
        if t == ANY or t in NUMERIC or t == DURATION:
            return t
        return self.report(node, "VF303", f"cannot negate {t}", "negate a number or a duration")

    def need_bool(self, node: ExprNode, t: VoxType, op: str) -> None:
        if t not in (BOOL, ANY):
            self.report(
                node,
                "VF303",
                f"{op!r} needs bool operands, {canonical(node)!r} is {t}",
                "compare the value (e.g. x != null, len(x) > 0) to get a bool",
            )

    def binary(self, node: Binary) -> VoxType:
        lt, rt = self.visit(node.left), self.visit(node.right)
        op = node.op
        if op in ("and", "or"):
            self.need_bool(node.left, lt, op)
            self.need_bool(node.right, rt, op)
            return BOOL
        if op in COMPARISONS:
            self.comparison(node, lt, rt)
            return BOOL
        if ANY in (lt, rt):
            return ANY
        result = _arith(op, lt, rt)
        if result is None:
            return self.report(
                node,
                "VF303",
                f"cannot apply {op!r} to {lt} and {rt}",
                "numbers combine with numbers, dates and datetimes with durations",
            )
        return result

    def comparison(self, node: Binary, lt: VoxType, rt: VoxType) -> None:
        op = node.op
        spelled = _SPELL.get(op, op)
        if ANY in (lt, rt):
            return
        bad = ""
        if op in ("==", "!="):
            if not compatible(lt, rt):
                bad = f"cannot compare {lt} with {rt}"
            else:
                self.enum_literal(node.left, lt, node.right)
                self.enum_literal(node.right, rt, node.left)
        elif op in ("<", "<=", ">", ">="):
            if NULL in (lt, rt) or not compatible(lt, rt) or family(lt) not in _ORDERED:
                bad = f"cannot order {lt} and {rt} with {op!r}"
        elif op in ("in", "not_in", "contains"):
            item, container = (lt, rt) if op != "contains" else (rt, lt)
            if isinstance(container, ListType):
                if not compatible(item, container.item):
                    bad = f"{spelled!r}: a {item} is never in a {container}"
            elif is_stringlike(container):
                if not (is_stringlike(item) or item == NULL):
                    bad = f"{spelled!r}: text can only contain text, not {item}"
            else:
                bad = f"{spelled!r} needs a list or text, got {container}"
        elif op == "matches":
            if not is_stringlike(lt):
                bad = f"'matches' needs text on the left, got {lt}"
            elif not is_stringlike(rt):
                bad = f"'matches' needs a pattern (text) on the right, got {rt}"
        if bad:
            self.report(node, "VF303", bad, "compare values of the same kind")

    def enum_literal(self, side: ExprNode, t: VoxType, other: ExprNode) -> None:
        if isinstance(t, EnumType) and isinstance(other, Literal) and other.kind == "str":
            if other.value not in t.values:
                self.report(
                    other,
                    "VF303",
                    f"{other.value!r} is not a value of {t}",
                    "use one of: " + ", ".join(t.values),
                )


def _arith(op: str, lt: VoxType, rt: VoxType) -> VoxType | None:
    if lt == NULL or rt == NULL:
        return None
    if lt in NUMERIC and rt in NUMERIC:
        if op == "/" and MONEY not in (lt, rt):
            return FLOAT
        if MONEY in (lt, rt):
            return MONEY
        return FLOAT if FLOAT in (lt, rt) else INT
    pair = (lt, rt)
    if op == "+":
        if is_stringlike(lt) and is_stringlike(rt):
            return STR
        if isinstance(lt, ListType) and isinstance(rt, ListType) and compatible(lt.item, rt.item):
            return lt
        if pair in ((DATE, DURATION), (DATETIME, DURATION), (DURATION, DURATION)):
            return lt
        if pair in ((DURATION, DATE), (DURATION, DATETIME)):
            return rt
    if op == "-":
        if pair in ((DATE, DURATION), (DATETIME, DURATION), (DURATION, DURATION)):
            return lt
        if pair in ((DATE, DATE), (DATETIME, DATETIME)):
            return DURATION
    if op == "*":
        if (lt == DURATION and rt in (INT, FLOAT)) or (rt == DURATION and lt in (INT, FLOAT)):
            return DURATION
    if op == "/":
        if lt == DURATION and rt in (INT, FLOAT):
            return DURATION
        if pair == (DURATION, DURATION):
            return FLOAT
    if op == "%" and pair == (DURATION, DURATION):
        return DURATION
    return None

"""The expression language of voxflow flows: parse, check, print canonically, compile.

Grammar: ``dsl/expr.lark``. Implementation: ``dsl/expressions/`` (nodes, parser, checker,
functions, compiler). This module is the public surface; see ``dsl.expressions.compiler`` for
evaluation semantics and ``dsl.expressions.functions`` for the built-in functions.
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

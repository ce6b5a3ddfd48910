"""Rules about tool calls: every ``call`` checked against the tool's declared signature.

A built-in tool is declared in ``dsl.builtins``, an HTTP tool in the flow file; both are checked
the same way: no unknown argument (VF306), every required argument given (VF307), and each
argument's type fits the parameter's (VF308). What a call's ``into`` binds is typed by the
tool's result fields (``dsl.rules.names.flow_scope``), so ``order.stauts`` is an undefined name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from dsl import ir
from dsl.builtins import BUILTINS
from dsl.diagnostics import Diagnostic
from dsl.expr import ExprSyntaxError, check_expr, parse_expr
from dsl.rules.context import RuleContext
from dsl.types import ANY, DATETIME, VoxType, assignable, is_stringlike, parse_type

_PARSED_FROM_TEXT = frozenset(
    {"date", "time", "datetime", "duration", "tz", "phone", "email", "money", "digits"}
)
"""Parameter types a tool also accepts as text (read at run time, as a model's text is)."""


def signature(agent: ir.Agent, tool: str) -> tuple[ir.Field, ...] | None:
    """The declared parameters of ``tool`` (built-in, HTTP or a sub-flow), or ``None`` if it
    is unknown."""
    for f in agent.subflows:
        if f.name == tool:
            return f.params
    for t in agent.tools:
        if isinstance(t, ir.HttpTool) and t.name == tool:
            return t.params
    builtin = BUILTINS.get(tool)
    return builtin.params if builtin is not None else None


def result_fields(agent: ir.Agent, tool: str) -> tuple[tuple[str, str], ...] | None:
    """(field, type name) of what ``tool`` returns, or ``None`` when its shape is open."""
    for f in agent.subflows:
        if f.name == tool:
            return tuple((r.name, r.type) for r in f.results)
    for t in agent.tools:
        if isinstance(t, ir.HttpTool) and t.name == tool:
            return tuple((name, "any") for name, _ in t.response) or None
    builtin = BUILTINS.get(tool)
    return tuple((f.name, f.type) for f in builtin.result) if builtin is not None else None


def _type(name: str) -> VoxType:
    try:
        return parse_type(name)
    except ValueError:
        return ANY


def fits(arg: VoxType, param: VoxType) -> bool:
    """Whether an argument of type ``arg`` may be passed where ``param`` is declared."""
    if assignable(arg, param):
        return True
    if param.kind in _PARSED_FROM_TEXT and is_stringlike(arg):
        return True
    return param == DATETIME and arg.kind == "date"


def call_arguments(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF306/VF307/VF308: a call's arguments against the tool's declared parameters."""
    from dsl.rules.names import scope_at

    scopes: dict = {}
    for path, action in ctx.actions():
        if isinstance(action, ir.SubFlowCall):
            tool = action.flow
        elif isinstance(action, ir.CallAction):
            tool = action.tool
        else:
            continue
        params = signature(ctx.agent, tool)
        if params is None:
            continue  # VF402 reports the unknown tool
        by_name = {p.name: p for p in params}
        given = {name for name, _ in action.args}
        for name, value in action.args:
            pos = ctx.at(path + ("arg", name), path)
            param = by_name.get(name)
            if param is None:
                close = difflib.get_close_matches(name, list(by_name), n=1)
                known = ", ".join(by_name) or "none"
                yield ctx.error(
                    pos,
                    "VF306",
                    f"{tool} has no parameter {name!r}",
                    f"did you mean {close[0]!r}?" if close else f"its parameters: {known}",
                )
                continue
            scope = scope_at(ctx.agent, path, scopes)
            try:
                node = parse_expr(value.src)
            except ExprSyntaxError:
                continue  # reported where the expression was read
            arg_type, _ = check_expr(node, scope)
            want = _type(param.type)
            if not fits(arg_type, want):
                yield ctx.error(
                    pos,
                    "VF308",
                    f"argument {name!r} of {tool} is {arg_type}, but the parameter is {param.type}",
                    f"pass a {param.type} value, or convert it (see docs/language.md, functions)",
                )
        missing = [p.name for p in params if p.required and p.name not in given]
        if missing:
            yield ctx.error(
                ctx.at(path),
                "VF307",
                f"{tool} needs {', '.join(repr(m) for m in missing)}",
                f"add {', '.join(f'{m} = ...' for m in missing)} to the call",
            )

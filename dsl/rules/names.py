"""Names and types inside expressions and templates (VF3xx, produced by dsl.expr/templates).

The scope a flow may read: ``contact.<field>`` and ``campaign.<field>`` from the context,
``vars.<name>`` (declared variables), ``slots.<name>`` (every collected slot and intent
parameter), the name bound by each tool call's ``into`` (any shape), and ``now``. A slot's
validation and invalid message also read ``value``; an HTTP tool's url, headers and body read
the tool's params by name and ``env.<NAME>`` (secrets, resolved at call time).
"""

from __future__ import annotations

from collections.abc import Iterator

from jinja2 import TemplateSyntaxError

from dsl import ir
from dsl.diagnostics import Diagnostic
from dsl.expr import ExprSyntaxError, check_expr, parse_expr
from dsl.rules.context import RuleContext
from dsl.rules.tools import result_fields
from dsl.templates import check_template, template_env
from dsl.types import (
    ANY,
    BOOL,
    DATETIME,
    STR,
    RecordType,
    Scope,
    VoxType,
    assignable,
    parse_type,
)


def _type(name: str) -> VoxType:
    try:
        return parse_type(name)
    except ValueError:
        return ANY


def flow_scope(agent: ir.Agent, subflow: str | None = None) -> Scope:
    """The names every expression and template of ``agent`` may read, with their types.

    With ``subflow``, the names inside that sub-flow: its ``params``, its own slots, the
    results of its calls and ``now``; everything else reaches it as a parameter.
    """
    names: dict[str, VoxType] = {"now": DATETIME}
    own = next((f for f in agent.subflows if f.name == subflow), None)
    if own is None:
        for f in agent.context:
            names[f"contact.{f.name}"] = _type(f.type)
        for f in agent.campaign_context:
            names[f"campaign.{f.name}"] = _type(f.type)
        for f in agent.variables:
            names[f"vars.{f.name}"] = _type(f.type)
        transitions = [*agent.global_transitions]
    else:
        for f in own.params:
            names[f"params.{f.name}"] = _type(f.type)
        transitions = []
    nodes = [n for n in agent.nodes if _owner(agent, n.name) == subflow]
    for node in nodes:
        for s in node.collect:
            names[f"slots.{s.name}"] = _type(s.type)
        transitions.extend(node.transitions)
    for t in transitions:
        if isinstance(t, ir.IntentTransition):
            for p in t.params:
                names[f"slots.{p.name}"] = _type(p.type)
    actions = [a for n in nodes for a in n.on_enter]
    actions += [a for t in transitions for a in t.actions]
    for a in actions:
        if isinstance(a, ir.CallAction) and a.into:
            names[a.into] = _result_type(agent, a.tool, names.get(a.into))
        elif isinstance(a, ir.SubFlowCall) and a.into:
            names[a.into] = _result_type(agent, a.flow, names.get(a.into))
    names.update(TOOL_ERROR_SCOPE)
    return Scope(names)


def _owner(agent: ir.Agent, node: str) -> str | None:
    return next((f.name for f in agent.subflows if f.owns(node)), None)


def scope_at(agent: ir.Agent, path: tuple, cache: dict) -> Scope:
    """The scope of the action or transition at source-map ``path`` (cached by sub-flow)."""
    subflow = _owner(agent, str(path[1])) if path and path[0] == "node" else None
    if subflow not in cache:
        cache[subflow] = flow_scope(agent, subflow)
    return cache[subflow]


TOOL_ERROR_SCOPE: dict[str, VoxType] = {"tool_error.tool": STR, "tool_error.message": STR}
"""The failed tool's name and its log-safe error, readable after a tool failed
(``on tool_error``); empty strings before any failure."""


def _result_type(agent: ir.Agent, tool: str, before: VoxType | None) -> VoxType:
    """The declared result fields of ``tool`` as a record (``any`` when the shape is open, or
    when two calls bind different tools to one name)."""
    fields = result_fields(agent, tool)
    if fields is None:
        return ANY
    record = RecordType(tuple((name, _type(t)) for name, t in fields))
    if before is not None and before != record:
        return ANY
    return record


def _extra(scope: Scope, extra: dict[str, str]) -> Scope:
    return scope.child(**{k: _type(v) for k, v in extra.items()}) if extra else scope


def expressions(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF301/VF303/VF304: undefined names, type errors, unknown functions in expressions."""
    scopes = {None: flow_scope(ctx.agent)}
    for site in ctx.source_map.exprs:
        if site.subflow not in scopes:
            scopes[site.subflow] = flow_scope(ctx.agent, site.subflow)
        _, diags = check_expr(
            site.node,
            _extra(scopes[site.subflow], site.extra),
            file=ctx.file,
            expect=BOOL if site.condition else None,
        )
        yield from diags


def templates(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF120/VF302/VF304: template syntax, undefined names, unknown filters."""
    scope = flow_scope(ctx.agent)
    tool_scope = scope.child(env=ANY)
    subflow_scopes: dict[str, Scope] = {}
    clean: set[tuple] = set()
    for site in ctx.source_map.templates:
        if "{" not in site.src:
            # Plain text: without {{ {% {# there is nothing for Jinja to parse or check
            # (dsl.templates uses the default delimiters and no line statements).
            continue
        shape = _shape(site.src)
        key = (shape, site.tool is not None, site.subflow, tuple(sorted(site.extra.items())))
        if shape is not None and key in clean:
            continue
        base = tool_scope if site.tool else scope
        if site.subflow is not None:
            if site.subflow not in subflow_scopes:
                subflow_scopes[site.subflow] = flow_scope(ctx.agent, site.subflow)
            base = subflow_scopes[site.subflow]
        diags = check_template(
            site.src, _extra(base, site.extra), file=ctx.file, line=site.pos.line, col=site.pos.col
        )
        if not diags and shape is not None:
            clean.add(key)
        yield from diags


def _shape(src: str) -> tuple | None:
    """A template's tokens with the literal text left out (``None`` if it does not lex).

    Jinja's parser makes literal text into data nodes that no check reads, so two templates
    of the same shape (``Step 1 for {{ contact.first_name }}`` and ``Step 2 for {{
    contact.first_name }}``) read the same names through the same filters and tags; once one
    is clean in a scope, so is the other, and lexing is a fraction of a full parse and check.
    Only clean results are reused: a problem is always reported from its own template, at its
    own line and column.
    """
    try:
        return tuple(
            (kind, "" if kind == "data" else value) for _, kind, value in template_env().lex(src)
        )
    except TemplateSyntaxError:
        return None


def set_targets(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF309: ``set`` names no declared variable or slot, or gives it a value of another type.

    ``set vars.<name>`` needs ``<name>`` declared (``var``); ``set slots.<name>`` a slot some
    node collects or an intent parameter; a bare name is a slot of the node or a variable.
    ``set slots.<name> = null`` clears the slot (its node asks for it again).
    """
    scopes: dict = {}
    variables = {f.name for f in ctx.agent.variables}
    for path, action in ctx.actions():
        if not isinstance(action, ir.SetAction):
            continue
        scope = scope_at(ctx.agent, path, scopes)
        name = action.name
        if name.startswith(("vars.", "slots.")):
            target = name
        elif name in variables:
            target = f"vars.{name}"
        elif f"slots.{name}" in scope and _in_node(ctx, path, name):
            target = f"slots.{name}"
        else:
            target = None
        want = scope.lookup(target) if target is not None and target.count(".") == 1 else None
        if want is None:
            close = scope.suggest(target or f"vars.{name}")
            yield ctx.error(
                ctx.at(path),
                "VF309",
                f"set {name}: no declared variable or slot of that name",
                f"did you mean {close!r}?"
                if close and close.startswith(("vars.", "slots."))
                else "declare it (var <name>: <type>) or collect it as a slot",
            )
            continue
        try:
            node = parse_expr(action.value.src)
        except ExprSyntaxError:
            continue
        got, _ = check_expr(node, scope)
        if not assignable(got, want):
            yield ctx.error(
                ctx.at(path),
                "VF309",
                f"set {name}: the value is {got}, but {target} is {want}",
                f"give it a value of type {want}, or null to clear it",
            )


def _in_node(ctx: RuleContext, path: tuple, slot: str) -> bool:
    """Whether the node an action belongs to collects ``slot`` (globals: any node)."""
    if path[0] != "node":
        return True
    node = next((n for n in ctx.agent.nodes if n.name == path[1]), None)
    return node is not None and any(s.name == slot for s in node.collect)

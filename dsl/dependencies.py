"""Which nodes read which slots: what a correction of a slot has to run again.

A node **reads** ``slots.<name>`` when its entry or its settling uses the value: its ``say``
lines and ``task``, its entry actions (``set`` values, tool and sub-flow arguments, ``say``,
``transfer``, ``return``), its slots' prompts and its ``when`` conditions. Re-entering such a
node says, calls and decides again with the corrected value. Transition actions, re-prompts
and ``invalid`` messages are left out: they run later and read the value they find then.

The engine (``runtime.engine.repair``) uses :func:`slot_readers` to go back after a
correction; the compiler's rules (``dsl.rules.repair``) use it to report what cannot work.
Computed from the IR alone, so both agree.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache

from jinja2 import TemplateSyntaxError, nodes

from dsl import ir
from dsl.expr import ExprSyntaxError, parse_expr
from dsl.expressions.nodes import names as expr_names
from dsl.templates import template_env

SLOTS = "slots."


@lru_cache(maxsize=4096)
def template_slots(src: str) -> frozenset[str]:
    """The slot names template ``src`` reads as ``slots.<name>`` (empty if it does not parse)."""
    if "slots" not in src:
        return frozenset()
    try:
        tree = template_env().parse(src)
    except TemplateSyntaxError:
        return frozenset()
    found = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        base = node.node
        if not (isinstance(base, nodes.Name) and base.name == "slots"):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.add(node.arg.value)
    return frozenset(found)


@lru_cache(maxsize=4096)
def expr_slots(src: str) -> frozenset[str]:
    """The slot names expression ``src`` reads as ``slots.<name>``."""
    if "slots" not in src:
        return frozenset()
    try:
        tree = parse_expr(src)
    except ExprSyntaxError:
        return frozenset()
    return frozenset(
        name.removeprefix(SLOTS).split(".")[0]
        for name, _, _ in expr_names(tree)
        if name.startswith(SLOTS)
    )


def _action_slots(a: object) -> Iterator[frozenset[str]]:
    if isinstance(a, ir.SetAction):
        yield expr_slots(a.value.src)
    elif isinstance(a, ir.CallAction | ir.SubFlowCall):
        for _, e in a.args:
            yield expr_slots(e.src)
    elif isinstance(a, ir.ReturnAction):
        for _, e in a.values:
            yield expr_slots(e.src)
    elif isinstance(a, ir.SayAction):
        yield template_slots(a.text.src)
    elif isinstance(a, ir.TransferAction):
        yield template_slots(a.to.src)


def node_reads(node: ir.Node) -> frozenset[str]:
    """The slots ``node``'s entry and settling read (see the module docstring)."""
    parts: list[frozenset[str]] = [template_slots(t.src) for t in node.say]
    if node.task is not None:
        parts.append(template_slots(node.task.src))
    for a in node.on_enter:
        parts.extend(_action_slots(a))
    for s in node.collect:
        if s.prompt is not None:
            parts.append(template_slots(s.prompt.src))
    for t in node.transitions:
        if isinstance(t, ir.WhenTransition):
            parts.append(expr_slots(t.condition.src))
    return frozenset().union(*parts)


_BY_AGENT: OrderedDict[int, tuple[ir.Agent, dict[str, frozenset[str]]]] = OrderedDict()
_CACHE_SIZE = 64
_LOCK = threading.Lock()


def slot_readers(agent: ir.Agent) -> dict[str, frozenset[str]]:
    """Node name -> the slots it reads, for every node of ``agent`` that reads one.

    Cached by identity: the compiler's rules and every call of one compiled flow share the
    answer, and a lookup never hashes the whole agent (milliseconds for a large flow)."""
    with _LOCK:
        hit = _BY_AGENT.get(id(agent))
        if hit is not None and hit[0] is agent:
            _BY_AGENT.move_to_end(id(agent))
            return hit[1]
    out = {}
    for node in agent.nodes:
        reads = node_reads(node)
        if reads:
            out[node.name] = reads
    with _LOCK:
        _BY_AGENT[id(agent)] = (agent, out)
        while len(_BY_AGENT) > _CACHE_SIZE:
            _BY_AGENT.popitem(last=False)
    return out


def node_sets(node: ir.Node) -> frozenset[str]:
    """The slots ``node``'s entry actions set (``set slots.<name> = ...``)."""
    collected = {s.name for s in node.collect}
    out = set()
    for a in node.on_enter:
        if isinstance(a, ir.SetAction):
            if a.name.startswith(SLOTS):
                out.add(a.name.removeprefix(SLOTS))
            elif not a.name.startswith("vars.") and a.name in collected:
                out.add(a.name)
    return frozenset(out)

"""What the model is told in each node: instructions and function tools, built once per node."""

from __future__ import annotations

from collections.abc import Mapping

from dsl.ir import Flow, IntentTransition, Node, NoMatchTransition
from runtime.engine.events import NO_MATCH, PROVIDE_SLOTS, ToolSpec
from runtime.tools.schema import fields_schema, slots_schema


def intent_spec(t: IntentTransition) -> ToolSpec:
    description = t.description
    if t.examples:
        description += " Examples: " + "; ".join(f'"{e}"' for e in t.examples)
    return ToolSpec(t.name, description, fields_schema(t.params))


NO_MATCH_SPEC = ToolSpec(
    NO_MATCH, "Call when the caller's answer fits none of the other functions of this step."
)


def node_tools(flow: Flow, node: Node, tools: Mapping[str, ToolSpec]) -> tuple[ToolSpec, ...]:
    """Intent transitions of ``node``, its tools, the global intents, and the pseudo-tools."""
    out: dict[str, ToolSpec] = {}
    for t in node.transitions:
        if isinstance(t, IntentTransition):
            out[t.name] = intent_spec(t)
    for name in node.tools:
        if name in tools:
            out.setdefault(name, tools[name])
    for t in flow.agent.global_transitions:
        if isinstance(t, IntentTransition):
            out.setdefault(t.name, intent_spec(t))
    if node.collect:
        out[PROVIDE_SLOTS] = ToolSpec(
            PROVIDE_SLOTS,
            "Call with every value the caller just gave for: "
            + ", ".join(s.name for s in node.collect),
            slots_schema(node.collect),
        )
    if any(isinstance(t, NoMatchTransition) for t in node.transitions) or any(
        isinstance(t, NoMatchTransition) for t in flow.agent.global_transitions
    ):
        out[NO_MATCH] = NO_MATCH_SPEC
    return tuple(out.values())

"""What the model is told in each node: instructions and function tools, built once per node."""

from __future__ import annotations

from collections.abc import Mapping

from dsl.ir import (
    ChitchatTransition,
    ClarifyTransition,
    Flow,
    IntentTransition,
    Node,
    NoMatchTransition,
)
from runtime.engine.events import CHITCHAT, CLARIFY, NO_MATCH, PROVIDE_SLOTS, ToolSpec
from runtime.engine.repair import CHITCHAT_ANSWERS, repair_handler
from runtime.tools.schema import fields_schema, slots_schema


def intent_spec(t: IntentTransition) -> ToolSpec:
    description = t.description
    if t.examples:
        description += " Examples: " + "; ".join(f'"{e}"' for e in t.examples)
    return ToolSpec(t.name, description, fields_schema(t.params))


NO_MATCH_SPEC = ToolSpec(
    NO_MATCH, "Call when the caller's answer fits none of the other functions of this step."
)
CLARIFY_SPEC = ToolSpec(
    CLARIFY,
    "Call instead of guessing when the caller's words could mean two of the other functions "
    "and you cannot tell which; the caller is asked, then call the one they choose.",
    {
        "type": "object",
        "properties": {
            "intents": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The two function names, the likelier first",
            },
            "arguments": {
                "type": "object",
                "description": "Function name -> the arguments the caller's words gave it",
            },
        },
        "required": ["intents"],
    },
)
CHITCHAT_SPEC = ToolSpec(
    CHITCHAT,
    "Call when the caller makes small talk unrelated to this step (how you are, whether you "
    "are a robot, the weather) instead of answering it yourself; the caller is answered and "
    "asked the question again.",
    {
        "type": "object",
        "properties": {"topic": {"type": "string", "enum": list(CHITCHAT_ANSWERS)}},
        "required": ["topic"],
    },
)


def repair_offered(flow: Flow, node: Node) -> tuple[bool, bool]:
    """Whether ``node`` offers ``clarify`` (two intents or more open, not turned off) and
    ``chitchat`` (the caller is asked something here, not turned off)."""
    intents = sum(isinstance(t, IntentTransition) for t in node.transitions)
    intents += sum(isinstance(t, IntentTransition) for t in flow.agent.global_transitions)
    clarify = repair_handler(flow.agent, node, ClarifyTransition)
    chitchat = repair_handler(flow.agent, node, ChitchatTransition)
    listens = bool(intents or node.collect or node.task is not None)
    return (
        intents >= 2 and not (clarify is not None and clarify[2].off),
        listens and not (chitchat is not None and chitchat[2].off),
    )


def node_tools(flow: Flow, node: Node, tools: Mapping[str, ToolSpec]) -> tuple[ToolSpec, ...]:
    """Intent transitions of ``node``, its tools, the global intents, and the pseudo-tools
    (``provide_slots``, ``no_match``, ``clarify``, ``chitchat``) where they apply."""
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
    clarify, chitchat = repair_offered(flow, node)
    if clarify:
        out[CLARIFY] = CLARIFY_SPEC
    if chitchat:
        out[CHITCHAT] = CHITCHAT_SPEC
    return tuple(out.values())

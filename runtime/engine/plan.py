"""What the engine derives from a compiled flow alone, built once per flow for all its calls.

The engine's lookup tables (nodes, sub-flows, HTTP tools, outcomes, intents by name), each
node's function tools with their JSON schemas, and the ``UpdateSession`` of every node whose
persona and task are plain text depend on the flow and nothing else, while a worker runs every
call of a flow on one ``Flow`` object (``activities/converse.py``). Built per call, they were
about 55 objects each live call held and every full garbage collection walked
(``bench/README.md``, round 5). Everything here is read-only (``MappingProxyType``, tuples,
frozensets, frozen dataclasses; a ``ToolSpec``'s schema is frozen by the spec itself), so no
call can change what another call sees: an attempt raises ``TypeError`` or
``FrozenInstanceError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dsl.ir import Flow, HttpTool, IntentTransition, Node, SubFlow, WhenTransition
from dsl.outcomes import BUILTIN_OUTCOMES, TELEPHONY_OUTCOMES
from runtime.engine import values as V
from runtime.engine.events import ToolSpec, UpdateSession
from runtime.engine.flowcache import FlowCache
from runtime.engine.instructions import node_instructions
from runtime.engine.specs import node_tools


@dataclass(frozen=True, eq=False)
class FlowPlan:
    """The per-flow tables of :class:`runtime.engine.Engine`, shared by every call of a flow.

    Holds parts of the flow (its nodes, transitions, tools), never the ``Flow`` object itself,
    so a flow nobody uses any more is freed with its plan (``FlowCache``).
    """

    tools: Mapping[str, ToolSpec]
    """Every tool a node may offer, by name (``runtime.tools.tool_specs``)."""
    nodes: Mapping[str, Node]
    subflows: Mapping[str, SubFlow]
    http: Mapping[str, HttpTool]
    outcomes: frozenset[str]
    """The agent's outcomes, the built-in and the telephony ones."""
    global_intents: Mapping[str, tuple[int, IntentTransition]]
    """Global intent transitions by name, with their index among the global transitions."""
    node_intents: Mapping[str, Mapping[str, tuple[int, IntentTransition]]]
    """Per node: its intent transitions by name, with their index among its transitions."""
    has_when: Mapping[str, bool]
    """Per node: whether it has a ``when`` transition."""
    global_when: bool
    node_tools: Mapping[str, tuple[ToolSpec, ...]]
    """Per node: the function tools the model is offered there (``specs.node_tools``)."""
    sessions: Mapping[str, UpdateSession]
    """The ``UpdateSession`` of each node whose persona and task are plain text (no
    template), before ``Known so far``: the same for every call. Other nodes render theirs
    per call."""


_PLANS: FlowCache[FlowPlan] = FlowCache()


def flow_plan(flow: Flow, tools: Mapping[str, ToolSpec]) -> FlowPlan:
    """The plan of ``flow`` offering ``tools``.

    Shared by every call of the same ``Flow`` object given the same read-only ``tools``
    (``runtime.tools.tool_specs`` keeps one per flow); ``tools`` as a plain ``dict``, which its
    owner may change, gets a plan of its own.
    """
    if not isinstance(tools, MappingProxyType):
        return build_plan(flow, tools)
    return _PLANS.get(flow, lambda: build_plan(flow, tools), tools)


def build_plan(flow: Flow, tools: Mapping[str, ToolSpec]) -> FlowPlan:
    """A new plan of ``flow`` (``flow_plan`` keeps one per flow)."""
    agent = flow.agent
    tools = MappingProxyType(dict(tools))
    specs = {n.name: node_tools(flow, n, tools) for n in agent.nodes}
    sessions = {}
    if V.is_plain(agent.persona.src):
        for n in agent.nodes:
            if n.task is None or V.is_plain(n.task.src):
                task = None if n.task is None else n.task.src
                text = node_instructions(flow, n, agent.persona.src, task)
                sessions[n.name] = UpdateSession(text, specs[n.name], agent.turn_in(n))
    return FlowPlan(
        tools=tools,
        nodes=MappingProxyType({n.name: n for n in agent.nodes}),
        subflows=MappingProxyType({f.name: f for f in agent.subflows}),
        http=MappingProxyType({t.name: t for t in agent.tools if isinstance(t, HttpTool)}),
        outcomes=frozenset(agent.outcomes) | BUILTIN_OUTCOMES | TELEPHONY_OUTCOMES,
        global_intents=MappingProxyType(_intents(agent.global_transitions)),
        node_intents=MappingProxyType(
            {n.name: MappingProxyType(_intents(n.transitions)) for n in agent.nodes}
        ),
        has_when=MappingProxyType(
            {n.name: any(isinstance(t, WhenTransition) for t in n.transitions) for n in agent.nodes}
        ),
        global_when=any(isinstance(t, WhenTransition) for t in agent.global_transitions),
        node_tools=MappingProxyType(specs),
        sessions=MappingProxyType(sessions),
    )


def _intents(transitions: tuple[object, ...]) -> dict[str, tuple[int, IntentTransition]]:
    return {t.name: (i, t) for i, t in enumerate(transitions) if isinstance(t, IntentTransition)}

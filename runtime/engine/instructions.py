"""What the model is told in the current node: persona, task, slots to collect, what is known.

A mixin of :class:`runtime.engine.engine.Engine`. The ``UpdateSession`` of a node whose persona
and task are plain text is built once per flow (``runtime.engine.plan``); ``Known so far`` is
appended on every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsl.ir import (
    Agent,
    Flow,
    IntentTransition,
    Node,
)
from runtime.engine.events import (
    PROVIDE_SLOTS,
    UpdateSession,
)
from runtime.engine.specs import repair_offered
from runtime.engine.state import EngineState

if TYPE_CHECKING:
    from runtime.engine.plan import FlowPlan


class Instructions:
    """Builds the ``UpdateSession`` of a node."""

    state: EngineState
    agent: Agent
    flow: Flow
    contact: dict[str, Any]
    _plan: FlowPlan

    def _session(self, node: Node) -> UpdateSession:
        base = self._plan.sessions.get(node.name)
        if base is None:  # a templated persona or task: rendered for this call
            persona = self._render_or_src(self.agent.persona.src)
            task = None if node.task is None else self._render_or_src(node.task.src)
            base = UpdateSession(
                node_instructions(self.flow, node, persona, task),
                self._plan.node_tools[node.name],
                self.agent.turn_in(node),
            )
        known = self._known()
        if not known:
            return base
        return UpdateSession(f"{base.instructions}\n\nKnown so far: {known}", base.tools, base.turn)

    def _known(self) -> str:
        """The declared contact columns, the slots and the variables, for the model's context."""
        if self._contact_known is None:
            self._contact_known = [
                f"contact.{f.name}={_plain(self.contact[f.name])}"
                for f in self.agent.context
                if self.contact.get(f.name) not in (None, "")
            ]
        items = self._contact_known
        s = self.state
        if s.slots or s.vars:
            items = items + [f"slots.{k}={_plain(v)}" for k, v in s.slots.items()]
            items += [f"vars.{k}={_plain(v)}" for k, v in s.vars.items() if v is not None]
        return "; ".join(items)


CLARIFY_LINE = (
    "When the caller's words could mean two of your functions and you cannot tell which, do "
    "not guess: call clarify with both names; the caller is asked and you then call the one "
    "they choose."
)
GUESS_LINE = "When unsure between two of your functions, call the likelier one; do not ask."
CHITCHAT_LINE = (
    "When the caller makes small talk (how you are, whether you are a robot, the weather), "
    "call chitchat with its topic instead of answering; the question is then asked again."
)


def node_instructions(flow: Flow, node: Node, persona: str, task: str | None) -> str:
    """The instructions of ``node`` with the persona and task as rendered (or as written)."""
    parts = [persona]
    parts.append(
        f"Current step: {node.name}." + (f" {node.description}" if node.description else "")
    )
    if task is not None:
        parts.append(task)
    if node.collect:
        parts.append(
            "Collect from the caller: "
            + ", ".join(f"{x.name} ({x.type})" for x in node.collect)
            + f". Report values with {PROVIDE_SLOTS}."
        )
    parts.extend(_repair_lines(flow, node))
    return "\n\n".join(parts)


def _repair_lines(flow: Flow, node: Node) -> list[str]:
    """How the model asks when unsure and meets small talk here (``runtime.engine.repair``)."""
    clarify, chitchat = repair_offered(flow, node)
    transitions = (*node.transitions, *flow.agent.global_transitions)
    intents = [t for t in transitions if isinstance(t, IntentTransition)]
    lines = []
    if clarify:
        lines.append(CLARIFY_LINE)
    elif len(intents) >= 2:
        lines.append(GUESS_LINE)
    if chitchat:
        lines.append(CHITCHAT_LINE)
    return lines


def _plain(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)

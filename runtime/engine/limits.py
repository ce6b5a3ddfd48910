"""The stuck-call guards' bounds, and stable names of a flow's transitions (for coverage)."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.ir import (
    ChitchatTransition,
    ClarifyTransition,
    DtmfTransition,
    FailuresTransition,
    Flow,
    IntentTransition,
    NoMatchTransition,
    SilenceTransition,
    ToolErrorTransition,
    Transition,
)


@dataclass(frozen=True)
class Limits:
    """Bounds of the stuck-call guards and the default lines spoken when the flow gives none."""

    reply_timeout_ms: int = 20_000
    """A ``Respond`` with no model turn (reply, transition or tool call) for this long."""
    tool_slack_ms: int = 5_000
    """Added to an HTTP tool's ``timeout_ms * attempts``; built-ins get ``builtin_timeout_ms``."""
    builtin_timeout_ms: int = 15_000
    idle_ms: int = 60_000
    """No caller input and no agent speech for this long in one node."""
    max_visits: int = 8
    """Entering the same node more often than this in one call is a loop."""
    max_fallbacks: int = 2
    max_auto: int = 32
    """``when`` transitions taken in a row without any input: more is a loop."""
    max_no_match: int = 3
    """Re-prompts in a node that declares no ``on no_match``, before the fallback."""
    max_chitchat: int = 3
    """Small talk answered in one node visit; more counts as a no-match."""
    reprompt: str = "Sorry, I didn't catch that. Could you say it again?"
    still_there: str = "Are you still there?"
    goodbye: str = "I'm sorry, something went wrong on our side. We'll be in touch. Goodbye."


DEFAULT_LIMITS = Limits()
"""The bounds of a call that sets none (frozen: one for every such call)."""


def transition_key(t: Transition, index: int) -> str:
    """A stable name of a transition within its node (used by coverage)."""
    if isinstance(t, IntentTransition):
        return f"intent:{t.name}"
    if isinstance(t, DtmfTransition):
        return f"dtmf:{t.digits}"
    if isinstance(t, SilenceTransition):
        return f"silence:{t.after_ms}"
    if isinstance(t, NoMatchTransition):
        return "no_match"
    if isinstance(t, ToolErrorTransition):
        return f"tool_error:{t.tool}" if t.tool else "tool_error"
    if isinstance(t, FailuresTransition):
        return "failures"
    if isinstance(t, ClarifyTransition | ChitchatTransition):
        return t.kind
    return f"when:{index}"


def all_transitions(flow: Flow) -> set[tuple[str, str]]:
    """Every (node, key) the flow declares; global transitions under node ``*``."""
    keys = {
        (n.name, transition_key(t, i))
        for n in flow.agent.nodes
        for i, t in enumerate(n.transitions)
    }
    keys |= {("*", transition_key(t, i)) for i, t in enumerate(flow.agent.global_transitions)}
    return keys

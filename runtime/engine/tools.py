"""Tools the flow and the model call: the pending call and its deadline, a failure routed to
the flow's ``on tool_error`` or the fallback, and the effects of a built-in's result.

A mixin of :class:`runtime.engine.engine.Engine`, using its state and machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl.ir import (
    Agent,
    ToolErrorTransition,
)
from dsl.outcomes import BuiltinOutcome
from runtime.engine.events import (
    CallTool,
)
from runtime.engine.limits import Limits, transition_key
from runtime.engine.state import EngineState, PendingCall


class ToolCalls:
    """Calling tools and taking their results."""

    state: EngineState
    agent: Agent
    limits: Limits

    def _call_tool(
        self, call_id: str, name: str, args: dict[str, Any], origin: str, into: str | None = None
    ) -> None:
        http = self._http.get(name)
        if http is not None:
            deadline = http.timeout_ms * (1 + max(http.retries, 0)) + self.limits.tool_slack_ms
        else:
            deadline = self.limits.builtin_timeout_ms
        self.state.pending[call_id] = PendingCall(
            call_id,
            name,
            self.state.now,
            deadline,
            origin,
            into,  # type: ignore[arg-type]
        )
        self.state.note("tool", f"call {name}", call_id=call_id, arguments=args)
        self._out.append(CallTool(call_id, name, args))

    def _tool_failed(self, pending: PendingCall, error: str, *, timed_out: bool = False) -> None:
        """A tool failed or gave no result in time: the flow's ``on tool_error`` for it (node,
        then global), else the outcome ``tool_error`` and the fallback for a ``call`` action
        or a tool that never answered, or the model tells the caller (a tool it called itself
        that answered with an error)."""
        s = self.state
        s.results["tool_error"] = {"tool": pending.name, "message": error}
        s.note("event", f"tool_error: {pending.name}", error=error)
        self._blocked_on = None
        handler = self._tool_error_transition(pending.name)
        if handler is not None:
            owner, i, t = handler
            self._take(t, owner, transition_key(t, i), {})
            return
        if pending.origin == "action" or timed_out:
            self._agenda.clear()
            self._set_outcome(BuiltinOutcome.TOOL_ERROR.value)
            self._stuck(f"tool {pending.name} failed: {error}")
            return
        self._respond()  # the model tells the caller

    def _tool_error_transition(self, tool: str) -> tuple[str, int, ToolErrorTransition] | None:
        for owner, transitions in (
            (self.state.node, self.node.transitions),
            ("*", self.agent.global_transitions),
        ):
            for i, t in enumerate(transitions):
                if isinstance(t, ToolErrorTransition) and t.tool in (None, tool):
                    return owner, i, t  # type: ignore[return-value]
        return None

    def _apply_builtin(self, name: str, result: Mapping[str, Any]) -> bool:
        """Effects of a successful built-in on the call; True when the call ended."""
        s = self.state
        if name == "end_call":
            self._end(
                result.get("outcome") or s.outcome or BuiltinOutcome.COMPLETED.value,
                reason="end_call",
            )
            return True
        if name == "transfer":
            self._transfer(str(result["to"]))
            return True
        if name == "set_outcome":
            self._set_outcome(str(result["outcome"]))
        elif name == "opt_out" and result.get("opted_out"):
            s.opted_out = True
            self._set_outcome(BuiltinOutcome.OPTED_OUT.value)
        elif name == "schedule_callback" and result.get("scheduled"):
            s.callback_at = str(result["at"])
            self._set_outcome(BuiltinOutcome.CALLBACK.value)
        return False

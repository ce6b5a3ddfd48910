"""The conversation engine: runs one call of a flow, events in, commands out, no I/O.

The engine owns the flow; the model only proposes (``TransitionCalled``). Conditions (``when``)
are evaluated here, on node entry and after every change of state, never by the model. Time
comes in events (``Tick``, ``Silence``), so the same inputs always give the same commands.

Order of a node entry: ``NodeEntered``, ``UpdateSession``, the ``on_enter`` actions in order
(a ``call`` waits for its ``ToolResult``), the node's ``say`` lines, the deferred ``transfer`` /
``end`` / sub-flow ``call`` / ``return`` actions of ``on_enter``, then settling: the first ``when`` that holds is taken, else the
first missing slot is asked for, else the model is asked to respond when the node has a task
and said nothing. A node's own ``when`` conditions are only considered once its required
slots are all filled (global ones always).

Sub-flows run on a stack of frames (``EngineState.frames``): a call saves the caller's slots
and enters the sub-flow's start; ``return`` binds the results to the call's ``into`` and
enters its ``then`` (or resumes the node a digression interrupted); entering a node outside
the running sub-flow (a global transition, the fallback) leaves it.

Repair (``repair.py``): a corrected slot sends the call back to the earliest node visited since
it was filled that reads it; a ``clarify`` from the provider is asked about; small talk
(``chitchat``) is answered and the question asked again, not counted as a failure.

Failures (a silence a node listens for, a no-match, a refused value) count against the retry
budgets (``on failures``) of the node visit and of the call. A tool that fails takes the
flow's ``on tool_error``, else a failed ``call`` action sets the outcome ``tool_error``.

Stuck-call guards lead to ``Agent.fallback`` (at most ``Limits.max_fallbacks`` times), else to
a polite goodbye and ``End``: a tool call or model reply that never comes, a node with no
input for ``Limits.idle_ms``, a node entered more than ``Limits.max_visits`` times.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dsl.ir import (
    Action,
    CallAction,
    EndAction,
    Flow,
    IntentTransition,
    Node,
    NoMatchTransition,
    OutcomeAction,
    ReturnAction,
    SayAction,
    SetAction,
    SubFlowCall,
    Template,
    TransferAction,
    Transition,
    WhenTransition,
)
from dsl.outcomes import BuiltinOutcome
from runtime.engine import values as V
from runtime.engine.events import (
    Command,
    End,
    Event,
    NodeEntered,
    Respond,
    Say,
    SetOutcome,
    TemplateFailed,
    ToolSpec,
    Transfer,
    UpdateSession,
)
from runtime.engine.handlers import HANDLERS, EventHandlers
from runtime.engine.instructions import Instructions
from runtime.engine.limits import DEFAULT_LIMITS, Limits, all_transitions, transition_key
from runtime.engine.plan import flow_plan
from runtime.engine.repair import Repair
from runtime.engine.slots import SlotFilling
from runtime.engine.state import EngineState, NodeVisit, Taken
from runtime.engine.subflows import SubFlows
from runtime.engine.tools import ToolCalls

log = logging.getLogger(__name__)

_NO_TOOL_ERROR = {"tool": "", "message": ""}
"""``tool_error`` before any tool failed (the compiler lets every template read it)."""

__all__ = ["Engine", "Limits", "all_transitions", "transition_key"]


class Engine(EventHandlers, SlotFilling, SubFlows, ToolCalls, Instructions, Repair):
    """One call of ``flow``. Not thread-safe; one driver feeds it events in order.

    Args:
        flow: the compiled flow.
        contact: the contact's columns (``contact.<name>``); declared ones are coerced.
        call_id: the call's id (tool call ids and logs derive from it).
        now: the call's start, an aware datetime; time then moves only with events.
        campaign: values the flow reads as ``campaign.<name>``.
        tz: the contact's time zone; default ``contact.timezone``, else the agent's.
        tools: the specs of every tool the flow's nodes may offer the model
            (``runtime.tools.tool_specs(flow)``): injected, so the engine runs no tool code.
            Read-only ones (what ``tool_specs`` gives) let every call of ``flow`` share one
            plan (``runtime.engine.plan``); a ``dict`` is copied for this call alone.
        limits: the stuck-call guards' bounds.
    """

    def __init__(
        self,
        flow: Flow,
        *,
        contact: Mapping[str, Any],
        call_id: str,
        now: datetime,
        campaign: Mapping[str, Any] | None = None,
        tz: str | None = None,
        tools: Mapping[str, ToolSpec],
        limits: Limits | None = None,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("Engine needs an aware datetime for now")

        self.flow = flow
        self.agent = flow.agent
        self.state = EngineState(now=now, last_input_at=now)
        self.contact = dict(contact)
        self.campaign = dict(campaign or {})
        self.call_id = call_id
        self.tz = tz or str(self.contact.get("timezone") or "") or self.agent.timezone
        self._errors_at_start: list[str] = []
        for f in self.agent.context:
            raw = self.contact.get(f.name)
            if raw is None or raw == "":
                continue
            try:
                self.contact[f.name] = V.coerce(raw, f.type, tz=self.tz)
            except Exception as exc:  # keep the raw value; templates may still say it
                self._errors_at_start.append(f"contact.{f.name}: {exc}")
        self.limits = limits if limits is not None else DEFAULT_LIMITS

        # Tables that depend on the flow alone: one read-only plan for every call of it.
        self._plan = plan = flow_plan(flow, tools)
        self._nodes = plan.nodes
        self._subflows = plan.subflows
        self._http = plan.http
        self._outcomes = plan.outcomes
        self._global_intents = plan.global_intents
        self._node_intents = plan.node_intents
        self._has_when = plan.has_when
        self._global_when = plan.global_when
        self._contact_known: list[str] | None = None
        self._agenda: deque[tuple[str, Any]] = deque()
        self._blocked_on: str | None = None
        self._out: list[Command] = []
        self._seq = 0
        self._auto = 0
        self._stay_fired: set[int] = set()
        """``when`` transitions without target already taken in this node visit (by index)."""
        self.state.errors.extend(self._errors_at_start)
        for f in self.agent.variables:
            if f.default is not None:
                self.state.vars[f.name] = self._eval(f.default.src)

    # --- public ---------------------------------------------------------------------------

    @property
    def node(self) -> Node:
        assert self.state.node is not None
        return self._nodes[self.state.node]

    def start(self, node: str | None = None) -> list[Command]:
        """Enter the start node, or ``node`` (e.g. the campaign's ``amd_node`` when a machine
        answered). Call once, before any ``handle``."""
        self._enter(node or self.agent.start, "start")
        self._run()
        return self._flush()

    def handle(self, event: Event) -> list[Command]:
        """Apply ``event``; returns the commands to carry out, in order."""
        self._auto = 0
        if self.state.ended:
            return self._flush()
        handler = HANDLERS.get(type(event))
        if handler is None:
            self._error(f"unknown event {type(event).__name__}")
            return self._flush()
        handler(self, event)
        self._run()
        return self._flush()

    def values(self, **extra: Any) -> dict[str, Any]:
        """The scope templates and expressions see."""
        s = self.state
        scope: dict[str, Any] = {**s.results, **s.slots}
        scope.setdefault("tool_error", _NO_TOOL_ERROR)
        scope.update(
            params=s.frames[-1].params if s.frames else {},
            contact=self.contact,
            campaign=self.campaign,
            vars=s.vars,
            slots=s.slots,
            now=s.now,
        )
        scope.update(extra)
        return scope

    def intents(self) -> tuple[IntentTransition, ...]:
        """The intents the model may choose now: the node's, then the global ones."""
        node = [t for t in self.node.transitions if isinstance(t, IntentTransition)]
        return tuple(node) + tuple(t for _, t in self._global_intents.values())

    def render(self, src: str) -> str:
        """Template ``src`` rendered with the call's current values."""
        return self._render(src)

    def session(self) -> UpdateSession:
        """The instructions and tools of the current node."""
        return self._session(self.node)

    # --- machinery ------------------------------------------------------------------------

    def _run(self) -> None:
        """Carry out queued steps until done, ended, or waiting for a tool result."""
        while self._agenda and self._blocked_on is None and not self.state.ended:
            kind, arg = self._agenda.popleft()
            if kind == "act":
                self._act(arg)
            elif kind == "say":
                self._say_template(arg, None)
            elif kind == "enter":
                target, via = arg
                self._enter(target, via)
            elif kind == "settle":
                self._settle(resumed=bool(arg))

    def _enter(self, target: str | None, via: str) -> None:
        s = self.state
        self._agenda.clear()
        if target is None:  # stay: re-settle the current node
            self._agenda.append(("settle", None))
            return
        if target not in self._nodes:
            self._error(f"transition to unknown node {target!r}")
            self._stuck("unknown node")
            return
        while s.frames and not self._subflows[s.frames[-1].flow].owns(target):
            # Left the running sub-flow without return (a global transition, the fallback):
            # its caller will not continue; the caller's slots are its own again.
            frame = s.frames.pop()
            s.slots, s.filled_at = frame.caller_slots, frame.caller_filled
            s.note("event", f"left sub-flow {frame.flow}", to=target)
        s.visits[target] += 1
        if s.visits[target] > self.limits.max_visits and via != "fallback":
            self._stuck(f"node {target!r} entered {s.visits[target]} times (loop)")
            return
        node = self._nodes[target]
        s.node = target
        s.path.append(target)
        s.asks.clear()
        self._stay_fired.clear()
        s.silence_reprompts = 0
        s.no_matches = 0
        s.failures = 0
        s.dtmf_buffer = ""
        s.clarifying = {}
        s.chitchats = 0
        s.awaiting_reply_since = None
        s.last_input_at = s.now
        s.note("event", f"entered {target}", via=via)
        s.trail.append(NodeVisit(target, via))
        self._out.append(NodeEntered(target, via))
        self._out.append(self._session(node))
        deferred = []
        for action in node.on_enter:
            if isinstance(action, TransferAction | EndAction | SubFlowCall | ReturnAction):
                deferred.append(("act", action))
            else:
                self._agenda.append(("act", action))
        self._agenda.extend(("say", t) for t in node.say)
        self._agenda.extend(deferred)
        self._agenda.append(("settle", None))

    def _settle(self, *, resumed: bool = False) -> None:
        if self._check_when():
            return
        node = self.node
        missing = self.missing_slots()
        if missing:
            self._ask(missing[0], count=not resumed)  # a digression is not a failed ask
            return
        if node.task is not None and (resumed or not node.say):
            self._respond()
        elif not node.transitions and not self._global_intents and not node.tools:
            # A dead end the compiler should have rejected: never leave dead air.
            self._end(self.state.outcome or BuiltinOutcome.COMPLETED.value, reason="dead end")

    def _check_when(self) -> bool:
        """Take the first ``when`` of the node (then the global ones) that holds."""
        if self.state.node is None or self.state.ended:
            return False
        node_when = self._has_when[self.state.node] and not self.missing_slots()
        if not node_when and not self._global_when:
            return False
        scope = None
        groups = [("*", self.agent.global_transitions)]
        if node_when:
            # A collecting node's conditions wait until its required slots are filled.
            groups.insert(0, (self.state.node, self.node.transitions))
        for owner, transitions in groups:
            for i, t in enumerate(transitions):
                if isinstance(t, WhenTransition):
                    scope = scope or self.values()
                    try:
                        holds = bool(V.evaluate(t.condition.src, scope))
                    except Exception as exc:
                        self._error(f"condition {t.condition.src!r} failed: {exc}")
                        continue
                    if holds:
                        if t.target is None:
                            # A "stay" condition fires once per visit, not while it holds.
                            marker = i if owner != "*" else -1 - i
                            if marker in self._stay_fired:
                                continue
                            self._stay_fired.add(marker)
                        self._auto += 1
                        if self._auto > self.limits.max_auto:
                            self._stuck("when conditions keep firing (loop)")
                            return True
                        self._take(t, owner, transition_key(t, i), {})
                        return True
        return False

    def _take(self, t: Transition, owner: str, key: str, arguments: Mapping[str, Any]) -> None:
        s = self.state
        corrected: list[str] = []
        if isinstance(t, IntentTransition) and not self._take_params(t, arguments, corrected):
            return
        s.taken.append(Taken(owner, key, t.target))
        if not isinstance(t, NoMatchTransition):
            s.no_matches = 0
        s.clarifying = {}
        self._agenda.clear()
        self._blocked_on = None
        self._agenda.extend(("act", a) for a in t.actions)
        via = key if owner != "*" else f"global:{key}"
        # A correction re-runs what read the slot, unless the transition goes somewhere itself.
        rerun = self._rerun_target(corrected) if corrected and t.target is None else None
        if rerun is not None:
            self._rerun(rerun, corrected)
        elif t.target is None and not t.actions:
            self._agenda.append(("settle", None))
        else:
            self._agenda.append(("enter", (t.target, via)))

    def _act(self, a: Action) -> None:
        s = self.state
        if isinstance(a, SayAction):
            self._say_template(a.text, None)
        elif isinstance(a, SetAction):
            try:
                value = self._eval(a.value.src)
            except Exception as exc:
                self._error(f"set {a.name} failed: {exc}")
                return
            if a.name.startswith("slots."):
                self._set_slot(a.name.removeprefix("slots."), value)
                return
            name = a.name.removeprefix("vars.")
            if a.name.startswith("vars.") or name not in {x.name for x in self.node.collect}:
                s.vars[name] = value
            else:
                self._set_slot(name, value)
        elif isinstance(a, CallAction):
            try:
                args = {k: V.jsonable(self._eval(v.src)) for k, v in a.args}
            except Exception as exc:
                self._error(f"arguments of {a.tool} failed: {exc}")
                self._stuck(f"tool {a.tool} could not be called")
                return
            call_id = self._next_id()
            self._call_tool(call_id, a.tool, args, "action", into=a.into)
            self._blocked_on = call_id
        elif isinstance(a, SubFlowCall):
            self._call_subflow(a)
        elif isinstance(a, ReturnAction):
            self._return(a)
        elif isinstance(a, OutcomeAction):
            self._set_outcome(a.outcome)
        elif isinstance(a, TransferAction):
            try:
                to = self._render(a.to.src)
            except Exception as exc:
                self._template_failed(a.to.src, exc)
                self._stuck("the transfer target did not render")
                return
            self._transfer(to)
        elif isinstance(a, EndAction):
            if a.outcome is not None:
                self._set_outcome(a.outcome)
            self._end(s.outcome or BuiltinOutcome.COMPLETED.value, reason="end action")

    def _set_outcome(self, outcome: str) -> None:
        if outcome not in self._outcomes:
            self._error(f"outcome {outcome!r} is not in the agent's vocabulary")
            return
        if outcome != self.state.outcome:
            self.state.outcome = outcome
            self._out.append(SetOutcome(outcome))

    def _transfer(self, to: str) -> None:
        """Transfer and end; an outcome the flow already set (``escalated``) is kept."""
        self.state.transfer_to = to
        if self.state.outcome is None:
            self._set_outcome(BuiltinOutcome.TRANSFERRED.value)
        self._out.append(Transfer(to))
        self._end(
            self.state.outcome or BuiltinOutcome.TRANSFERRED.value, reason=f"transfer to {to}"
        )

    def _end(self, outcome: str, *, reason: str) -> None:
        s = self.state
        if s.ended:
            return
        if outcome not in self._outcomes:
            self._error(f"outcome {outcome!r} is not in the agent's vocabulary")
            outcome = BuiltinOutcome.COMPLETED.value
        s.outcome = outcome
        s.ended = True
        s.pending.clear()
        self._agenda.clear()
        s.note("event", f"ended: {outcome}", reason=reason)
        self._out.append(End(outcome))

    def _stuck(self, reason: str) -> None:
        """A guard fired: go to the fallback node, or say goodbye and end. Never dead air."""
        s = self.state
        s.note("event", f"stuck: {reason}")
        log.info("call %s stuck in %s: %s", self.call_id, s.node, reason)
        self._agenda.clear()
        self._blocked_on = None
        s.pending.clear()
        s.awaiting_reply_since = None
        fallback = self.agent.fallback
        if (
            fallback is not None
            and fallback in self._nodes
            and s.fallbacks < self.limits.max_fallbacks
        ):
            s.fallbacks += 1
            s.taken.append(Taken(s.node or "*", "fallback", fallback))
            self._enter(fallback, "fallback")
            return
        self._out.append(Say(self.limits.goodbye))
        s.note("agent", self.limits.goodbye)
        self._end(s.outcome or "unknown", reason=reason)

    def _respond(self) -> None:
        self.state.awaiting_reply_since = self.state.now
        self._out.append(Respond())

    def _say_template(self, template: Template | None, default: str | None, **extra: Any) -> None:
        if template is None:
            if default is None:
                return
            text = default
        else:
            try:
                text = self._render(template.src, **extra)
            except Exception as exc:
                self._template_failed(template.src, exc)
                if default is None:
                    return
                text = default
        self.state.note("agent", text)
        self._out.append(Say(text))

    def _template_failed(self, src: str, exc: Exception) -> None:
        """A template that does not render: an error of the call and a ``TemplateFailed``
        command, so every driver reports it (a line is never dropped unseen)."""
        self._error(f"template {src!r} failed: {exc}")
        self._out.append(TemplateFailed(self.state.node or "", src, str(exc)))

    def say_lines(self) -> tuple[str, ...]:
        """The current node's ``say`` lines rendered with the call's values now (what a local
        provider may repeat); a line that does not render is reported as ``_say_template``
        reports it and left out."""
        lines = []
        for template in self.node.say:
            try:
                lines.append(self._render(template.src))
            except Exception as exc:
                self._template_failed(template.src, exc)
        return tuple(lines)

    def _render(self, src: str, **extra: Any) -> str:
        if V.is_plain(src):
            return src
        return V.render(src, self.values(**extra), tz=self.tz, locale=self.agent.provider.language)

    def _render_or_src(self, src: str) -> str:
        try:
            return self._render(src)
        except Exception as exc:
            self._template_failed(src, exc)
            return src

    def _eval(self, src: str) -> Any:
        return V.evaluate(src, self.values())

    def _coerce(self, raw: Any, type_name: str) -> Any:
        try:
            return V.coerce(raw, type_name, tz=self.tz)
        except Exception:
            return raw

    def _next_id(self) -> str:
        self._seq += 1
        return f"{self.call_id}:t{self._seq}"

    def _error(self, message: str) -> None:
        self.state.errors.append(message)
        self.state.note("event", f"error: {message}")

    def flush(self) -> list[Command]:
        """Commands emitted outside ``start``/``handle`` (a ``TemplateFailed`` while a driver
        read ``session()`` or ``say_lines()``); ``handle`` also returns them first."""
        return self._flush()

    def _flush(self) -> list[Command]:
        out, self._out = self._out, []
        return out

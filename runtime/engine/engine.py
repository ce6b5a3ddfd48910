"""The conversation engine: runs one call of a flow, events in, commands out, no I/O.

The engine owns the flow; the model only proposes (``TransitionCalled``). Conditions (``when``)
are evaluated here, on node entry and after every change of state, never by the model. Time
comes in events (``Tick``, ``Silence``), so the same inputs always give the same commands.

Order of a node entry: ``NodeEntered``, ``UpdateSession``, the ``on_enter`` actions in order
(a ``call`` waits for its ``ToolResult``), the node's ``say`` lines, the deferred ``transfer`` /
``end`` actions of ``on_enter``, then settling: the first ``when`` that holds is taken, else the
first missing slot is asked for, else the model is asked to respond when the node has a task
and said nothing. A node's own ``when`` conditions are only considered once its required
slots are all filled (global ones always).

Stuck-call guards lead to ``Agent.fallback`` (at most ``Limits.max_fallbacks`` times), else to
a polite goodbye and ``End``: a tool call or model reply that never comes, a node with no
input for ``Limits.idle_ms``, a node entered more than ``Limits.max_visits`` times.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dsl.ir import (
    Action,
    CallAction,
    DtmfTransition,
    EndAction,
    Flow,
    HttpTool,
    IntentTransition,
    Node,
    NoMatchTransition,
    OutcomeAction,
    SayAction,
    SetAction,
    SilenceTransition,
    Slot,
    Template,
    TransferAction,
    Transition,
    WhenTransition,
)
from dsl.outcomes import BUILTIN_OUTCOMES, TELEPHONY_OUTCOMES, BuiltinOutcome
from runtime.engine import values as V
from runtime.engine.events import (
    NO_MATCH,
    PROVIDE_SLOTS,
    AgentSaid,
    CallerSaid,
    CallerUnheard,
    CallTool,
    Command,
    DtmfPressed,
    End,
    Event,
    HungUp,
    NodeEntered,
    ProviderFailed,
    Respond,
    Say,
    SetOutcome,
    Silence,
    SpeechFinished,
    Tick,
    ToolResult,
    ToolSpec,
    Transfer,
    TransitionCalled,
    UpdateSession,
)
from runtime.engine.specs import node_tools
from runtime.engine.state import EngineState, PendingCall, Taken

log = logging.getLogger(__name__)


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
    reprompt: str = "Sorry, I didn't catch that. Could you say it again?"
    still_there: str = "Are you still there?"
    goodbye: str = "I'm sorry, something went wrong on our side. We'll be in touch. Goodbye."


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


class Engine:
    """One call of ``flow``. Not thread-safe; one driver feeds it events in order."""

    def __init__(
        self,
        flow: Flow,
        *,
        contact: Mapping[str, Any],
        call_id: str,
        now: datetime,
        campaign: Mapping[str, Any] | None = None,
        tz: str | None = None,
        limits: Limits | None = None,
        tools: Mapping[str, ToolSpec] | None = None,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("Engine needs an aware datetime for now")
        from runtime.tools.runner import tool_specs

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
        self.limits = limits or Limits()

        self._nodes = {n.name: n for n in self.agent.nodes}
        self._tool_specs = dict(tools) if tools is not None else tool_specs(flow)
        self._http = {t.name: t for t in self.agent.tools if isinstance(t, HttpTool)}
        self._outcomes = frozenset(self.agent.outcomes) | BUILTIN_OUTCOMES | TELEPHONY_OUTCOMES
        self._global_intents = {
            t.name: (i, t)
            for i, t in enumerate(self.agent.global_transitions)
            if isinstance(t, IntentTransition)
        }
        self._session_cache: dict[str, UpdateSession] = {}
        self._contact_known: list[str] | None = None
        self._node_intents = {
            n.name: {
                t.name: (i, t)
                for i, t in enumerate(n.transitions)
                if isinstance(t, IntentTransition)
            }
            for n in self.agent.nodes
        }
        self._has_when = {
            n.name: any(isinstance(t, WhenTransition) for t in n.transitions)
            for n in self.agent.nodes
        }
        self._global_when = any(
            isinstance(t, WhenTransition) for t in self.agent.global_transitions
        )
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
        self._out = []
        self._enter(node or self.agent.start, "start")
        self._run()
        return self._flush()

    def handle(self, event: Event) -> list[Command]:
        """Apply ``event``; returns the commands to carry out, in order."""
        self._out = []
        self._auto = 0
        if self.state.ended:
            return []
        handler = _HANDLERS.get(type(event))
        if handler is None:
            self._error(f"unknown event {type(event).__name__}")
            return []
        handler(self, event)
        self._run()
        return self._flush()

    def values(self, **extra: Any) -> dict[str, Any]:
        """The scope templates and expressions see."""
        s = self.state
        scope: dict[str, Any] = {**s.results, **s.slots}
        scope.update(
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

    def missing_slots(self) -> tuple[Slot, ...]:
        """Required slots of the current node not filled yet, in declaration order."""
        collect = self._nodes[self.state.node].collect  # type: ignore[index]
        if not collect:
            return ()
        return tuple(s for s in collect if s.required and s.name not in self.state.slots)

    def render(self, src: str) -> str:
        """Template ``src`` rendered with the call's current values."""
        return self._render(src)

    def session(self) -> UpdateSession:
        """The instructions and tools of the current node."""
        return self._session(self.node)

    # --- event handlers -------------------------------------------------------------------

    def _on_caller_said(self, e: CallerSaid) -> None:
        s = self.state
        s.last_input_at = s.now
        if not e.final:
            return
        s.turns += 1
        s.silence_reprompts = 0
        s.note("caller", e.text)

    def _on_caller_unheard(self, e: CallerUnheard) -> None:
        s = self.state
        s.last_input_at = s.now
        s.turns += 1
        s.silence_reprompts = 0
        s.note("event", "the caller's words were lost", reason=e.reason)
        self._no_match()

    def _on_agent_said(self, e: AgentSaid) -> None:
        self.state.awaiting_reply_since = None
        self.state.last_input_at = self.state.now
        self.state.note("agent", e.text)

    def _on_transition(self, e: TransitionCalled) -> None:
        s = self.state
        s.awaiting_reply_since = None
        s.last_input_at = s.now
        s.note("event", f"model called {e.name}", arguments=e.arguments)
        node = self.node
        if e.name == PROVIDE_SLOTS:
            self._provide_slots(e.arguments)
            return
        if e.name == NO_MATCH:
            self._no_match()
            return
        found = self._node_intents[node.name].get(e.name)
        if found is not None:
            i, t = found
            self._take(t, node.name, f"intent:{t.name}", e.arguments)
            return
        if e.name in self._global_intents:
            i, t = self._global_intents[e.name]
            self._take(t, "*", transition_key(t, i), e.arguments)
            return
        if e.name in node.tools:
            self._call_tool(e.call_id or self._next_id(), e.name, dict(e.arguments), "model")
            return
        self._error(f"model called {e.name!r}, not offered in node {node.name!r}")
        self._no_match()

    def _on_dtmf(self, e: DtmfPressed) -> None:
        s = self.state
        s.last_input_at = s.now
        s.turns += 1
        s.note("caller", f"[dtmf {e.digit}]")
        s.dtmf_buffer += e.digit
        buffer = s.dtmf_buffer
        candidates = [
            (self.state.node, i, t)
            for i, t in enumerate(self.node.transitions)
            if isinstance(t, DtmfTransition)
        ] + [
            ("*", i, t)
            for i, t in enumerate(self.agent.global_transitions)
            if isinstance(t, DtmfTransition)
        ]
        for owner, i, t in candidates:
            if t.digits == buffer:
                s.dtmf_buffer = ""
                self._take(t, owner, transition_key(t, i), {})
                return
        if any(t.digits != "any" and t.digits.startswith(buffer) for _, _, t in candidates):
            return  # a longer sequence may still match
        for owner, i, t in candidates:
            if t.digits == "any":
                s.dtmf_buffer = ""
                s.vars["last_dtmf"] = buffer
                self._take(t, owner, transition_key(t, i), {})
                return
        keyed = [x for x in self.missing_slots() if x.type in ("digits", "int")]
        if keyed:
            if e.digit == "#":
                s.dtmf_buffer = ""
                self._provide_slots({keyed[0].name: buffer[:-1]})
            return  # keep collecting keys until '#'
        s.dtmf_buffer = ""
        self._no_match()

    def _on_silence(self, e: Silence) -> None:
        s = self.state
        options = [
            (self.state.node, i, t)
            for i, t in enumerate(self.node.transitions)
            if isinstance(t, SilenceTransition) and t.after_ms <= e.ms
        ] or [
            ("*", i, t)
            for i, t in enumerate(self.agent.global_transitions)
            if isinstance(t, SilenceTransition) and t.after_ms <= e.ms
        ]
        if not options:
            if e.ms >= self.limits.idle_ms:
                self._stuck(f"no input for {e.ms} ms")
            return
        owner, i, t = max(options, key=lambda o: o[2].after_ms)
        if s.silence_reprompts < t.max_reprompts:
            s.silence_reprompts += 1
            self._say_template(t.reprompt, self.limits.still_there)
            return
        self._take(t, owner, transition_key(t, i), {})

    def _on_tool_result(self, e: ToolResult) -> None:
        s = self.state
        pending = s.pending.pop(e.call_id, None)
        if pending is None:
            self._error(f"result for unknown tool call {e.call_id!r}")
            return
        s.last_input_at = s.now
        s.note(
            "tool",
            f"{pending.name} {'ok' if e.ok else 'failed'}",
            call_id=e.call_id,
            result=e.result if e.ok else None,
            error=e.error,
        )
        if not e.ok:
            http = self._http.get(pending.name)
            if http is not None and http.on_error is not None:
                self._blocked_on = None
                self._agenda.clear()
                self._enter(http.on_error, f"on_error:{pending.name}")
                return
            if pending.origin == "action":
                self._blocked_on = None
                self._agenda.clear()
                self._stuck(f"tool {pending.name} failed: {e.error}")
                return
            self._respond()  # the model tells the caller
            return
        if pending.into:
            s.results[pending.into] = e.result
        elif pending.origin == "model" and pending.name in self._http:
            # The model called an HTTP tool itself: its mapped response joins the context
            # under the tool's name.
            s.results[pending.name] = e.result
        ended = self._apply_builtin(pending.name, e.result if isinstance(e.result, dict) else {})
        if pending.origin == "action":
            if self._blocked_on == e.call_id:
                self._blocked_on = None
            return  # the agenda continues in _run
        if ended:
            return
        if not self._check_when():
            self._respond()

    def _on_hung_up(self, e: HungUp) -> None:
        self._end(self.state.outcome or BuiltinOutcome.HUNG_UP.value, reason="hung up")

    def _on_provider_failed(self, e: ProviderFailed) -> None:
        self._error(f"provider failed: {e.reason}")
        self._say_template(self.agent.provider.apology, None)
        self._end(self.state.outcome or BuiltinOutcome.PROVIDER_ERROR.value, reason=e.reason)

    def _on_tick(self, e: Tick) -> None:
        s = self.state
        s.now = e.now
        for call_id, p in list(s.pending.items()):
            if _ms(e.now - p.since) > p.deadline_ms:
                error = f"{p.name}: no result after {p.deadline_ms} ms"
                http = self._http.get(p.name)
                if http is not None and http.on_error is not None:
                    self._on_tool_result(ToolResult(call_id, ok=False, error=error))
                else:
                    self._stuck(error)
                return
        if s.awaiting_reply_since is not None:
            if _ms(e.now - s.awaiting_reply_since) > self.limits.reply_timeout_ms:
                s.awaiting_reply_since = None
                self._stuck("no reply from the model")
            return
        if s.last_input_at is not None and not s.pending:
            if _ms(e.now - s.last_input_at) > self.limits.idle_ms:
                self._stuck("no input in this node")

    def _on_speech_finished(self, e: SpeechFinished) -> None:
        self.state.last_input_at = self.state.now
        self.state.awaiting_reply_since = None

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
                self._settle()

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
        s.dtmf_buffer = ""
        s.awaiting_reply_since = None
        s.last_input_at = s.now
        s.note("event", f"entered {target}", via=via)
        self._out.append(NodeEntered(target, via))
        self._out.append(self._session(node))
        deferred = []
        for action in node.on_enter:
            if isinstance(action, TransferAction | EndAction):
                deferred.append(("act", action))
            else:
                self._agenda.append(("act", action))
        self._agenda.extend(("say", t) for t in node.say)
        self._agenda.extend(deferred)
        self._agenda.append(("settle", None))

    def _settle(self) -> None:
        if self._check_when():
            return
        node = self.node
        missing = self.missing_slots()
        if missing:
            self._ask(missing[0])
            return
        if node.task is not None and not node.say:
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
        if isinstance(t, IntentTransition):
            for f in t.params:
                if f.name in arguments:
                    s.slots[f.name] = self._coerce(arguments[f.name], f.type)
        s.taken.append(Taken(owner, key, t.target))
        if not isinstance(t, NoMatchTransition):
            s.no_matches = 0
        self._agenda.clear()
        self._blocked_on = None
        self._agenda.extend(("act", a) for a in t.actions)
        via = key if owner != "*" else f"global:{key}"
        if t.target is None and not t.actions:
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
            name = a.name.removeprefix("vars.")
            if a.name.startswith("vars.") or name not in {x.name for x in self.node.collect}:
                s.vars[name] = value
            else:
                s.slots[name] = value
        elif isinstance(a, CallAction):
            try:
                args = {k: self._eval(v.src) for k, v in a.args}
            except Exception as exc:
                self._error(f"arguments of {a.tool} failed: {exc}")
                self._stuck(f"tool {a.tool} could not be called")
                return
            call_id = self._next_id()
            self._call_tool(call_id, a.tool, args, "action", into=a.into)
            self._blocked_on = call_id
        elif isinstance(a, OutcomeAction):
            self._set_outcome(a.outcome)
        elif isinstance(a, TransferAction):
            to = self._render(a.to.src)
            self._transfer(to)
        elif isinstance(a, EndAction):
            if a.outcome is not None:
                self._set_outcome(a.outcome)
            self._end(s.outcome or BuiltinOutcome.COMPLETED.value, reason="end action")

    def _provide_slots(self, arguments: Mapping[str, Any]) -> None:
        s = self.state
        by_name = {x.name: x for x in self.node.collect}
        for name, raw in arguments.items():
            slot = by_name.get(name)
            if slot is None:
                continue
            value, ok = self._validate(slot, raw)
            if ok:
                s.slots[name] = value
                s.no_matches = 0  # no_match counts misses in a row
                s.note("event", f"slot {name} = {value!r}")
                continue
            if s.asks[name] >= slot.max_asks:
                self._exhausted(slot)
                return
            s.asks[name] += 1  # the invalid message asks again
            if slot.invalid is not None:
                self._say_template(slot.invalid, self.limits.reprompt)
            else:
                self._ask(slot, count=False)
            return
        if self._check_when():
            return
        missing = self.missing_slots()
        if missing:
            self._ask(missing[0])
        elif self.node.task is not None:
            self._respond()

    def _validate(self, slot: Slot, raw: Any) -> tuple[Any, bool]:
        try:
            value = V.coerce(raw, slot.type, tz=self.tz)
        except Exception:
            return raw, False
        if slot.validate is not None:
            try:
                ok = bool(V.evaluate(slot.validate.src, self.values(value=value)))
            except Exception as exc:
                self._error(f"validation of {slot.name} failed: {exc}")
                ok = False
            if not ok:
                return value, False
        return value, True

    def _ask(self, slot: Slot, *, count: bool = True) -> None:
        s = self.state
        if count:
            s.asks[slot.name] += 1
            if s.asks[slot.name] > slot.max_asks:
                self._exhausted(slot)
                return
        if slot.prompt is not None:
            self._say_template(slot.prompt, None)
        else:
            self._respond()

    def _exhausted(self, slot: Slot) -> None:
        self.state.note("event", f"slot {slot.name} not obtained after {slot.max_asks} asks")
        nm = self._no_match_transition()
        if nm is not None:
            owner, i, t = nm
            self._take(t, owner, transition_key(t, i), {})
        else:
            self._stuck(f"slot {slot.name} not obtained")

    def _no_match_transition(self) -> tuple[str, int, NoMatchTransition] | None:
        for owner, transitions in (
            (self.state.node, self.node.transitions),
            ("*", self.agent.global_transitions),
        ):
            for i, t in enumerate(transitions):
                if isinstance(t, NoMatchTransition):
                    return owner, i, t  # type: ignore[return-value]
        return None

    def _no_match(self) -> None:
        s = self.state
        s.no_matches += 1
        nm = self._no_match_transition()
        if nm is None:
            if s.no_matches > self.limits.max_no_match:
                self._stuck("the caller's answers matched nothing")
                return
            self._say_template(None, self.limits.reprompt)
            return
        owner, i, t = nm
        if s.no_matches <= t.max_retries:
            self._say_template(t.reprompt, self.limits.reprompt)
            return
        self._take(t, owner, transition_key(t, i), {})

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

    def _say_template(self, template: Template | None, default: str | None) -> None:
        if template is None:
            if default is None:
                return
            text = default
        else:
            try:
                text = self._render(template.src)
            except Exception as exc:
                self._error(f"template {template.src!r} failed: {exc}")
                if default is None:
                    return
                text = default
        self.state.note("agent", text)
        self._out.append(Say(text))

    def _session(self, node: Node) -> UpdateSession:
        base = self._session_cache.get(node.name)
        if base is None:
            parts = [self._render_or_src(self.agent.persona.src)]
            parts.append(
                f"Current step: {node.name}." + (f" {node.description}" if node.description else "")
            )
            if node.task is not None:
                parts.append(self._render_or_src(node.task.src))
            if node.collect:
                parts.append(
                    "Collect from the caller: "
                    + ", ".join(f"{x.name} ({x.type})" for x in node.collect)
                    + f". Report values with {PROVIDE_SLOTS}."
                )
            base = UpdateSession("\n\n".join(parts), node_tools(self.flow, node, self._tool_specs))
            if V.is_plain(self.agent.persona.src) and (
                node.task is None or V.is_plain(node.task.src)
            ):
                self._session_cache[node.name] = base
        known = self._known()
        if not known:
            return base
        return UpdateSession(f"{base.instructions}\n\nKnown so far: {known}", base.tools)

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

    def _render(self, src: str) -> str:
        if V.is_plain(src):
            return src
        return V.render(src, self.values(), tz=self.tz, locale=self.agent.provider.language)

    def _render_or_src(self, src: str) -> str:
        try:
            return self._render(src)
        except Exception as exc:
            self._error(f"template {src!r} failed: {exc}")
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

    def _flush(self) -> list[Command]:
        out, self._out = self._out, []
        return out


def _plain(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _ms(delta: Any) -> int:
    return int(delta.total_seconds() * 1000)


_HANDLERS: dict[type, Any] = {
    CallerSaid: Engine._on_caller_said,
    CallerUnheard: Engine._on_caller_unheard,
    AgentSaid: Engine._on_agent_said,
    TransitionCalled: Engine._on_transition,
    DtmfPressed: Engine._on_dtmf,
    Silence: Engine._on_silence,
    ToolResult: Engine._on_tool_result,
    HungUp: Engine._on_hung_up,
    ProviderFailed: Engine._on_provider_failed,
    Tick: Engine._on_tick,
    SpeechFinished: Engine._on_speech_finished,
}

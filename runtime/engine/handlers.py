"""How the engine answers each event: one handler per ``Event`` type.

A mixin of :class:`runtime.engine.engine.Engine`: the handlers update the call's state and
hand over to the engine's machinery (``_take``, ``_enter``, ``_stuck``, ``_respond``...);
:data:`HANDLERS` maps each event type to its handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsl.ir import (
    Agent,
    DtmfTransition,
    SilenceTransition,
)
from dsl.outcomes import BuiltinOutcome
from runtime.engine.events import (
    CHITCHAT,
    CLARIFY,
    NO_MATCH,
    PROVIDE_SLOTS,
    AgentSaid,
    CallerSaid,
    CallerUnheard,
    DtmfPressed,
    HungUp,
    ProviderFailed,
    Silence,
    SpeechFinished,
    Tick,
    ToolResult,
    TransitionCalled,
)
from runtime.engine.limits import Limits, transition_key
from runtime.engine.state import EngineState


class EventHandlers:
    """Event handlers; the state they read and write is the engine's."""

    state: EngineState
    agent: Agent
    limits: Limits

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
        # The answer to a clarifying question: the chosen intent keeps what the words that
        # raised the question gave (its parameters).
        asked = s.clarifying
        arguments = e.arguments
        if asked:
            s.clarifying = {}
            arguments = {**asked.get(e.name, {}), **e.arguments}
        if e.name == PROVIDE_SLOTS:
            self._provide_slots(e.arguments)
            return
        if e.name == NO_MATCH:
            self._no_match()
            return
        if e.name == CLARIFY:
            self._clarify(e.arguments, again=bool(asked))
            return
        if e.name == CHITCHAT:
            self._chitchat(e.arguments)
            return
        found = self._node_intents[node.name].get(e.name)
        if found is not None:
            i, t = found
            self._take(t, node.name, f"intent:{t.name}", arguments)
            return
        if e.name in self._global_intents:
            i, t = self._global_intents[e.name]
            self._take(t, "*", transition_key(t, i), arguments)
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
        s.tally(silence=1)
        if self._failure("silence"):
            return
        if s.silence_reprompts < t.max_reprompts:
            s.silence_reprompts += 1
            s.tally(reprompt=1)
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
            self._tool_failed(pending, e.error or f"{pending.name} failed")
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
                    del s.pending[call_id]
                    self._tool_failed(p, error, timed_out=True)
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


def _ms(delta: Any) -> int:
    return int(delta.total_seconds() * 1000)


HANDLERS: dict[type, Callable[..., None]] = {
    CallerSaid: EventHandlers._on_caller_said,
    CallerUnheard: EventHandlers._on_caller_unheard,
    AgentSaid: EventHandlers._on_agent_said,
    TransitionCalled: EventHandlers._on_transition,
    DtmfPressed: EventHandlers._on_dtmf,
    Silence: EventHandlers._on_silence,
    ToolResult: EventHandlers._on_tool_result,
    HungUp: EventHandlers._on_hung_up,
    ProviderFailed: EventHandlers._on_provider_failed,
    Tick: EventHandlers._on_tick,
    SpeechFinished: EventHandlers._on_speech_finished,
}

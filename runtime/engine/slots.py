"""Slot filling and no-match repair: validating what the caller gave, asking again, giving up.

A mixin of :class:`runtime.engine.engine.Engine`, using its state and machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl.ir import (
    Agent,
    FailuresTransition,
    IntentTransition,
    NoMatchTransition,
    Slot,
)
from runtime.engine import values as V
from runtime.engine.limits import Limits, transition_key
from runtime.engine.state import EngineState


class SlotFilling:
    """Collecting a node's slots, re-prompting, and the ``on no_match`` repair."""

    state: EngineState
    agent: Agent
    limits: Limits
    tz: str

    def missing_slots(self) -> tuple[Slot, ...]:
        """Required slots of the current node not filled yet, in declaration order."""
        collect = self._nodes[self.state.node].collect  # type: ignore[index]
        if not collect:
            return ()
        return tuple(s for s in collect if s.required and s.name not in self.state.slots)

    def _provide_slots(self, arguments: Mapping[str, Any]) -> None:
        s = self.state
        by_name = {x.name: x for x in self.node.collect}
        corrected: list[str] = []
        for name, raw in arguments.items():
            slot = by_name.get(name)
            if slot is None:
                continue
            value, ok = self._validate(slot, raw)
            if ok:
                self._fill(name, value, corrected)
                s.no_matches = 0  # no_match counts misses in a row
                s.note("event", f"slot {name} = {value!r}")
                continue
            if self._failure("invalid", name):
                return
            if s.asks[name] >= slot.max_asks:
                self._exhausted(slot)
                return
            s.asks[name] += 1  # the invalid message asks again
            s.tally(reprompt=1)
            self._say_invalid(slot, value)
            return
        rerun = self._rerun_target(corrected) if corrected else None
        if rerun is not None:
            self._agenda.clear()
            self._rerun(rerun, corrected)
            return
        if self._check_when():
            return
        missing = self.missing_slots()
        if missing:
            self._ask(missing[0])
        elif self.node.task is not None:
            self._respond()

    def _say_invalid(self, slot: Slot, value: Any) -> None:
        """The slot's ``invalid`` message (it reads the refused ``value``), else its prompt."""
        if slot.invalid is not None:
            self._say_template(slot.invalid, self.limits.reprompt, value=value)
        else:
            self._ask(slot, count=False)

    def _set_slot(self, name: str, value: Any) -> None:
        """``set slots.<name> = ...`` from the flow: ``null`` clears the slot (it is asked for
        again when its node needs it), anything else fills it as is."""
        s = self.state
        if value is None:
            s.slots.pop(name, None)
            s.asks.pop(name, None)
            s.filled_at.pop(name, None)
            s.note("event", f"slot {name} cleared")
            return
        if name not in s.slots:
            s.filled_at[name] = max(len(s.path) - 1, 0)
        s.slots[name] = value
        s.note("event", f"slot {name} = {value!r}")

    def _slot_declaration(self, name: str) -> Slot | None:
        """The ``collect`` declaration of slot ``name``: the current node's, else the first of
        the nodes of the same (sub-)flow (a sub-flow's slots are its own)."""
        here = self._owner(self.node.name)
        for node in (self.node, *self.agent.nodes):
            if self._owner(node.name) != here:
                continue
            for slot in node.collect:
                if slot.name == name:
                    return slot
        return None

    def _owner(self, node: str) -> str | None:
        return next((f.name for f in self.agent.subflows if f.owns(node)), None)

    def _take_params(
        self, t: IntentTransition, arguments: Mapping[str, Any], corrected: list[str]
    ) -> bool:
        """Fill the slots an intent's parameters carry, validated as the slot declares.

        A correction ("no, I meant Monday") arrives as an intent parameter: a value its slot's
        ``validate`` refuses is not accepted; the slot's ``invalid`` message is said, the
        transition is not taken, and it counts as a failure. Returns whether to take it; the
        slots whose value changed are added to ``corrected``.
        """
        s = self.state
        accepted: dict[str, Any] = {}
        for f in t.params:
            if f.name not in arguments:
                continue
            slot = self._slot_declaration(f.name)
            if slot is None:
                accepted[f.name] = self._coerce(arguments[f.name], f.type)
                continue
            value, ok = self._validate(slot, arguments[f.name])
            if not ok:
                s.note("event", f"{t.name}: {f.name} = {value!r} refused by its validation")
                if not self._failure("invalid", f.name):
                    s.tally(reprompt=1)
                    self._say_invalid(slot, value)
                return False
            accepted[f.name] = value
        for name, value in accepted.items():
            self._fill(name, value, corrected)
        return True

    def _failure(self, kind: str, what: str = "") -> bool:
        """Count a failure (``silence``, ``no_match``, ``invalid``) against the retry budgets:
        the node's ``on failures`` (this visit), then the global one (the whole call). True
        when a budget ran out and its transition was taken; that budget starts again from
        zero (a budget without target, or one leading to a node that goes on, fires again
        only after as many failures more)."""
        s = self.state
        s.failures += 1
        s.call_failures += 1
        s.note("event", f"failure: {kind}", node_failures=s.failures, call_failures=s.call_failures)
        for owner, transitions, count in (
            (self.state.node, self.node.transitions, s.failures),
            ("*", self.agent.global_transitions, s.call_failures),
        ):
            for i, t in enumerate(transitions):
                if isinstance(t, FailuresTransition) and count >= t.max:
                    s.note("event", f"retry budget of {t.max} failures spent")
                    if owner == "*":
                        s.call_failures = 0
                    else:
                        s.failures = 0
                    self._take(t, owner, transition_key(t, i), {})
                    return True
        return False

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
        s.tally(no_match=1)
        if self._failure("no_match"):
            return
        nm = self._no_match_transition()
        if nm is None:
            if s.no_matches > self.limits.max_no_match:
                self._stuck("the caller's answers matched nothing")
                return
            s.tally(reprompt=1)
            self._say_template(None, self.limits.reprompt)
            return
        owner, i, t = nm
        if s.no_matches <= t.max_retries:
            s.tally(reprompt=1)
            self._say_template(t.reprompt, self.limits.reprompt)
            return
        self._take(t, owner, transition_key(t, i), {})

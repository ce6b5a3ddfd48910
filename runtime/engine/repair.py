"""Conversation repair the engine runs itself: corrections, clarification, small talk.

A mixin of :class:`runtime.engine.engine.Engine`, using its state and machinery.

**Correction.** A caller who changes a slot already filled (an intent parameter, or
``provide_slots`` with a new value) gets it validated as the slot declares (``slots.py``);
then, when the transition that carried it names no target of its own, the engine goes back to
the earliest node visited since the slot was filled that reads it (``dsl.dependencies``): the
node is entered again, so its lines are said, its tool calls made and its conditions decided
with the new value. ``on_change keep`` (per slot, or the agent's default) only changes the
value. A transition with a target goes where it says: the designer chose.

**Clarification.** A provider that cannot tell two intents apart calls ``clarify``; the engine
asks which one the caller meant (the flow's ``on clarify`` wording, else the built-in one) and
the answer takes the chosen intent with the parameters the first words gave. Asked again right
after, it is a no-match. ``on clarify off``: the better intent is taken; ``on clarify -> node``
leaves instead.

**Small talk.** ``chitchat`` is answered briefly (``on chitchat`` wording, else the built-in
answer of its topic), then the interrupted question is asked again; it is not a failure, up to
``Limits.max_chitchat`` times a visit. ``on chitchat off``: a no-match like any other answer.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from typing import Any

from dsl.dependencies import slot_readers
from dsl.ir import Agent, ChitchatTransition, ClarifyTransition, IntentTransition, Node
from runtime.engine.limits import Limits, transition_key
from runtime.engine.state import EngineState, Taken

CLARIFY_WORDING = "Sorry, just to be sure: {first}, or {second}?"
CHITCHAT_ANSWERS: dict[str, str] = {
    "greeting": "Hello!",
    "wellbeing": "I'm well, thank you for asking.",
    "identity": "I'm an automated assistant.",
    "weather": "I can't see the weather from here, I'm afraid.",
    "other": "I'm afraid I can't help with that on this call.",
}
"""The built-in answer to each topic of small talk (the ``topic`` of a ``chitchat`` call)."""

_Handler = tuple[str, int, ClarifyTransition | ChitchatTransition]


def repair_handler(agent: Agent, node: Node, kind: type) -> _Handler | None:
    """The node's ``on clarify``/``on chitchat`` (``kind``), else the global one, else None."""
    for owner, transitions in ((node.name, node.transitions), ("*", agent.global_transitions)):
        for i, t in enumerate(transitions):
            if isinstance(t, kind):
                return owner, i, t  # type: ignore[return-value]
    return None


class Repair:
    """Corrections, clarifying questions and small talk; the state is the engine's."""

    state: EngineState
    agent: Agent
    limits: Limits
    node: Node
    _agenda: deque[tuple[str, Any]]

    # --- correction ---------------------------------------------------------------------------

    def _fill(self, name: str, value: Any, corrected: list[str]) -> None:
        """Fill slot ``name``; a different value for a filled slot is a correction."""
        s = self.state
        if name not in s.slots:
            s.filled_at[name] = max(len(s.path) - 1, 0)
        elif s.slots[name] != value:
            corrected.append(name)
            s.note("event", f"slot {name} corrected", before=str(s.slots[name]), after=str(value))
        s.slots[name] = value

    def _rerun_target(self, corrected: list[str]) -> str | None:
        """The earliest node visited since a corrected slot was filled that reads it (in the
        running (sub-)flow), for the slots whose ``on_change`` is ``rerun``."""
        s = self.state
        readers = slot_readers(self.agent)
        here = self._owner(self.node.name)
        best: int | None = None
        for name in corrected:
            slot = self._slot_declaration(name)
            policy = (slot.on_change if slot is not None else None) or self.agent.on_change
            if policy != "rerun":
                continue
            for i in range(s.filled_at.get(name, 0), len(s.path)):
                node = s.path[i]
                if name in readers.get(node, ()) and self._owner(node) == here:
                    best = i if best is None else min(best, i)
                    break
        return None if best is None else s.path[best]

    def _rerun(self, target: str, corrected: list[str]) -> None:
        """Go back to ``target`` after a correction (queued after any transition actions)."""
        self.state.note("event", f"correction of {', '.join(corrected)} re-runs {target}")
        self._agenda.append(("enter", (target, f"correction:{corrected[0]}")))

    # --- clarification ------------------------------------------------------------------------

    def _clarify(self, arguments: Mapping[str, Any], *, again: bool) -> None:
        s = self.state
        open_intents = {t.name: t for t in self.intents()}
        # From a model: anything may arrive; what is not two open intents is a no-match.
        raw = arguments.get("intents")
        raw = raw if isinstance(raw, list | tuple) else ()
        names = [n for n in dict.fromkeys(map(str, raw)) if n in open_intents]
        given = arguments.get("arguments")
        given = given if isinstance(given, Mapping) else {}
        args = {n: _mapping(given.get(n)) for n in names[:2]}
        handler = repair_handler(self.agent, self.node, ClarifyTransition)
        if len(names) < 2 or again:
            s.note("event", "clarification failed" if again else "clarify: not two open intents")
            self._no_match()
            return
        if handler is not None and handler[2].off:
            self._handled(handler)
            self._take_intent(names[0], args[names[0]])
            return
        first, second = (open_intents[n] for n in names[:2])
        wording = {"first": spoken(first), "second": spoken(second)}
        s.note("event", "clarify", intents=names[:2])
        if handler is not None and (handler[2].target is not None or handler[2].actions):
            self._leave(handler, clarify=wording)
            return
        s.clarifying = args
        self._handled(handler)
        self._say_template(
            handler[2].say if handler is not None else None,
            CLARIFY_WORDING.format(**wording),
            clarify=wording,
        )

    def _leave(self, handler: _Handler, **extra: Any) -> None:
        """Take the handler's target or actions, after its wording when it has one."""
        owner, i, t = handler
        if t.say is not None:
            self._say_template(t.say, None, **extra)
        self._take(t, owner, transition_key(t, i), {})

    def _handled(self, handler: _Handler | None) -> None:
        """Record that the flow's handler shaped the answer (for coverage), if it has one."""
        if handler is not None:
            owner, i, t = handler
            self.state.taken.append(Taken(owner, transition_key(t, i), None))

    def _take_intent(self, name: str, arguments: Mapping[str, Any]) -> None:
        found = self._node_intents[self.node.name].get(name)
        if found is not None:
            self._take(found[1], self.node.name, f"intent:{name}", arguments)
            return
        i, t = self._global_intents[name]
        self._take(t, "*", transition_key(t, i), arguments)

    # --- small talk ---------------------------------------------------------------------------

    def _chitchat(self, arguments: Mapping[str, Any]) -> None:
        s = self.state
        topic = str(arguments.get("topic") or "other")
        topic = topic if topic in CHITCHAT_ANSWERS else "other"
        handler = repair_handler(self.agent, self.node, ChitchatTransition)
        if handler is not None and handler[2].off:
            self._handled(handler)
            self._no_match()
            return
        s.chitchats += 1
        if s.chitchats > self.limits.max_chitchat:
            s.note("event", f"small talk {s.chitchats} times in this node")
            self._no_match()
            return
        s.note("event", f"chitchat: {topic}")
        answer = CHITCHAT_ANSWERS[topic]
        if handler is not None and (handler[2].target is not None or handler[2].actions):
            self._leave(handler, chitchat={"topic": topic, "answer": answer})
            return
        self._handled(handler)
        self._say_template(
            handler[2].say if handler is not None else None,
            answer,
            chitchat={"topic": topic, "answer": answer},
        )
        self._ask_again()

    def _ask_again(self) -> None:
        """The interrupted question again: the missing slot's prompt, else the node's last
        ``say`` line, else the model goes on. Not counted as an ask."""
        missing = self.missing_slots()
        if missing:
            self._ask(missing[0], count=False)
        elif self.node.say:
            self._say_template(self.node.say[-1], None)
        elif self.node.task is not None:
            self._respond()


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


_CALLER = re.compile(r"^the caller (\w+)")
_THIRD_PERSON = {"is": "are", "has": "have", "does": "do", "cannot": "cannot"}
_THEY = {"they": "you", "them": "you", "their": "your", "theirs": "yours", "themselves": "yourself"}


def spoken(intent: IntentTransition) -> str:
    """An intent as a clarifying question offers it: its description, to the caller."""
    text = (intent.description or intent.name.replace("_", " ")).rstrip(".")
    return to_caller(text[:1].lower() + text[1:])


def to_caller(description: str) -> str:
    """``the caller wants to cancel their visit`` -> ``you want to cancel your visit``."""
    m = _CALLER.match(description)
    if m is None:
        return description
    verb = m.group(1)
    verb = _THIRD_PERSON.get(verb, verb[:-1] if verb.endswith("s") else verb)
    rest = description[m.end() :].split(" ")
    for i, w in enumerate(rest):
        if i > 0 and rest[i - 1] == "and" and w.endswith("s") and not w.endswith("ss"):
            rest[i] = _THIRD_PERSON.get(w, w[:-1])  # "and wants" -> "and want"
        rest[i] = _THEY.get(rest[i], rest[i])
    return f"you {verb}{' '.join(rest)}"

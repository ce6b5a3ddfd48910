"""``LocalProvider``: the offline, deterministic ``TextProvider``.

Intents are matched by meaning (``semantic.IntentMatcher``: an offline embedding model plus the
exact rules, combined as its docstring says). One turn, in order of precedence:

1. an intent that is **sure**, i.e. exact by rule (an example said as is, a bare yes/no answer)
   or semantically ``CONFIDENT`` (a clear paraphrase), is called, with any of its parameters
   read from the text: explicit requests such as opt-out win over slot filling;
2. otherwise, in a node collecting slots, every slot whose value the text holds (read by
   ``slots.read_slot``) is reported with ``provide_slots``, unless the text is an explicit
   request (``IntentMatcher.request``: "call me back tomorrow at 10pm" is a callback request,
   not a date of birth) and no slot asked is about that request (``IntentMatcher.is_about``:
   a slot described "When to call the caller back" takes it); values the flow's ``validate`` refuses are refused by the engine,
   which says the ``invalid`` line and asks again;
3. otherwise a node tool that fits is called: ``schedule_callback`` when the text holds a date
   and time, ``knowledge_search`` when the text is a question and no intent is sure;
4. otherwise the best intent at or above ``semantic.THRESHOLD`` is called;
5. otherwise, when two intents are too close to choose, the provider asks which one the caller
   meant (once in a row; asked again, it goes on to 6);
6. otherwise, for an explicit request that nothing open at the node serves, the provider says
   it cannot do that now and the node's question stands (no slot filled, no ``no_match``);
7. otherwise ``no_match`` when the node offers it, else the node's ``say`` lines are repeated.

With no caller text (the engine asked for a turn after a tool result), the provider speaks the
result's ``message`` when it has one. It never pretends to understand: no rule, no call.
``explanation`` lists the scores (``voxflow chat --explain``).
"""

from __future__ import annotations

import re

from dsl.ir import IntentTransition
from runtime.engine.events import NO_MATCH, PROVIDE_SLOTS, TransitionCalled
from runtime.engine.turn import ProviderTurn, TurnRequest
from runtime.providers.local import model
from runtime.providers.local.scoring import Score
from runtime.providers.local.semantic import CONFIDENT, Decision, IntentMatcher
from runtime.providers.local.slots import read_datetime, read_slot

_QUESTION = re.compile(
    r"\?\s*$|^\s*(what|when|where|who|why|how|which|can|could|do|does|is|are|will)\b", re.I
)
REPEAT = "Sorry, I didn't catch that."
CLARIFY = "Sorry, just to be sure: {first}, or {second}?"
SORRY = "Sorry, I can't do that right now."


class LocalProvider:
    """Matches intents by meaning and reads slots by rule; see the module docstring."""

    def __init__(self, matcher: IntentMatcher | None = None) -> None:
        self._seq = 0
        self._matcher = matcher or _shared_matcher()

    def _id(self) -> str:
        self._seq += 1
        return f"local-{self._seq}"

    async def turn(self, request: TurnRequest) -> ProviderTurn:
        if request.intents and not model.is_loaded():
            await model.load_default()
        if request.text is None:
            result = request.tool_result
            if isinstance(result, dict) and isinstance(result.get("message"), str):
                return ProviderTurn(reply=result["message"], explanation="tool result message")
            if isinstance(result, dict) and "error" in result:
                return ProviderTurn(reply=SORRY, explanation=f"tool failed: {result['error']}")
            return ProviderTurn()
        return self.understand(request)

    def understand(self, request: TurnRequest) -> ProviderTurn:
        text = request.text or ""
        offered = {t.name for t in request.tools}
        decision = self._matcher.decide(text, request.intents)
        explanation = decision.explain()
        winner = decision.winner
        if winner is not None and _sure(decision):
            return self._intent(request, winner.intent, explanation)
        asked = self._matcher.request(text) if request.missing else None
        if asked is not None and any(
            self._matcher.is_about(f"{s.name.replace('_', ' ')} {s.description}", asked.intent)
            for s in request.missing
        ):
            asked = None  # the question is about the request itself: "when shall we call back?"
        if asked is not None:
            explanation = f"{asked.intent} request, not a value; {explanation}"
            family = self._matcher.links(request.intents).get(winner.intent) if winner else None
            if family is not None and family.request and family.name != asked.intent:
                winner = None  # one request is not weakly taken for another (callback / opt-out)
        if request.missing and PROVIDE_SLOTS in offered and asked is None:
            values = {}
            for slot in request.missing:
                if slot.type == "str":
                    # Free text can only answer the question just asked.
                    if not values and slot == request.missing[0] and text.strip():
                        values[slot.name] = text.strip()
                    break
                value = read_slot(slot.type, text, tz=request.tz, now=request.now)
                if value is not None:
                    values[slot.name] = value
            if values:
                call = TransitionCalled(PROVIDE_SLOTS, values, self._id())
                return ProviderTurn(
                    calls=(call,), explanation=f"slots read: {values}; {explanation}"
                )
        if "schedule_callback" in offered:
            at = read_datetime(text, tz=request.tz, now=request.now)
            if at is not None:
                call = TransitionCalled("schedule_callback", {"when": at.isoformat()}, self._id())
                return ProviderTurn(
                    calls=(call,), explanation=f"time read: {at.isoformat()}; {explanation}"
                )
        if "knowledge_search" in offered and _QUESTION.search(text):
            call = TransitionCalled("knowledge_search", {"query": text}, self._id())
            return ProviderTurn(
                calls=(call,), explanation=f"question -> knowledge_search; {explanation}"
            )
        if winner is not None:
            return self._intent(request, winner.intent, explanation)
        if decision.clarify is not None:
            question = _clarify(request.intents, *decision.clarify)
            last_agent = next((t for r, t in reversed(request.history) if r == "agent"), None)
            if last_agent != question:
                return ProviderTurn(reply=question, explanation=f"clarify; {explanation}")
        if asked is not None:
            # An explicit request nothing open at the node serves: say so, keep the question.
            reply = " ".join((SORRY, *request.say))
            return ProviderTurn(reply=reply, explanation=f"cannot serve; {explanation}")
        if NO_MATCH in offered:
            return ProviderTurn(
                calls=(TransitionCalled(NO_MATCH, {}, self._id()),),
                explanation=f"no match; {explanation}",
            )
        reply = " ".join(request.say) if request.say else REPEAT
        return ProviderTurn(reply=reply, explanation=f"no match, repeating; {explanation}")

    def _intent(self, request: TurnRequest, name: str, explanation: str) -> ProviderTurn:
        intent = next(i for i in request.intents if i.name == name)
        args = {}
        for f in intent.params:
            value = read_slot(f.type, request.text or "", tz=request.tz, now=request.now)
            if value is not None:
                args[f.name] = value
        call = TransitionCalled(name, args, self._id())
        return ProviderTurn(calls=(call,), explanation=explanation)


def _sure(decision: Decision) -> bool:
    winner = decision.winner
    return winner is not None and (decision.exact or winner.score >= CONFIDENT)


def _clarify(intents: tuple[IntentTransition, ...], first: Score, second: Score) -> str:
    """``Sorry, just to be sure: <first's description>, or <second's>?``"""
    described = {i.name: i.description for i in intents}

    def say(score: Score) -> str:
        text = (described.get(score.intent) or score.intent.replace("_", " ")).rstrip(".")
        return _to_caller(text[:1].lower() + text[1:])

    return CLARIFY.format(first=say(first), second=say(second))


_CALLER = re.compile(r"^the caller (\w+)")
_THIRD_PERSON = {"is": "are", "has": "have", "does": "do", "cannot": "cannot"}
_THEY = {"they": "you", "them": "you", "their": "your", "theirs": "yours", "themselves": "yourself"}


def _to_caller(description: str) -> str:
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


_MATCHER: IntentMatcher | None = None


def _shared_matcher() -> IntentMatcher:
    """One matcher per process, so every call of a flow shares its embedded examples."""
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = IntentMatcher()
    return _MATCHER

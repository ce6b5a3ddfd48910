"""``LocalProvider``: the offline, deterministic ``TextProvider``.

Intents are matched by meaning (``semantic.IntentMatcher``: an offline embedding model plus the
exact rules, combined as its docstring says). One turn, in order of precedence:

0. right after a clarifying question (``TurnRequest.clarifying``), an answer that names one
   of the two intents ("the first one", or words closer to one of them) calls it;
1. an intent that is **sure**, i.e. exact by rule (an example said as is, a bare yes/no answer)
   or semantically ``CONFIDENT`` (a clear paraphrase), is called, with any of its parameters
   read from the text: explicit requests such as opt-out win over slot filling;
1b. small talk (``chitchat.ChitchatMatcher``) that scores above every intent is reported with
   ``chitchat`` and its topic, when the node offers it;
2. otherwise, in a node collecting slots, every slot whose value the text holds (read by
   ``slots.read_slot``) is reported with ``provide_slots``, unless the text is an explicit
   request (``IntentMatcher.request``: "call me back tomorrow at 10pm" is a callback request,
   not a date of birth) and no slot asked is about that request (``IntentMatcher.is_about``:
   a slot described "When to call the caller back" takes it); values the flow's ``validate`` refuses are refused by the engine,
   which says the ``invalid`` line and asks again;
3. otherwise a node tool that fits is called: ``schedule_callback`` when the text holds a date
   and time, ``knowledge_search`` when the text is a question and no intent is sure;
4. otherwise the best intent at or above ``semantic.THRESHOLD`` is called;
5. otherwise, when two intents are too close to choose, ``clarify`` reports both (the engine
   asks the caller, ``runtime.engine.repair``); where the flow turned clarification off, the
   better one is called;
6. otherwise, for an explicit request that nothing open at the node serves, the provider says
   it cannot do that now and the node's question stands (no slot filled, no ``no_match``);
7. otherwise ``no_match`` when the node offers it, else the node's ``say`` lines are repeated.

With no caller text (the engine asked for a turn after a tool result), the provider speaks the
result's ``message`` when it has one. It never pretends to understand: no rule, no call.
``explanation`` lists the scores (``voxflow chat --explain``).
"""

from __future__ import annotations

import re

from runtime.engine.events import CHITCHAT, CLARIFY, NO_MATCH, PROVIDE_SLOTS, TransitionCalled
from runtime.engine.turn import ProviderTurn, TurnRequest
from runtime.providers.local import model
from runtime.providers.local.chitchat import ChitchatMatcher
from runtime.providers.local.semantic import CONFIDENT, Decision, IntentMatcher
from runtime.providers.local.slots import read_datetime, read_slot

_QUESTION = re.compile(
    r"\?\s*$|^\s*(what|when|where|who|why|how|which|can|could|do|does|is|are|will)\b", re.I
)
REPEAT = "Sorry, I didn't catch that."
_ORDINALS = (
    re.compile(r"\b(the )?(first|former|1st)( one)?\b", re.I),
    re.compile(r"\b(the )?(second|latter|2nd|other)( one)?\b", re.I),
)
ORDINAL_WORDS = 5
"""An answer naming "the first" or "the second" is short; in a longer one the word means
something else ("the first free day", "just a second, I need to check")."""
SORRY = "Sorry, I can't do that right now."


class LocalProvider:
    """Matches intents by meaning and reads slots by rule; see the module docstring."""

    def __init__(self, matcher: IntentMatcher | None = None) -> None:
        self._seq = 0
        self._matcher = matcher or _shared_matcher()
        # WordLlama alone, the model its threshold was chosen for (bench/README.md, third
        # session: with the paired model it answers more small talk, 3 of 23 on a wrong topic).
        self._chitchat = ChitchatMatcher(model.default_embedder)

    def _id(self) -> str:
        self._seq += 1
        return f"local-{self._seq}"

    async def turn(self, request: TurnRequest) -> ProviderTurn:
        if request.intents and not model.intent_embedder_loaded():
            await model.load_intent_embedder()
        if request.intents and self._matcher.tuning.kinds:
            # Imported here: the module also runs as set-up's fitting step (``python -m``).
            from runtime.providers.local import kinds

            if not kinds.loaded():
                await kinds.load_async()
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
        if request.clarifying:
            answer = self._answer_clarification(request)
            if answer is not None:
                return answer
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
        if CHITCHAT in offered and asked is None:
            chat = self._chitchat.match(text)
            best = decision.scores[0].score if decision.scores else 0.0
            if chat is not None and chat.score > best:
                call = TransitionCalled(CHITCHAT, {"topic": chat.topic}, self._id())
                return ProviderTurn(calls=(call,), explanation=f"{chat.explain()}; {explanation}")
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
            first, second = (s.intent for s in decision.clarify)
            if CLARIFY not in offered:
                return self._intent(request, first, f"close call, not asking; {explanation}")
            arguments = {n: self._params(request, n) for n in (first, second)}
            call = TransitionCalled(
                CLARIFY, {"intents": [first, second], "arguments": arguments}, self._id()
            )
            return ProviderTurn(calls=(call,), explanation=f"clarify; {explanation}")
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

    def _answer_clarification(self, request: TurnRequest) -> ProviderTurn | None:
        """The intent the caller chose after a clarifying question, if their words say."""
        names = request.clarifying
        text = request.text or ""
        short = len(text.split()) <= ORDINAL_WORDS
        for n, ordinal in enumerate(_ORDINALS[: len(names)]):
            if short and ordinal.search(text):
                call = TransitionCalled(names[n], {}, self._id())
                return ProviderTurn(calls=(call,), explanation=f"clarified: {ordinal.pattern}")
        candidates = [i for i in request.intents if i.name in names]
        decision = self._matcher.decide(text, candidates)
        if decision.winner is None:
            return None
        explanation = f"clarified; {decision.explain()}"
        return self._intent(request, decision.winner.intent, explanation)

    def _params(self, request: TurnRequest, name: str) -> dict:
        intent = next(i for i in request.intents if i.name == name)
        args = {}
        for f in intent.params:
            value = read_slot(f.type, request.text or "", tz=request.tz, now=request.now)
            if value is not None:
                args[f.name] = value
        return args

    def _intent(self, request: TurnRequest, name: str, explanation: str) -> ProviderTurn:
        call = TransitionCalled(name, self._params(request, name), self._id())
        return ProviderTurn(calls=(call,), explanation=explanation)


def _sure(decision: Decision) -> bool:
    winner = decision.winner
    return winner is not None and (decision.exact or winner.score >= CONFIDENT)


_MATCHER: IntentMatcher | None = None


def _shared_matcher() -> IntentMatcher:
    """One matcher per process, so every call of a flow shares its embedded examples."""
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = IntentMatcher()
    return _MATCHER

"""``LocalProvider``: the offline, deterministic ``TextProvider``.

One turn, in order of precedence:

1. a **strong intent** (score ≥ ``STRONG``, e.g. an example phrase said as is) is called, with
   any of its parameters read from the text;
2. otherwise, in a node collecting slots, every slot whose value the text holds (read by
   ``slots.read_slot``) is reported with ``provide_slots``;
3. otherwise the best intent at or above ``scoring.THRESHOLD`` is called;
4. otherwise a node tool that fits is called: ``schedule_callback`` when the text holds a date
   and time, ``knowledge_search`` when the text is a question;
5. otherwise ``no_match`` when the node offers it, else the node's ``say`` lines are repeated.

With no caller text (the engine asked for a turn after a tool result), the provider speaks the
result's ``message`` when it has one. It never pretends to understand: no rule, no call.
"""

from __future__ import annotations

import re

from runtime.engine.events import NO_MATCH, PROVIDE_SLOTS, TransitionCalled
from runtime.engine.turn import ProviderTurn, TurnRequest
from runtime.providers.local.scoring import THRESHOLD, choose
from runtime.providers.local.slots import read_datetime, read_slot

STRONG = 0.9
_QUESTION = re.compile(
    r"\?\s*$|^\s*(what|when|where|who|why|how|which|can|could|do|does|is|are|will)\b", re.I
)
REPEAT = "Sorry, I didn't catch that."
SORRY = "Sorry, I can't do that right now."


class LocalProvider:
    """Scores intents and reads slots by rule; see the module docstring for the order."""

    def __init__(self) -> None:
        self._seq = 0

    def _id(self) -> str:
        self._seq += 1
        return f"local-{self._seq}"

    async def turn(self, request: TurnRequest) -> ProviderTurn:
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
        winner, scores = choose(text, request.intents)
        explanation = "scores: " + (", ".join(s.explain() for s in scores[:4]) or "no intents")
        if winner is not None and winner.score >= STRONG:
            return self._intent(request, winner.intent, explanation)
        if request.missing and PROVIDE_SLOTS in offered:
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
        if winner is not None and winner.score >= THRESHOLD:
            return self._intent(request, winner.intent, explanation)
        if "schedule_callback" in offered:
            at = read_datetime(text, tz=request.tz, now=request.now)
            if at is not None:
                call = TransitionCalled("schedule_callback", {"when": at.isoformat()}, self._id())
                return ProviderTurn(calls=(call,), explanation=f"time read: {at.isoformat()}")
        if "knowledge_search" in offered and _QUESTION.search(text):
            call = TransitionCalled("knowledge_search", {"query": text}, self._id())
            return ProviderTurn(calls=(call,), explanation="question -> knowledge_search")
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

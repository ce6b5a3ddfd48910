"""Conversation repair (clearing a slot, a correction re-validated, cancellation) and the retry
budget across silence, no-match and invalid answers, per node and per call."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl import compile_source
from runtime.engine.events import PROVIDE_SLOTS, NodeEntered, Say, Silence, TransitionCalled
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday
SATURDAY, TUESDAY, WEDNESDAY = "2026-11-28", "2026-11-24", "2026-11-25"

SRC = """\
agent t
  persona "p"
  outcomes booked
  start ask

  global
    on cancel "The caller wants to stop booking" -> cancelled
    on failures max 5 -> human

  node ask
    collect day: date
      prompt "Which day?"
      validate weekday(value) != "sat" and weekday(value) != "sun"
      invalid "{{ value | day }} is a weekend day. Which weekday?"
      max_asks 5
    on silence 5s reprompt "Still there?" max 5 -> human
    on no_match reprompt "Which day, please?" max 5 -> human
    on failures max 3 -> human
    when slots.day != null -> confirm

  node confirm
    say "Booked for {{ slots.day | day }}."
    task "Confirm the booking."
    on yes "The caller agrees" -> done
    on change_day "The caller gives another day" -> confirm
      param day: date "the new day"
    on restart "The caller wants to choose again" -> ask
      do
        set slots.day = null
    on no_match reprompt "Is that right?" max 5 -> human
    on silence 5s reprompt "Still there?" max 5 -> human

  node done
    end booked

  node human
    say "Let me find a colleague."
    end

  node cancelled
    say "Cancelled."
    end
"""


def start():
    flow = compile_source(SRC, file="t.flow").unwrap()
    e = new_engine(flow, contact={}, call_id="c", now=NOW)
    return e, e.start()


def said(out) -> list[str]:
    return [c.text for c in out if isinstance(c, Say)]


def slot(day: str) -> TransitionCalled:
    return TransitionCalled(PROVIDE_SLOTS, {"day": day}, "fc")


def booked_tuesday():
    e, _ = start()
    e.handle(slot(TUESDAY))
    assert e.state.node == "confirm"
    return e


def test_the_invalid_message_reads_the_refused_value():
    e, _ = start()
    out = e.handle(slot(SATURDAY))
    assert said(out) == ["Saturday, November 28th is a weekend day. Which weekday?"]
    assert "day" not in e.state.slots


def test_a_correction_through_an_intent_parameter_is_validated_like_the_slot():
    e = booked_tuesday()
    out = e.handle(TransitionCalled("change_day", {"day": SATURDAY}, "fc2"))
    assert e.state.node == "confirm" and not any(isinstance(c, NodeEntered) for c in out)
    assert said(out) == ["Saturday, November 28th is a weekend day. Which weekday?"]
    assert str(e.state.slots["day"]) == TUESDAY


def test_a_valid_correction_replaces_the_slot_and_runs_the_node_again():
    e = booked_tuesday()
    out = e.handle(TransitionCalled("change_day", {"day": WEDNESDAY}, "fc2"))
    assert NodeEntered("confirm", "intent:change_day") in out
    assert said(out) == ["Booked for Wednesday, November 25th."]


def test_set_slot_to_null_clears_it_and_its_node_asks_again():
    e = booked_tuesday()
    out = e.handle(TransitionCalled("restart", {}, "fc2"))
    assert "day" not in e.state.slots and "slots.day" not in e.state.vars
    assert NodeEntered("ask", "intent:restart") in out
    assert said(out) == ["Which day?"]


def test_cancellation_from_a_question_leaves_at_once():
    e, _ = start()
    out = e.handle(TransitionCalled("cancel", {}, "fc"))
    assert NodeEntered("cancelled", "global:intent:cancel") in out
    assert said(out) == ["Cancelled."]


def test_three_failures_of_any_kind_spend_the_node_budget():
    e, _ = start()
    assert said(e.handle(Silence(6000))) == ["Still there?"]
    assert said(e.handle(TransitionCalled("no_match", {}, "fc"))) == ["Which day, please?"]
    out = e.handle(slot(SATURDAY))
    assert NodeEntered("human", "failures") in out
    assert said(out) == ["Let me find a colleague."]
    assert (e.state.failures, e.state.call_failures) == (0, 3)


def test_the_call_budget_counts_failures_across_nodes():
    e, _ = start()
    e.handle(Silence(6000))
    e.handle(TransitionCalled("no_match", {}, "fc"))
    e.handle(slot(TUESDAY))  # two failures in ask, then confirm
    assert e.state.node == "confirm" and e.state.failures == 0
    e.handle(Silence(6000))
    e.handle(TransitionCalled("no_match", {}, "fc2"))
    out = e.handle(Silence(6000))  # the call's fifth failure
    assert NodeEntered("human", "global:failures") in out


def test_a_spent_call_budget_starts_again_from_zero():
    e, _ = start()
    e.handle(Silence(6000))
    e.handle(TransitionCalled("no_match", {}, "fc"))
    e.handle(slot(TUESDAY))
    e.handle(Silence(6000))
    e.handle(TransitionCalled("no_match", {}, "fc2"))
    e.handle(Silence(6000))  # fifth: the call's budget
    assert e.state.node == "human" and e.state.call_failures == 0

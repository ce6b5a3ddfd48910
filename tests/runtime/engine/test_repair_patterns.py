"""Engine-level repair: a correction re-runs what reads the slot (or not, as the flow says),
clarification between close intents, and small talk answered without counting a failure."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl import compile_source
from runtime.engine.events import (
    CHITCHAT,
    CLARIFY,
    PROVIDE_SLOTS,
    CallTool,
    NodeEntered,
    Say,
    ToolResult,
    TransitionCalled,
)
from runtime.engine.instructions import CHITCHAT_LINE, CLARIFY_LINE, GUESS_LINE
from runtime.engine.specs import repair_offered
from runtime.engine.turn import turn_request
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday
TUESDAY, WEDNESDAY, SATURDAY = "2026-11-24", "2026-11-25", "2026-11-28"

SRC = """\
agent t
  persona "p"
  outcomes booked, cancelled
  start ask
  ON_CHANGE

  global
    on failures max 3 -> human
    GLOBAL

  node ask
    collect day: date
      prompt "Which day?"
      validate weekday(value) != "sat" and weekday(value) != "sun"
      invalid "We are closed then. Which weekday?"
      SLOT
    on book_now "The caller wants to book the first free day" -> done
      examples "the first free day", "whenever"
    on leave "The caller wants to leave" -> human
      examples "goodbye", "whenever"
    ASK
    when slots.day != null -> hold

  node hold
    call hold_slot(day = slots.day) into held
    say "{{ slots.day | day }} is held for you."
    when held.ok -> confirm

  node confirm
    say "Shall I book it?"
    on yes "The caller agrees" -> done
      examples "yes"
    on change_day "The caller gives another day"
      param day: date "the new day"
    on change_day_here "The caller gives another day and wants to hear it" -> confirm
      param day: date "the new day"

  node done
    end booked

  node human
    say "Let me find a colleague."
    end cancelled

  tool hold_slot http POST "https://example.test/hold"
    param day: date "the day"
    response ok = "ok"
"""


def engine(
    *, on_change: str = "", slot: str = "", ask: str = "", global_: str = "", start: bool = True
):
    src = (
        SRC.replace("ON_CHANGE", on_change)
        .replace("SLOT", slot)
        .replace("ASK", ask)
        .replace("GLOBAL", global_)
    )
    compiled = compile_source(src, file="t.flow")
    assert compiled.ok, [d.headline() for d in compiled.diagnostics]
    e = new_engine(compiled.flow, contact={}, call_id="c", now=NOW)
    if start:
        e.start()
    return e


def said(out) -> list[str]:
    return [c.text for c in out if isinstance(c, Say)]


def entered(out) -> list[tuple[str, str]]:
    return [(c.name, c.via) for c in out if isinstance(c, NodeEntered)]


def held(e, day: str):
    """Give ``day``; the hold tool answers ok; the call is then in ``confirm``."""
    out = e.handle(TransitionCalled(PROVIDE_SLOTS, {"day": day}, "p"))
    call = next(c for c in out if isinstance(c, CallTool))
    assert call.arguments == {"day": day}
    out += e.handle(ToolResult(call.call_id, ok=True, result={"ok": True}))
    assert e.state.node == "confirm"
    return out


# --- correction -----------------------------------------------------------------------------


def test_a_correction_without_target_goes_back_to_the_earliest_node_that_reads_the_slot():
    e = engine()
    held(e, TUESDAY)
    out = e.handle(TransitionCalled("change_day", {"day": WEDNESDAY}, "c1"))
    # ask reads slots.day (its when), so it is entered again, then hold and confirm follow.
    assert entered(out) == [("ask", "correction:day"), ("hold", "when:2")]
    call = next(c for c in out if isinstance(c, CallTool))
    assert call.name == "hold_slot" and call.arguments == {"day": WEDNESDAY}
    out = e.handle(ToolResult(call.call_id, ok=True, result={"ok": True}))
    assert said(out) == ["Wednesday, November 25th is held for you.", "Shall I book it?"]
    assert e.state.path[-3:] == ["ask", "hold", "confirm"]


def test_a_correction_with_a_target_goes_where_the_flow_says():
    e = engine()
    held(e, TUESDAY)
    out = e.handle(TransitionCalled("change_day_here", {"day": WEDNESDAY}, "c1"))
    assert entered(out) == [("confirm", "intent:change_day_here")]
    assert not any(isinstance(c, CallTool) for c in out)
    assert str(e.state.slots["day"]) == WEDNESDAY


def test_the_same_value_again_is_no_correction():
    e = engine()
    held(e, TUESDAY)
    out = e.handle(TransitionCalled("change_day", {"day": TUESDAY}, "c1"))
    assert entered(out) == [] and not any(isinstance(c, CallTool) for c in out)


def test_a_refused_correction_re_runs_nothing_and_keeps_the_value():
    e = engine()
    held(e, TUESDAY)
    out = e.handle(TransitionCalled("change_day", {"day": SATURDAY}, "c1"))
    assert entered(out) == [] and said(out) == ["We are closed then. Which weekday?"]
    assert str(e.state.slots["day"]) == TUESDAY and e.state.call_failures == 1


def test_on_change_keep_on_the_slot_only_changes_the_value():
    e = engine(slot="on_change keep")
    held(e, TUESDAY)
    out = e.handle(TransitionCalled("change_day", {"day": WEDNESDAY}, "c1"))
    assert entered(out) == [] and str(e.state.slots["day"]) == WEDNESDAY


def test_on_change_keep_for_the_agent_is_every_slots_default_and_a_slot_may_override_it():
    e = engine(on_change="on_change keep")
    held(e, TUESDAY)
    assert entered(e.handle(TransitionCalled("change_day", {"day": WEDNESDAY}, "c1"))) == []
    e = engine(on_change="on_change keep", slot="on_change rerun")
    held(e, TUESDAY)
    out = e.handle(TransitionCalled("change_day", {"day": WEDNESDAY}, "c1"))
    assert entered(out)[0] == ("ask", "correction:day")


def test_a_new_value_reported_for_a_filled_slot_is_a_correction_too():
    # The node also collects a name: after the day, it asks for the name; a model that then
    # reports another day (provide_slots) corrects it, and the node that reads it runs again.
    e = engine(slot='on_change rerun\n    collect name: str\n      prompt "Your name?"')
    assert said(e.handle(TransitionCalled(PROVIDE_SLOTS, {"day": TUESDAY}, "p"))) == ["Your name?"]
    out = e.handle(TransitionCalled(PROVIDE_SLOTS, {"day": WEDNESDAY}, "p2"))
    assert entered(out) == [("ask", "correction:day")] and said(out) == ["Your name?"]
    assert str(e.state.slots["day"]) == WEDNESDAY and e.state.asks["name"] == 1


# --- clarification ----------------------------------------------------------------------------


def clarify(*names: str, arguments=None) -> TransitionCalled:
    args = {"intents": list(names)}
    if arguments is not None:
        args["arguments"] = arguments
    return TransitionCalled(CLARIFY, args, "cl")


def test_a_close_call_is_asked_about_in_the_intents_own_words():
    e = engine()
    out = e.handle(clarify("book_now", "leave"))
    assert said(out) == [
        "Sorry, just to be sure: you want to book the first free day, or you want to leave?"
    ]
    assert e.state.node == "ask" and e.state.call_failures == 0
    assert turn_request(e, "the second", now=NOW).clarifying == ("book_now", "leave")


def test_the_answer_takes_the_chosen_intent_with_the_parameters_of_the_first_words():
    e = engine()
    held(e, TUESDAY)
    e.handle(clarify("change_day", "yes", arguments={"change_day": {"day": WEDNESDAY}}))
    out = e.handle(TransitionCalled("change_day", {}, "a"))
    assert str(e.state.slots["day"]) == WEDNESDAY
    assert entered(out)[0] == ("ask", "correction:day")
    assert e.state.clarifying == {}


def test_asked_again_right_away_a_clarification_is_a_no_match_and_a_failure():
    e = engine()
    e.handle(clarify("book_now", "leave"))
    out = e.handle(clarify("book_now", "leave"))
    assert said(out) == ["Sorry, I didn't catch that. Could you say it again?"]
    assert e.state.call_failures == 1 and e.state.clarifying == {}


def test_the_flows_wording_replaces_the_default_and_the_nodes_wins_over_the_global():
    e = engine(global_='on clarify "Global: {{ clarify.first }} / {{ clarify.second }}?"')
    assert said(e.handle(clarify("book_now", "leave"))) == [
        "Global: you want to book the first free day / you want to leave?"
    ]
    e = engine(
        global_='on clarify "Global?"', ask='on clarify "Node: {{ clarify.second }} or not?"'
    )
    assert said(e.handle(clarify("book_now", "leave"))) == ["Node: you want to leave or not?"]
    assert ("ask", "clarify") in {(t.node, t.key) for t in e.state.taken}


def test_clarification_off_takes_the_likelier_intent():
    e = engine(ask="on clarify off")
    out = e.handle(clarify("leave", "book_now"))
    assert entered(out) == [("human", "intent:leave")]


def test_clarification_with_a_target_leaves_instead_of_asking():
    e = engine(global_="on clarify -> human")
    out = e.handle(clarify("book_now", "leave"))
    assert entered(out) == [("human", "global:clarify")]


def test_a_clarification_with_a_target_says_its_wording_first():
    e = engine(global_='on clarify "Let me find someone who can tell." -> human')
    out = e.handle(clarify("book_now", "leave"))
    assert said(out) == ["Let me find someone who can tell.", "Let me find a colleague."]


def test_malformed_clarify_arguments_from_a_model_are_a_no_match_not_a_crash():
    for arguments in ({"intents": 5}, {"intents": "book_now,leave"}, {}):
        out = engine().handle(TransitionCalled(CLARIFY, arguments, "x"))
        assert said(out) == ["Sorry, I didn't catch that. Could you say it again?"]
    e = engine()
    bad = {"intents": ["book_now", "leave"], "arguments": {"book_now": "tomorrow"}}
    e.handle(TransitionCalled(CLARIFY, bad, "x"))
    assert e.state.clarifying == {"book_now": {}, "leave": {}}


def test_a_clarification_needs_two_open_intents():
    e = engine()
    out = e.handle(clarify("book_now", "nonexistent"))
    assert said(out) == ["Sorry, I didn't catch that. Could you say it again?"]


# --- small talk -------------------------------------------------------------------------------


def chat(topic: str) -> TransitionCalled:
    return TransitionCalled(CHITCHAT, {"topic": topic}, "ch")


def test_small_talk_is_answered_then_the_question_is_asked_again_and_no_failure_counts():
    e = engine()
    assert said(e.handle(chat("wellbeing"))) == ["I'm well, thank you for asking.", "Which day?"]
    assert said(e.handle(chat("identity"))) == ["I'm an automated assistant.", "Which day?"]
    assert (e.state.failures, e.state.call_failures, e.state.asks["day"]) == (0, 0, 1)


def test_small_talk_in_a_node_without_a_slot_repeats_its_last_line():
    e = engine()
    held(e, TUESDAY)
    assert said(e.handle(chat("weather"))) == [
        "I can't see the weather from here, I'm afraid.",
        "Shall I book it?",
    ]


def test_the_flows_wording_reads_the_topic_and_the_built_in_answer():
    e = engine(global_='on chitchat "{{ chitchat.answer }} ({{ chitchat.topic }}) Anyway:"')
    assert said(e.handle(chat("weather"))) == [
        "I can't see the weather from here, I'm afraid. (weather) Anyway:",
        "Which day?",
    ]
    assert said(e.handle(chat("astrology"))) == [
        "I'm afraid I can't help with that on this call. (other) Anyway:",
        "Which day?",
    ]


def test_small_talk_off_is_a_no_match_that_counts():
    e = engine(ask="on chitchat off")
    assert said(e.handle(chat("wellbeing"))) == [
        "Sorry, I didn't catch that. Could you say it again?"
    ]
    assert e.state.call_failures == 1


def test_small_talk_with_a_target_leaves():
    e = engine(ask="on chitchat -> human")
    assert entered(e.handle(chat("wellbeing"))) == [("human", "chitchat")]


def test_endless_small_talk_becomes_a_no_match_after_the_limit():
    e = engine()
    for _ in range(3):
        e.handle(chat("wellbeing"))
    assert e.state.call_failures == 0
    e.handle(chat("wellbeing"))
    assert e.state.call_failures == 1


# --- what the model is offered -----------------------------------------------------------------


def test_the_model_is_offered_clarify_and_chitchat_and_told_when_to_call_them():
    e = engine()
    session = e.session()
    names = [t.name for t in session.tools]
    assert names[-3:] == [PROVIDE_SLOTS, CLARIFY, CHITCHAT]
    assert CLARIFY_LINE in session.instructions and CHITCHAT_LINE in session.instructions


def test_turned_off_they_are_not_offered_and_the_model_is_told_to_choose():
    e = engine(global_="on clarify off\n    on chitchat off")
    session = e.session()
    names = {t.name for t in session.tools}
    assert CLARIFY not in names and CHITCHAT not in names
    assert GUESS_LINE in session.instructions and CHITCHAT_LINE not in session.instructions


def test_neither_is_offered_where_the_caller_is_asked_nothing():
    flow = engine(start=False).flow
    assert repair_offered(flow, flow.node("hold")) == (False, False)  # no intents, no slots
    assert repair_offered(flow, flow.node("confirm")) == (True, True)

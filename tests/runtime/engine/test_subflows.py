"""Sub-flows at run time: called with arguments, own slots, results bound on return, the
caller's slots kept, left by a global transition, and called from inside another sub-flow."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl import compile_source
from runtime.engine.events import PROVIDE_SLOTS, NodeEntered, Say, TransitionCalled
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

SRC = """\
agent t
  persona "p"
  context contact(birth_date: date)
  outcomes done, failed, stopped
  start greet

  global
    on stop "The caller wants to stop" -> stopped

  flow identity(birth_date: date) -> (verified: bool)
    start ask

    node ask
      collect dob: date
        prompt "Your date of birth?"
      when slots.dob == params.birth_date -> check_code
      on no_match -> nope

    node check_code
      call code(expected = '42') into c -> decide

    node decide
      when c.ok -> ok
      when not c.ok -> nope

    node ok
      return(verified = true)

    node nope
      return(verified = false)

  flow code(expected: str) -> (ok: bool)
    node ask
      collect pin: digits
        prompt "Your code?"
      when slots.pin == params.expected -> yes
      when slots.pin != params.expected -> no

    node yes
      return(ok = true)

    node no
      return(ok = false)

  node greet
    collect reason: str
      prompt "Why are you calling?"
    when slots.reason != '' -> verify

  node verify
    call identity(birth_date = contact.birth_date) into id -> after

  node after
    say "Verified: {{ id.verified }}, about {{ slots.reason }}."
    when id.verified -> yes
    when not id.verified -> no

  node yes
    end done

  node no
    end failed

  node stopped
    say "Stopped with {{ slots.reason }}."
    end stopped
"""


def start():
    flow = compile_source(SRC, file="t.flow").unwrap()
    e = new_engine(flow, contact={"birth_date": "1980-01-02"}, call_id="c", now=NOW)
    e.start()
    e.handle(TransitionCalled(PROVIDE_SLOTS, {"reason": "billing"}, "fc"))
    assert e.state.node == "identity.ask"
    return e


def give(e, **values):
    return e.handle(TransitionCalled(PROVIDE_SLOTS, values, "fc"))


def test_a_subflow_gets_its_own_slots_and_returns_its_results_to_the_caller():
    e = start()
    assert e.state.slots == {}  # the caller's reason is not the sub-flow's
    give(e, dob="1980-01-02")
    assert [f.flow for f in e.state.frames] == ["identity", "code"]
    out = give(e, pin="42")
    assert NodeEntered("identity.decide", "return:code") in out
    assert NodeEntered("after", "return:identity") in out
    assert Say("Verified: True, about billing.") in out
    assert e.state.results["id"] == {"verified": True}
    assert e.state.frames == [] and e.state.outcome == "done"


def test_a_failed_check_returns_false():
    e = start()
    give(e, dob="1999-09-09")  # no when holds: the slot is kept, the question stays
    e.handle(TransitionCalled("no_match", {}, "fc"))
    assert e.state.results["id"] == {"verified": False} and e.state.outcome == "failed"


def test_a_global_transition_leaves_the_subflow_and_restores_the_callers_slots():
    e = start()
    give(e, dob="1980-01-02")
    out = e.handle(TransitionCalled("stop", {}, "fc"))
    assert NodeEntered("stopped", "global:intent:stop") in out
    assert Say("Stopped with billing.") in out
    assert e.state.frames == [] and e.state.outcome == "stopped"


DIGRESSION = """\
agent t
  persona "p"
  outcomes done

  flow faq(question: str)
    node answer
      say "About {{ params.question }}: yes."
      on more "Another question" -> answer
      on go_on "The caller goes on"
        do
          return

  node ask
    say "Welcome."
    collect day: date
      prompt "Which day?"
      max_asks 1
    on question "The caller asks something else"
      param question: str
      do
        call faq(question = slots.question)
    when slots.day != null -> done

  node done
    end done
"""


def test_a_digression_comes_back_to_the_interrupted_question_without_its_entry():
    flow = compile_source(DIGRESSION, file="t.flow").unwrap()
    e = new_engine(flow, contact={}, call_id="c", now=NOW)
    e.start()
    out = e.handle(TransitionCalled("question", {"question": "parking"}, "fc"))
    assert NodeEntered("faq.answer", "call:faq") in out
    assert Say("About parking: yes.") in out
    out = e.handle(TransitionCalled("go_on", {}, "fc"))
    assert NodeEntered("ask", "return:faq") in out
    # The question again, not the welcome; and not counted against max_asks 1.
    assert [c.text for c in out if isinstance(c, Say)] == ["Which day?"]
    assert e.state.slots == {"question": "parking"} and e.state.visits["ask"] == 1
    give(e, day="2026-11-24")
    assert e.state.outcome == "done"


def test_a_main_flow_intent_parameter_is_not_validated_by_a_subflow_slot_of_that_name():
    src = SRC.replace(
        '    on stop "The caller wants to stop" -> stopped',
        '    on stop "The caller wants to stop" -> stopped\n'
        '    on note "The caller leaves a note" -> stopped\n'
        "      param pin: str",
    )
    flow = compile_source(src, file="t.flow").unwrap()
    e = new_engine(flow, contact={"birth_date": "1980-01-02"}, call_id="c", now=NOW)
    e.start()
    e.handle(TransitionCalled("note", {"pin": "call me"}, "fc"))
    assert e.state.slots["pin"] == "call me" and e.state.node == "stopped"


def test_a_global_digression_called_inside_itself_starts_over_instead_of_nesting():
    src = DIGRESSION.replace(
        "  node ask\n",
        '  global\n    on other "Something else"\n      param question: str\n'
        "      do\n        call faq(question = slots.question)\n\n  node ask\n",
    )
    flow = compile_source(src, file="t.flow").unwrap()
    e = new_engine(flow, contact={}, call_id="c", now=NOW)
    e.start()
    e.handle(TransitionCalled("other", {"question": "parking"}, "fc"))
    out = e.handle(TransitionCalled("other", {"question": "hours"}, "fc2"))
    assert Say("About hours: yes.") in out
    assert [f.flow for f in e.state.frames] == ["faq"]
    out = e.handle(TransitionCalled("go_on", {}, "fc3"))
    assert NodeEntered("ask", "return:faq") in out and e.state.frames == []

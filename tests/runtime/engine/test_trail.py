"""The engine's trail of node visits: what the heat map of real calls counts per visit
(no-matches, silences the node reacted to, re-prompts), one visit per ``NodeEntered``."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl import compile_source
from runtime.engine.events import NO_MATCH, PROVIDE_SLOTS, NodeEntered, Silence, TransitionCalled
from runtime.engine.state import NodeVisit
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

SRC = """\
agent t
  persona "p"
  outcomes booked
  start ask

  node ask
    collect day: date
      prompt "Which day?"
      validate weekday(value) != "sat" and weekday(value) != "sun"
      invalid "{{ value | day }} is a weekend day. Which weekday?"
      max_asks 5
    on silence 5s reprompt "Still there?" max 1 -> human
    on no_match reprompt "Which day, please?" max 5 -> human
    when slots.day != null -> confirm

  node confirm
    task "Confirm the booking."
    on yes "The caller agrees" -> done
    on no_match reprompt "Is that right?" max 1 -> human

  node done
    end booked

  node human
    say "Let me find a colleague."
    end
"""


def _engine():
    flow = compile_source(SRC, file="t.flow").unwrap()
    e = new_engine(flow, contact={}, call_id="c", now=NOW)
    entered = [c for c in e.start() if isinstance(c, NodeEntered)]
    return e, entered


def test_each_visit_counts_its_no_matches_silences_and_reprompts() -> None:
    e, entered = _engine()
    out = []
    out += e.handle(TransitionCalled(NO_MATCH, {}, "f1"))  # re-prompt
    out += e.handle(Silence(5000))  # re-prompt ("Still there?")
    out += e.handle(TransitionCalled(PROVIDE_SLOTS, {"day": "2026-11-28"}, "f2"))  # refused
    out += e.handle(TransitionCalled(PROVIDE_SLOTS, {"day": "2026-11-24"}, "f3"))  # -> confirm
    out += e.handle(TransitionCalled(NO_MATCH, {}, "f4"))  # re-prompt in confirm
    out += e.handle(TransitionCalled(NO_MATCH, {}, "f5"))  # retries spent -> human
    entered += [c for c in out if isinstance(c, NodeEntered)]

    assert e.state.trail == [
        NodeVisit("ask", "start", no_matches=1, silences=1, reprompts=3),
        NodeVisit("confirm", "when:2", no_matches=2, silences=0, reprompts=1),
        NodeVisit("human", "no_match", no_matches=0, silences=0, reprompts=0),
    ]
    # one visit per NodeEntered, in the same order: the bridge times them by index
    assert [(c.name, c.via) for c in entered] == [(v.node, v.via) for v in e.state.trail]


def test_a_silence_past_its_reprompts_counts_but_asks_nothing_again() -> None:
    e, _ = _engine()
    e.handle(Silence(5000))
    e.handle(Silence(10000))  # max 1 re-prompt: leaves for human

    ask, human = e.state.trail
    assert (ask.node, ask.silences, ask.reprompts) == ("ask", 2, 1)
    assert human.node == "human"

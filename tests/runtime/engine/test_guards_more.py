"""Outcome vocabulary, when-loops, and global silence handling."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl.ir import (
    Agent,
    EndAction,
    Expr,
    Flow,
    IntentTransition,
    Node,
    OutcomeAction,
    SetAction,
    SilenceTransition,
    Template,
    WhenTransition,
)
from runtime.engine import Engine, Limits
from runtime.engine.events import End, NodeEntered, Say, SetOutcome, Silence, TransitionCalled
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def make(nodes, **agent) -> Engine:
    flow = Flow(
        Agent(name="a", persona=Template("p"), start=nodes[0].name, nodes=tuple(nodes), **agent)
    )
    e = new_engine(flow, contact={}, call_id="c", now=NOW, limits=Limits(max_auto=5))
    e.start()
    return e


def test_outcome_outside_the_vocabulary_is_refused_and_recorded():
    e = make(
        [
            Node(
                "n",
                transitions=(
                    IntentTransition("x", "x", None, actions=(OutcomeAction("made_up"),)),
                    IntentTransition("y", "y", None, actions=(OutcomeAction("sold"),)),
                ),
            )
        ],
        outcomes=("sold",),
    )
    assert e.handle(TransitionCalled("x")) == []
    assert e.state.outcome is None
    assert any("made_up" in err for err in e.state.errors)
    assert e.handle(TransitionCalled("y")) == [SetOutcome("sold")]


def test_telephony_and_builtin_outcomes_are_always_allowed():
    e = make([Node("n", on_enter=(OutcomeAction("voicemail"), EndAction("callback")))])
    assert e.state.outcome == "callback" and e.state.ended


def test_when_conditions_bouncing_between_nodes_end_in_the_guard():
    e = new_engine(
        Flow(
            Agent(
                name="a",
                persona=Template("p"),
                start="a",
                nodes=(
                    Node("a", transitions=(WhenTransition(Expr("true"), "b"),)),
                    Node("b", transitions=(WhenTransition(Expr("true"), "a"),)),
                ),
            )
        ),
        contact={},
        call_id="c",
        now=NOW,
        limits=Limits(max_auto=5, max_visits=100),
    )
    out = e.start()
    assert len([c for c in out if isinstance(c, NodeEntered)]) <= 7
    assert out[-1] == End("unknown")
    assert isinstance(out[-2], Say)


def test_a_stay_when_fires_once_per_visit():
    e = make(
        [
            Node(
                "n",
                transitions=(
                    WhenTransition(Expr("true"), None, actions=(SetAction("vars.k", Expr("1")),)),
                    IntentTransition("noop", "noop", None),
                ),
            )
        ]
    )
    assert [t.key for t in e.state.taken] == ["when:0"]
    e.handle(TransitionCalled("noop"))
    assert [t.key for t in e.state.taken] == ["when:0", "intent:noop"]
    assert not e.state.ended


def test_global_silence_applies_in_nodes_without_their_own():
    e = make(
        [
            Node("n", transitions=(IntentTransition("x", "x", "bye"),)),
            Node("bye", on_enter=(EndAction(),)),
        ],
        global_transitions=(SilenceTransition(5000, "bye", Template("Hello?"), 1),),
    )
    assert e.handle(Silence(6000)) == [Say("Hello?")]
    assert e.handle(Silence(6000))[0] == NodeEntered("bye", "global:silence:5000")

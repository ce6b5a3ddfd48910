"""What the engine does with a successful built-in tool result the model asked for."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl.ir import Agent, Flow, IntentTransition, Node, Template
from runtime.engine import Engine
from runtime.engine.events import (
    CallTool,
    End,
    Respond,
    SetOutcome,
    ToolResult,
    Transfer,
    TransitionCalled,
)
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TOOLS = ("end_call", "transfer", "set_outcome", "opt_out", "schedule_callback", "knowledge_search")


def engine() -> Engine:
    flow = Flow(
        Agent(
            name="a",
            persona=Template("p"),
            start="talk",
            outcomes=("sold",),
            nodes=(
                Node(
                    "talk",
                    task=Template("Talk."),
                    tools=TOOLS,
                    transitions=(IntentTransition("bye", "bye", None),),
                ),
            ),
        )
    )
    e = new_engine(flow, contact={}, call_id="c", now=NOW)
    e.start()
    return e


def call(e: Engine, name: str, result: dict) -> list:
    out = e.handle(TransitionCalled(name, {}, f"fc-{name}"))
    assert out == [CallTool(f"fc-{name}", name, {})]
    return e.handle(ToolResult(f"fc-{name}", ok=True, result=result))


def test_every_builtin_is_offered_when_the_node_lists_it():
    names = {t.name for t in engine().session().tools}
    assert set(TOOLS) <= names


def test_end_call_ends_with_the_given_outcome():
    e = engine()
    assert call(e, "end_call", {"ended": True, "outcome": "sold"}) == [End("sold")]
    assert e.state.ended and e.state.outcome == "sold"


def test_end_call_without_outcome_ends_completed():
    assert call(engine(), "end_call", {"ended": True, "outcome": None})[-1] == End("completed")


def test_transfer_transfers_then_ends_transferred():
    out = call(engine(), "transfer", {"to": "+15550001111", "reason": ""})
    assert out == [SetOutcome("transferred"), Transfer("+15550001111"), End("transferred")]


def test_set_outcome_sets_it_and_lets_the_model_continue():
    e = engine()
    assert call(e, "set_outcome", {"outcome": "sold"}) == [SetOutcome("sold"), Respond()]
    assert not e.state.ended


def test_opt_out_marks_the_call_and_lets_the_model_confirm():
    e = engine()
    out = call(e, "opt_out", {"opted_out": True, "outcome": "opted_out"})
    assert out == [SetOutcome("opted_out"), Respond()]
    assert e.state.opted_out


def test_scheduled_callback_records_the_time_and_outcome():
    e = engine()
    out = call(e, "schedule_callback", {"scheduled": True, "at": "2026-11-24T15:00:00-05:00"})
    assert out == [SetOutcome("callback"), Respond()]
    assert e.state.callback_at == "2026-11-24T15:00:00-05:00"


def test_refused_callback_changes_nothing_but_asks_the_model_to_answer():
    e = engine()
    assert call(e, "schedule_callback", {"scheduled": False, "reason": "past"}) == [Respond()]
    assert e.state.callback_at is None and e.state.outcome is None


def test_knowledge_result_goes_back_to_the_model():
    assert call(engine(), "knowledge_search", {"passages": []}) == [Respond()]


def test_failed_builtin_goes_back_to_the_model_without_effect():
    e = engine()
    e.handle(TransitionCalled("transfer", {}, "fc1"))
    assert e.handle(ToolResult("fc1", ok=False, error="no transfer number")) == [Respond()]
    assert not e.state.ended

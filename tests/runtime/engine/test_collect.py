"""Slot collection, validation, re-asks, ``when`` conditions and ``set`` actions (dsl.expr)."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl.ir import (
    Agent,
    EndAction,
    Expr,
    Field,
    Flow,
    IntentTransition,
    Node,
    NoMatchTransition,
    SetAction,
    Slot,
    Template,
    WhenTransition,
)
from runtime.engine import Engine
from runtime.engine.events import (
    PROVIDE_SLOTS,
    DtmfPressed,
    End,
    NodeEntered,
    Respond,
    Say,
    TransitionCalled,
)
from tests.engines import new_engine

from .flows import counter_flow

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def order_flow(*, no_match: bool = True) -> Flow:
    count = Slot(
        "count",
        "int",
        prompt=Template("How many tickets?"),
        validate=Expr("value > 0 and value < 10"),
        invalid=Template("Between 1 and 9, please."),
        max_asks=3,
    )
    pin = Slot("pin", "digits", prompt=Template("Your PIN, then hash."))
    transitions = [WhenTransition(Expr("slots.count != null and slots.pin != null"), "done")]
    if no_match:
        transitions.append(NoMatchTransition("human"))
    return Flow(
        Agent(
            name="order",
            persona=Template("p"),
            start="order",
            fallback="human",
            context=(Field("first_name", "str"),),
            variables=(Field("total", "int", default=Expr("0")),),
            nodes=(
                Node(
                    "order",
                    say=(Template("Hello {{ contact.first_name }}."),),
                    collect=(count, pin),
                    transitions=tuple(transitions),
                ),
                Node(
                    "done",
                    on_enter=(SetAction("vars.total", Expr("slots.count * 12")),),
                    say=(Template("{{ slots.count }} tickets, {{ vars.total }} dollars."),),
                    task=Template("Confirm the order."),
                    transitions=(IntentTransition("ok", "fine", "bye"),),
                ),
                Node("human", say=(Template("Let me find a colleague."),), on_enter=(EndAction(),)),
                Node("bye", on_enter=(EndAction(),)),
            ),
        )
    )


def start(flow: Flow) -> tuple[Engine, list]:
    e = new_engine(flow, contact={"first_name": "Ann"}, call_id="c", now=NOW)
    return e, e.start()


def slots(**values) -> TransitionCalled:
    return TransitionCalled(PROVIDE_SLOTS, values, "fc")


def test_entry_renders_say_then_asks_for_the_first_missing_slot():
    _, out = start(order_flow())
    assert [c.text for c in out if isinstance(c, Say)] == ["Hello Ann.", "How many tickets?"]


def test_valid_slot_is_coerced_stored_and_the_next_missing_slot_is_asked():
    e, _ = start(order_flow())
    out = e.handle(slots(count="3"))
    assert e.state.slots["count"] == 3
    assert out == [Say("Your PIN, then hash.")]


def test_invalid_value_is_answered_with_the_invalid_message_and_not_stored():
    e, _ = start(order_flow())
    assert e.handle(slots(count="12")) == [Say("Between 1 and 9, please.")]
    assert "count" not in e.state.slots


def test_value_of_the_wrong_type_counts_as_invalid():
    e, _ = start(order_flow())
    assert e.handle(slots(count="lots")) == [Say("Between 1 and 9, please.")]


def test_max_asks_exhausted_goes_to_no_match_target():
    e, _ = start(order_flow())  # ask 1
    assert e.handle(slots(count="0")) == [Say("Between 1 and 9, please.")]  # ask 2
    assert e.handle(slots(count="0")) == [Say("Between 1 and 9, please.")]  # ask 3 = max_asks
    out = e.handle(slots(count="0"))
    assert out[0] == NodeEntered("human", "no_match")


def test_max_asks_exhausted_without_no_match_goes_to_the_fallback():
    e, _ = start(order_flow(no_match=False))
    e.handle(slots(count="0"))
    e.handle(slots(count="0"))
    out = e.handle(slots(count="0"))
    assert out[0] == NodeEntered("human", "fallback")


def test_when_fires_as_soon_as_all_slots_hold_and_set_action_reads_them():
    e, _ = start(order_flow())
    e.handle(slots(count="2"))
    out = e.handle(slots(pin="4321"))
    assert out[0] == NodeEntered("done", "when:0")
    assert e.state.vars["total"] == 24
    assert Say("2 tickets, 24 dollars.") in out
    assert Respond() not in out  # said something: no extra model turn


def test_dtmf_keys_fill_a_digits_slot_until_hash():
    e, _ = start(order_flow())
    e.handle(slots(count="2"))
    for key in "987":
        assert e.handle(DtmfPressed(key)) == []
    out = e.handle(DtmfPressed("#"))
    assert e.state.slots["pin"] == "987"
    assert out[0] == NodeEntered("done", "when:0")


def test_when_after_a_set_action_in_a_stay_transition():
    e = new_engine(counter_flow(), contact={}, call_id="c", now=NOW)
    e.start()
    assert e.handle(TransitionCalled("more")) == []
    assert e.state.vars["n"] == 1
    out = e.handle(TransitionCalled("more"))
    assert out[0] == NodeEntered("done", "when:0")
    assert out[-1] == End("completed")


def test_intent_parameters_become_typed_slots():
    flow = Flow(
        Agent(
            name="a",
            persona=Template("p"),
            start="ask",
            nodes=(
                Node(
                    "ask",
                    transitions=(
                        IntentTransition(
                            "book", "book a day", "end", params=(Field("day", "date"),)
                        ),
                    ),
                ),
                Node("end", on_enter=(EndAction(),)),
            ),
        )
    )
    e = new_engine(flow, contact={}, call_id="c", now=NOW)
    e.start()
    e.handle(TransitionCalled("book", {"day": "2026-11-25"}))
    assert e.state.slots["day"].isoformat() == "2026-11-25"


def test_contact_columns_are_coerced_to_their_declared_types():
    flow = Flow(
        Agent(
            name="a",
            persona=Template("p"),
            start="n",
            context=(Field("visits", "int"),),
            nodes=(Node("n", on_enter=(EndAction(),)),),
        )
    )
    e = new_engine(flow, contact={"visits": "4"}, call_id="c", now=NOW)
    assert e.contact["visits"] == 4


def test_session_instructions_carry_what_is_known():
    from runtime.engine.events import UpdateSession

    e, out = start(order_flow())
    first = next(c for c in out if isinstance(c, UpdateSession))
    assert "contact.first_name=Ann" in first.instructions
    assert "Collect from the caller: count (int), pin (digits)" in first.instructions
    e.handle(slots(count="2"))
    out = e.handle(slots(pin="11"))
    update = next(c for c in out if isinstance(c, UpdateSession))
    assert "slots.count=2; slots.pin=11; vars.total=0" in update.instructions

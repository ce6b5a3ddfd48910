"""The local provider's choices, and the documented scores behind them."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl.ir import Field, IntentTransition, Slot
from runtime.engine.events import NO_MATCH, PROVIDE_SLOTS, ToolSpec
from runtime.engine.turn import TurnRequest
from runtime.providers.local import LocalProvider
from runtime.providers.local.scoring import choose, score_phrase

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CONFIRM = IntentTransition("confirms", "The caller confirms", "x", examples=("yes", "that works"))
RESCHEDULE = IntentTransition(
    "reschedule",
    "The caller wants another time",
    "y",
    examples=("can we move it", "I need another time"),
    params=(Field("when", "datetime", required=False),),
)
OPT_OUT = IntentTransition("opt_out", "Do not call again", "z", examples=("stop calling me",))


def request(
    text, *, intents=(CONFIRM, RESCHEDULE, OPT_OUT), tools=(), missing=(), result=None, say=()
):
    specs = tuple(ToolSpec(n, n) for n in tools)
    return TurnRequest(
        instructions="",
        tools=specs,
        text=text,
        intents=intents,
        missing=missing,
        collect=missing,
        say=say,
        tool_result=result,
        tz="America/New_York",
        now=NOW,
    )


def test_contained_example_scores_highest_and_longer_coverage_wins():
    assert score_phrase("yes", "yes") == (1.0, "contained")
    short, _ = score_phrase("no can we move it", "no")
    long, _ = score_phrase("no can we move it", "can we move it")
    assert long > short


def test_polarity_matches_yes_words_to_a_yes_example():
    assert score_phrase("sure thing", "yes") == (0.8, "polarity")


def test_a_yes_word_further_in_the_sentence_is_not_an_answer():
    assert score_phrase("I am busy right now, call me back tomorrow", "yes")[1] != "polarity"
    assert score_phrase("I am busy right now, call me back tomorrow", "yes")[0] < 0.5
    assert score_phrase("nope, not this week", "no") == (0.8, "polarity")


def test_overlap_is_the_dice_coefficient_of_content_words():
    value, rule = score_phrase("another time would be better", "I need another time")
    assert rule == "overlap"
    # content: {anoth, time, bette} vs {need, anoth, time} -> 2*2/(3+3)
    assert value == 4 / 6


def test_nothing_above_threshold_is_no_choice():
    winner, scores = choose("the weather is lovely", [CONFIRM, RESCHEDULE])
    assert winner is None and all(s.score < 0.5 for s in scores)


async def test_intent_is_called_with_parameters_read_from_the_text():
    turn = await LocalProvider().turn(request("can we move it to tomorrow at 3pm"))
    (call,) = turn.calls
    assert call.name == "reschedule"
    assert call.arguments == {"when": "2026-11-24T15:00:00-05:00"}
    assert "reschedule=" in turn.explanation


async def test_slots_are_reported_with_provide_slots():
    missing = (Slot("count", "int"), Slot("email", "email"))
    turn = await LocalProvider().turn(
        request(
            "three, and it's ann at example dot com",
            intents=(),
            missing=missing,
            tools=(PROVIDE_SLOTS,),
        )
    )
    (call,) = turn.calls
    assert call.name == PROVIDE_SLOTS
    assert call.arguments == {"count": 3, "email": "ann@example.com"}


async def test_a_strong_global_intent_beats_slot_filling():
    missing = (Slot("note", "str"),)
    turn = await LocalProvider().turn(
        request("stop calling me", missing=missing, tools=(PROVIDE_SLOTS,))
    )
    assert turn.calls[0].name == "opt_out"


async def test_question_goes_to_knowledge_search_when_offered():
    turn = await LocalProvider().turn(
        request("where do I park?", intents=(), tools=("knowledge_search",))
    )
    assert turn.calls[0].name == "knowledge_search"
    assert turn.calls[0].arguments == {"query": "where do I park?"}


async def test_a_time_goes_to_schedule_callback_when_offered():
    turn = await LocalProvider().turn(
        request("call me friday at 10 am", intents=(), tools=("schedule_callback",))
    )
    assert turn.calls[0].arguments == {"when": "2026-11-27T10:00:00-05:00"}


async def test_no_match_when_offered_else_the_node_lines_are_repeated():
    turn = await LocalProvider().turn(request("bananas", tools=(NO_MATCH,)))
    assert turn.calls[0].name == NO_MATCH
    turn = await LocalProvider().turn(request("bananas", say=("Can you come?",)))
    assert turn.calls == () and turn.reply == "Can you come?"


async def test_after_a_tool_it_speaks_the_result_message_or_apologises():
    p = LocalProvider()
    assert (
        await p.turn(request(None, result={"message": "Parking is free."}))
    ).reply == "Parking is free."
    assert (await p.turn(request(None, result={"error": "down"}))).reply.startswith("Sorry")
    assert (await p.turn(request(None, result={"passages": []}))).reply is None


async def test_the_request_classifier_is_loaded_off_the_event_loop(monkeypatch):
    import threading

    from runtime.providers.local import kinds

    loaded_in: list[threading.Thread] = []
    real = kinds.load

    def load():
        loaded_in.append(threading.current_thread())
        return real()

    monkeypatch.setattr(kinds, "_LOADED", None)
    monkeypatch.setattr(kinds, "load", load)
    loop_thread = threading.current_thread()
    turn = await LocalProvider().turn(request("can we move it to tomorrow at 3pm"))
    assert turn.calls[0].name == "reschedule"
    assert loaded_in and loaded_in[0] is not loop_thread
    assert kinds.loaded()

"""Small talk recognised offline by the local provider, and the answer to a clarifying question:
small talk is its own outcome (``chitchat`` with a topic), never a no-match and never a request
the flow declares; "the first one" or words closer to one intent settle a clarification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dsl.ir import Field, IntentTransition, Slot
from runtime.engine.events import CHITCHAT, CLARIFY, NO_MATCH, PROVIDE_SLOTS, ToolSpec
from runtime.engine.repair import CHITCHAT_ANSWERS
from runtime.engine.turn import TurnRequest
from runtime.providers.local import LocalProvider
from runtime.providers.local.chitchat import EXAMPLES, THRESHOLD, ChitchatMatcher
from runtime.providers.local.model import default_embedder

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HUMAN = IntentTransition(
    "human",
    "The caller wants to speak to a person",
    "desk",
    examples=("a person please", "can I talk to someone", "a real person please"),
)
BOOK = IntentTransition(
    "book",
    "The caller wants to make an appointment",
    "ask_day",
    examples=("I'd like to book an appointment", "can I see a doctor"),
)
CANCEL = IntentTransition(
    "cancel_visit",
    "The caller wants to cancel an appointment they have",
    "cancel",
    examples=("cancel my appointment", "I can't make my appointment"),
)
MOVE = IntentTransition(
    "move_visit",
    "The caller wants to move an appointment they have to another day",
    "ask_day",
    examples=("move my appointment", "I can't make my appointment"),
    params=(Field("day", "date"),),
)


@pytest.fixture(scope="module")
def chitchat() -> ChitchatMatcher:
    return ChitchatMatcher(default_embedder)


def request(text, intents=(HUMAN, BOOK), *, tools=(NO_MATCH, CHITCHAT), missing=(), clarifying=()):
    return TurnRequest(
        instructions="",
        tools=tuple(ToolSpec(n, n) for n in tools),
        text=text,
        intents=intents,
        missing=missing,
        collect=missing,
        tz="Europe/London",
        now=NOW,
        clarifying=clarifying,
    )


def test_every_topic_has_an_answer_in_the_engine():
    assert set(EXAMPLES) == set(CHITCHAT_ANSWERS)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("hey how are you doing", "wellbeing"),
        ("are you even real", "identity"),
        ("is this a bot", "identity"),
        ("how's the weather over there", "weather"),
        ("what is the weather doing today", "weather"),
        ("hello?", "greeting"),
        ("tell me a joke", "other"),
    ],
)
def test_small_talk_is_recognised_with_its_topic(chitchat, text, topic):
    found = chitchat.match(text)
    assert found is not None and found.topic == topic and found.score >= THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "Tuesday",
        "yes please",
        "I'd like to book an appointment",
        "is there parking?",
        "the support is great",
        "8",
        "stop calling me",
        "call me back tomorrow at 10am",
        "no, another day",
        "blue giraffes on the moon",
        "sorry, I meant 6",
        "never mind",
        "get me a real person",  # closer to a request (NOT_SMALL_TALK) than to small talk
        "can I talk to a real person",
    ],
)
def test_answers_and_requests_are_not_small_talk(chitchat, text):
    assert chitchat.match(text) is None, chitchat.best(text)


async def test_the_provider_reports_small_talk_as_its_own_outcome():
    turn = await LocalProvider().turn(request("how are you doing today?"))
    assert [(c.name, c.arguments) for c in turn.calls] == [(CHITCHAT, {"topic": "wellbeing"})]
    assert "chitchat:wellbeing" in turn.explanation


async def test_small_talk_comes_before_a_free_text_slot():
    turn = await LocalProvider().turn(
        request(
            "are you a robot?", tools=(PROVIDE_SLOTS, CHITCHAT), missing=(Slot("reason", "str"),)
        )
    )
    assert [c.name for c in turn.calls] == [CHITCHAT]


async def test_a_request_the_flow_declares_wins_over_small_talk():
    turn = await LocalProvider().turn(request("a real person please"))
    assert [c.name for c in turn.calls] == ["human"]


async def test_where_small_talk_is_off_it_is_a_no_match():
    turn = await LocalProvider().turn(request("how are you doing today?", tools=(NO_MATCH,)))
    assert [c.name for c in turn.calls] == [NO_MATCH]


async def test_a_close_call_is_reported_with_what_the_words_gave_each_intent():
    turn = await LocalProvider().turn(
        request("I can't make my appointment", (CANCEL, MOVE), tools=(NO_MATCH, CLARIFY))
    )
    assert [c.name for c in turn.calls] == [CLARIFY]
    assert turn.calls[0].arguments["intents"] == ["cancel_visit", "move_visit"]


@pytest.mark.parametrize(
    ("answer", "chosen"),
    [
        ("the first one", "cancel_visit"),
        ("the second", "move_visit"),
        ("move it to another day please", "move_visit"),
        ("just cancel it", "cancel_visit"),
    ],
)
async def test_the_answer_to_a_clarification_names_one_of_the_two(answer, chosen):
    turn = await LocalProvider().turn(
        request(answer, (CANCEL, MOVE), clarifying=("cancel_visit", "move_visit"))
    )
    assert [c.name for c in turn.calls] == [chosen]
    if answer.startswith("the "):
        assert turn.calls[0].arguments == {}  # "one" is not a day: the first words' stand


async def test_an_ordinal_inside_a_longer_answer_is_not_a_choice():
    turn = await LocalProvider().turn(
        request(
            "just a second, I need to check my diary first",
            (CANCEL, MOVE),
            clarifying=("cancel_visit", "move_visit"),
        )
    )
    assert not turn.explanation.startswith("clarified: ")  # the ordinal rule did not decide


async def test_an_answer_that_picks_neither_is_understood_afresh():
    turn = await LocalProvider().turn(
        request(
            "a real person please", (CANCEL, MOVE, HUMAN), clarifying=("cancel_visit", "move_visit")
        )
    )
    assert [c.name for c in turn.calls] == ["human"]

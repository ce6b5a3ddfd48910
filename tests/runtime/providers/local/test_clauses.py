"""Clause-level scoring: which turns split where, which never split, and how a clause that
carries the request decides where the whole turn's mean of token vectors did not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsl import compile_file
from dsl.ir import IntentTransition
from runtime.engine.events import NO_MATCH, ToolSpec
from runtime.engine.turn import TurnRequest
from runtime.providers.local import LocalProvider
from runtime.providers.local.clauses import combine, split
from runtime.providers.local.evalset import open_intents
from runtime.providers.local.scoring import Score
from runtime.providers.local.semantic import (
    CLAUSE_DISCOUNT,
    CLAUSES,
    FIFTH_PASS,
    FIRST_PASS,
    FOURTH_PASS,
    SECOND_PASS,
    THIRD_PASS,
    IntentMatcher,
    Tuning,
)

FLOWS = Path(__file__).resolve().parents[4] / "flows"


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        # punctuation
        ("I won't be able to attend, can I rebook", ("I won't be able to attend", "can I rebook")),
        ("call me later, I'm in a shop", ("call me later", "I'm in a shop")),
        ("something came up. Can we push it back?", ("something came up", "Can we push it back")),
        ("I'm driving - ring me tonight", ("I'm driving", "ring me tonight")),
        # discourse markers, dropped from the clause they start
        ("I can't talk now because I'm driving", ("I can't talk now", "I'm driving")),
        ("I'd like to come but not on Monday", ("I'd like to come", "not on Monday")),
        ("I'm at work and then I'm out", ("I'm at work", "I'm out")),
        (
            "it's too early so could we do the afternoon",
            ("it's too early", "could we do the afternoon"),
        ),
        # a second question after a statement, with no punctuation
        (
            "I'm away that week can we find another date",
            ("I'm away that week", "can we find another date"),
        ),
        ("the line is bad could you call back", ("the line is bad", "could you call back")),
        # a new subject written with its verb, with no punctuation
        ("I haven't forgotten I'll come", ("I haven't forgotten", "I'll come")),
        ("call me later I'm in a shop", ("call me later", "I'm in a shop")),
    ],
)
def test_a_turn_splits_where_a_second_thing_is_said(text, clauses) -> None:
    assert split(text, 3) == clauses


@pytest.mark.parametrize(
    "text",
    [
        "no, not today",  # a short answer: its yes or no is the answer
        "yeah, sure, fine",
        "uh no, sorry",
        "okay but make it quick",  # a one-word piece joins the next: one clause
        "I'll be there",
        "I'm so sorry",  # "so" as an intensifier
        "I'm feeling better so cancel it",  # "so" not before a subject
        "what time can I come",  # the modal of a wh-question
        "I wonder if you could call later",  # after a subordinator
        "I think I'll come",  # a new subject after a verb of thinking
        "call me at 3 p.m. please",  # abbreviation, decimal, thousands
        "it's 10.30 on the 1,000 pound bill",
        "",
    ],
)
def test_a_turn_never_splits_inside_one_clause_or_a_short_answer(text) -> None:
    assert split(text, 3) == ()


def test_the_number_of_clauses_is_bounded_by_joining_the_shortest_neighbours() -> None:
    text = "right, ten thirty, got it, thanks a lot, I'll be there"
    assert len(split(text, 3)) == 3
    assert split(text, 3)[-1] == "I'll be there"
    assert len(split(text, 2)) == 2
    assert split(text, 1) == ()  # 1: the whole turn alone


def test_a_clause_wins_only_by_more_than_its_discount_and_is_named() -> None:
    whole = [
        Score("cancel", 0.58, "semantic", "cancel it"),
        Score("reschedule", 0.40, "semantic", "x"),
    ]
    first = [
        Score("cancel", 0.60, "semantic", "cancel it"),
        Score("reschedule", 0.30, "semantic", "y"),
    ]
    second = [
        Score("cancel", 0.20, "semantic", "z"),
        Score("reschedule", 0.70, "semantic", "move it", "nearest 0.70"),
    ]
    out = combine(whole, ["I can't make it", "can we move it"], [first, second], 0.07)
    assert out[0] == whole[0]  # 0.60 - 0.07 is below the whole turn's 0.58
    assert out[1] == Score(
        "reschedule", 0.63, "semantic", "move it", "clause 2 of 2 'can we move it': nearest 0.70"
    )


def test_a_clause_without_any_phrase_never_counts() -> None:
    whole = [Score("book", 0.0, "semantic", "")]
    out = combine(whole, ["a b", "c d"], [[Score("book", 0.5, "semantic", "")]] * 2, 0.0)
    assert out == whole


def _at(flow_file: str, node: str) -> tuple[IntentTransition, ...]:
    flow = compile_file(str(FLOWS / flow_file)).flow
    assert flow is not None
    return open_intents(flow, node)


@pytest.fixture(scope="module")
def matchers() -> tuple[IntentMatcher, IntentMatcher]:
    """The matcher now, and the same with the whole turn alone (``clauses=1``), both without
    the request classifier (``kinds.py``), which would rank some of these right by itself."""
    return IntentMatcher(tuning=Tuning(kinds=0.0)), IntentMatcher(
        tuning=Tuning(clauses=1, kinds=0.0)
    )


@pytest.mark.parametrize(
    ("flow", "node", "text", "intent"),
    [
        # the negation of the scene clause no longer counts against the request
        (
            "payment_reminder.flow",
            "explain",
            "I can't talk right now, call me back tonight",
            "callback",
        ),
        ("payment_reminder.flow", "explain", "I'm not at home, phone me this evening", "callback"),
        ("reminder.flow", "greet", "I didn't forget, I'll be there", "confirms"),
        ("reminder.flow", "greet", "I never miss these, I'll come along", "confirms"),
    ],
)
def test_the_clause_that_makes_the_request_decides(matchers, flow, node, text, intent) -> None:
    now, whole_turn = matchers
    intents = _at(flow, node)
    decision = now.decide(text, intents)
    assert decision.winner is not None and decision.winner.intent == intent
    assert decision.winner.detail.startswith("clause 2 of 2")
    before = whole_turn.decide(text, intents)
    assert before.winner is None or before.winner.intent != intent


def test_short_answers_and_one_clause_turns_score_as_before(matchers) -> None:
    now, whole_turn = matchers
    greet = _at("reminder.flow", "greet")
    for text in (
        "no, not today",
        "yes please",
        "I'll definitely be there",
        "scrap the appointment",
    ):
        assert now.scores(text, greet) == whole_turn.scores(text, greet)


def test_the_whole_turn_is_still_a_candidate(matchers) -> None:
    """A clause never lowers a score: every intent scores at least what the whole turn does."""
    now, whole_turn = matchers
    greet = _at("reminder.flow", "greet")
    text = "I'm away that week, can we find another date"
    before = {s.intent: s.score for s in whole_turn.scores(text, greet)}
    assert all(s.score >= before[s.intent] for s in now.scores(text, greet))


def test_the_defaults_score_clauses_and_one_clause_is_off() -> None:
    assert Tuning().clauses == CLAUSES >= 2 and Tuning().clause_discount == CLAUSE_DISCOUNT > 0
    assert split("call me later, I'm in a shop", 1) == ()


async def test_the_explanation_names_the_clause_that_decided() -> None:
    turn = await LocalProvider().turn(
        TurnRequest(
            instructions="",
            tools=(ToolSpec(NO_MATCH, NO_MATCH),),
            text="I can't talk right now, call me back tonight",
            intents=_at("payment_reminder.flow", "explain"),
            missing=(),
            collect=(),
            history=(),
            tz="America/New_York",
            now=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
        )
    )
    assert "callback=" in turn.explanation
    assert "clause 2 of 2 'call me back tonight'" in turn.explanation


def test_the_earlier_passes_score_the_whole_turn_alone() -> None:
    for earlier in (FIRST_PASS, SECOND_PASS, THIRD_PASS, FOURTH_PASS, FIFTH_PASS):
        assert earlier.clauses == 1
    assert FIFTH_PASS == replace(Tuning(), clauses=1, open_alignment=0.0, kinds=0.0)

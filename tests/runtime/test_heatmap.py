"""The heat map's numbers from known call paths (``runtime.heatmap``, pure), and the times the
bridge gives each visit (``runtime.call.result.timed_visits``)."""

from __future__ import annotations

import pytest

from runtime.call.result import TimedVisit, timed_visits
from runtime.engine.state import NodeVisit
from runtime.heatmap import CallTrace, heat_map


def visit(node: str, ms: int | None, nm: int = 0, sil: int = 0, rep: int = 0) -> TimedVisit:
    return TimedVisit(node, "x", 0, ms, no_matches=nm, silences=sil, reprompts=rep)


CALLS = [
    # 1: greet -> confirmed, the agent ends it
    CallTrace(
        ["greet", "confirmed"],
        [visit("greet", 4000, nm=1, rep=1), visit("confirmed", 2000)],
        "confirmed",
        "agent",
    ),
    # 2: greet -> reschedule -> greet -> confirmed (greet twice in one call)
    CallTrace(
        ["greet", "reschedule", "greet", "confirmed"],
        [
            visit("greet", 3000),
            visit("reschedule", 6000, nm=2, sil=1, rep=3),
            visit("greet", 1000),
            visit("confirmed", 1000),
        ],
        "confirmed",
        "agent",
    ),
    # 3: the caller hangs up in reschedule
    CallTrace(
        ["greet", "reschedule"],
        [visit("greet", 2000), visit("reschedule", 9000, sil=1, rep=1)],
        "hung_up",
        "caller",
    ),
    # 4: stored before migration 0008: a node path, no visits; hung_up read from the outcome
    CallTrace(["greet"], [], "hung_up", None),
    # 5: never reached a node (the AudioSocket never came)
    CallTrace([], [], "failed", None),
    # 6: the flow set an outcome, then the caller hung up at greet: still a drop-off
    CallTrace(["greet"], [visit("greet", None)], "confirmed", "caller"),
]


def test_node_visits_calls_drop_offs_rates_and_mean_time() -> None:
    heat = heat_map(CALLS)

    assert (heat.calls, heat.answered) == (6, 5)
    greet, reschedule, confirmed = (heat.node(n) for n in ("greet", "reschedule", "confirmed"))
    assert (greet.visits, greet.calls, greet.drop_offs) == (6, 5, 2)
    assert (reschedule.visits, reschedule.calls, reschedule.drop_offs) == (2, 2, 1)
    assert (confirmed.visits, confirmed.calls, confirmed.drop_offs) == (2, 2, 0)
    assert (reschedule.no_matches, reschedule.silences, reschedule.reprompts) == (2, 2, 4)
    assert (greet.no_matches, greet.reprompts) == (1, 1)
    assert reschedule.drop_off_rate == pytest.approx(1 / 2)
    assert greet.drop_off_rate == pytest.approx(2 / 5)
    assert reschedule.no_match_rate == pytest.approx(2 / 2)
    assert greet.reprompt_rate == pytest.approx(1 / 6)
    # mean over the timed visits only: greet 4000, 3000, 1000, 2000 (call 4 and 6 untimed)
    assert (greet.timed_visits, greet.mean_ms) == (4, pytest.approx(2500))
    assert reschedule.mean_ms == pytest.approx(7500)
    assert heat.node("never").visits == 0 and heat.node("never").mean_ms is None


def test_transitions_count_each_step_of_each_path_most_taken_first() -> None:
    heat = heat_map(CALLS)

    assert [(e.source, e.target, e.count) for e in heat.edges] == [
        ("greet", "confirmed", 2),  # calls 1 and 2 (after its second greet)
        ("greet", "reschedule", 2),  # calls 2 and 3; a tie reads in name order
        ("reschedule", "greet", 1),
    ]


def test_no_calls_is_an_empty_map_with_zero_rates() -> None:
    heat = heat_map([])

    assert (heat.calls, heat.answered, heat.nodes, heat.edges) == (0, 0, {}, [])
    assert heat.node("greet").drop_off_rate == 0.0


def test_visits_are_timed_from_one_entry_to_the_next_and_the_last_to_the_end() -> None:
    trail = [NodeVisit("greet", "start", 1, 0, 1), NodeVisit("confirmed", "intent:confirms")]

    assert timed_visits(trail, [15, 4015], 6000) == [
        TimedVisit("greet", "start", 15, 4000, 1, 0, 1),
        TimedVisit("confirmed", "intent:confirms", 4015, 1985, 0, 0, 0),
    ]
    # a visit the bridge saw no NodeEntered for keeps no time, and neither does the one before
    assert [v.ms for v in timed_visits(trail, [15], 6000)] == [None, None]


def test_stored_visits_read_back_and_bad_counters_read_as_zero() -> None:
    v = TimedVisit("greet", "start", 15, 4000, 1, 2, 3)

    assert TimedVisit.from_json(v.as_json()) == v
    odd = TimedVisit.from_json({"node": "greet", "ms": -5, "no_matches": "many"})
    assert (odd.via, odd.ms, odd.entered_ms, odd.no_matches) == ("", None, None, 0)

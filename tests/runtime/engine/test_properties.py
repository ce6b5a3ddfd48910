"""Any sequence of events: the engine never raises, is deterministic, and never goes silent
after it ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.engine.events import (
    NO_MATCH,
    PROVIDE_SLOTS,
    AgentSaid,
    CallerSaid,
    DtmfPressed,
    End,
    HungUp,
    ProviderFailed,
    Silence,
    SpeechFinished,
    Tick,
    ToolResult,
    TransitionCalled,
)
from tests.engines import new_engine

from .flows import reminder

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NAMES = [
    "confirms",
    "declines",
    "ok",
    "bye",
    "opt_out_request",
    "lookup",
    "knowledge_search",
    NO_MATCH,
    PROVIDE_SLOTS,
    "nonsense",
]

events = st.one_of(
    st.builds(CallerSaid, st.text(max_size=20), st.booleans()),
    st.builds(AgentSaid, st.text(max_size=20)),
    st.builds(
        TransitionCalled,
        st.sampled_from(NAMES),
        st.dictionaries(st.sampled_from(["query", "x", "to"]), st.text(max_size=5), max_size=2),
        st.sampled_from(["a", "b", ""]),
    ),
    st.builds(DtmfPressed, st.sampled_from(list("0123456789*#"))),
    st.builds(Silence, st.integers(0, 120_000)),
    st.builds(
        ToolResult,
        st.sampled_from(["a", "b", "c:t1", "c:t2", "zzz"]),
        st.booleans(),
        st.one_of(st.none(), st.fixed_dictionaries({"opted_out": st.booleans()})),
        st.one_of(st.none(), st.text(max_size=10)),
    ),
    st.builds(Tick, st.integers(0, 200).map(lambda s: NOW + timedelta(seconds=s))),
    st.just(SpeechFinished()),
    st.just(HungUp()),
    st.builds(ProviderFailed, st.text(max_size=10)),
)


def play(sequence):
    e = new_engine(reminder(), contact={"phone": "+1555"}, call_id="c", now=NOW)
    out = [e.start()]
    for event in sequence:
        was_ended = e.state.ended
        commands = e.handle(event)
        if was_ended:
            assert commands == []
        out.append(commands)
    return e, out


@settings(max_examples=150, deadline=None)
@given(st.lists(events, max_size=25))
def test_engine_never_raises_and_replays_identically(sequence):
    e1, out1 = play(sequence)
    _, out2 = play(sequence)
    assert out1 == out2
    ends = [c for batch in out1 for c in batch if isinstance(c, End)]
    assert len(ends) <= 1
    if ends:
        assert e1.state.ended and ends[0].outcome == e1.state.outcome

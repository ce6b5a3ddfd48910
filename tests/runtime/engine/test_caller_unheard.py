"""Caller words the provider could not transcribe are an event the flow answers, not silence."""

from __future__ import annotations

from datetime import UTC, datetime

from runtime.engine.events import CallerUnheard, NodeEntered, Say
from tests.engines import new_engine

from .flows import reminder

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_unheard_caller_is_re_prompted_then_takes_the_no_match_transition():
    e = new_engine(reminder(), contact={"phone": "+15550100"}, call_id="c1", now=NOW)
    e.start()
    first = e.handle(CallerUnheard("transcription failed: audio_unintelligible"))
    assert [c.text for c in first if isinstance(c, Say)] == ["Please say yes or no."]
    assert e.state.turns == 1
    assert {"reason": "transcription failed: audio_unintelligible"} in [
        t.get("data") for t in e.state.transcript
    ]
    assert e.handle(CallerUnheard())[0] == NodeEntered("goodbye", "no_match")

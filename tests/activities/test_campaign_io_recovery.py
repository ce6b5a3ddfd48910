"""What ``recover_attempt`` makes of what PostgreSQL stored about a lost attempt."""

from __future__ import annotations

import pytest

from activities.campaign_io import recovered_outcome
from runtime.db.attempts import AttemptFacts


@pytest.mark.parametrize(
    ("lost", "facts", "outcome"),
    [
        ("dial", AttemptFacts(None, None, None), None),
        ("dial", AttemptFacts(False, "no_answer", None), "no_answer"),
        ("dial", AttemptFacts(False, None, None), "failed"),
        ("dial", AttemptFacts(True, "machine", None), "machine"),
        ("dial", AttemptFacts(True, None, None), None),  # a person answered; then what?
        ("dial", AttemptFacts(True, None, "confirmed"), "confirmed"),
        ("converse", AttemptFacts(True, None, None), None),  # the call never ended cleanly
        ("converse", AttemptFacts(True, None, "rescheduled"), "rescheduled"),
    ],
)
def test_only_what_was_stored_replaces_unknown(lost, facts, outcome) -> None:
    assert recovered_outcome(lost, facts).outcome == outcome

"""A test call's "call now" never reaches a campaign's contacts: only a contact without a
campaign (a test call), and only its first attempt, dials outside the windows."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import AttemptRecord


def _workflow(campaign_workflow_id: str | None, attempts: int) -> ContactWorkflow:
    wf = ContactWorkflow.__new__(ContactWorkflow)
    wf._in = SimpleNamespace(
        campaign_workflow_id=campaign_workflow_id, window_override="call now by operator"
    )
    wf._attempts = [
        AttemptRecord(f"a{i}", i + 1, datetime(2026, 12, 7, tzinfo=UTC)) for i in range(attempts)
    ]
    return wf


@pytest.mark.parametrize(
    ("campaign", "attempts", "override"),
    [
        (None, 0, "call now by operator"),  # a test call's first attempt
        (None, 1, None),  # never a second one
        ("campaign/november", 0, None),  # never a campaign's contact
    ],
)
def test_only_a_test_calls_first_attempt_overrides_the_windows(
    campaign: str | None, attempts: int, override: str | None
) -> None:
    assert _workflow(campaign, attempts)._window_override() == override

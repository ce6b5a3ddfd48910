"""Recorded histories (committed JSON) replay on today's workflow code without divergence.

Regenerate after an intended change of workflow logic with
``VOXFLOW_RECORD_HISTORIES=1 pytest tests/workflows/test_campaign_week.py`` (and version the
change with ``workflow.patched`` if old executions may still be running).

``campaign_terminated-contact`` was recorded on the Temporal dev server with the campaign
workflow of main 2959b4b, before the ``settle-closed-contacts`` patch: contact ``k0`` is
terminated mid-call, so the run's history holds a child that closed without reporting and no
``settle_closed_contact`` local activity. It replays only because that activity is guarded by
the patch (tests/workflows/test_closed_contacts.py records and replays one with it).

``campaign_handed-over-terminated`` was recorded on the Temporal dev server with the workflows
of main 78b65a1, before the ``check-handed-over-contacts`` patch: the campaign continued as
new, so its last run holds contacts ``k0`` and ``k1`` that the first run started; ``k0`` is
terminated while it sleeps until its retry, then the campaign is stopped: the run signals
``stop`` to ``k0`` (it fails) and waits for it forever. It replays only because the periodic
check is guarded by the patch: without the guard its timer meets that signal's event, a
nondeterminism error (tests/workflows/test_handed_over_contacts.py records and replays runs
with it).

``campaign_hand-over-unseen`` was recorded on the Temporal dev server with the workflows of
main 6411952, before the ``settle-unseen-closes`` patch, by
tests/workflows/test_hand_over_unseen.py (``VOXFLOW_RECORD_HISTORIES=1``): contact ``c000`` is
terminated mid-call while settling it fails (a PostgreSQL outage), the run continues as new,
its hand-over wait times out and counts ``c000`` ``workflow_gone``, then it continues as new.
It replays only because asking Temporal how ``c000`` ended is guarded by the patch: without the
guard its local activity meets the continue-as-new event, a nondeterminism error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.inbound import InboundCallWorkflow
from runtime.workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _read(path: Path) -> str:
    return path.read_text()


def test_histories_are_committed() -> None:
    names = {path.stem for path in HISTORIES}
    assert {
        "campaign_week",
        "campaign_week_ny-noanswer",
        "campaign_week_paris-callback",
        "campaign_terminated-contact",
        "campaign_handed-over-terminated",
        "campaign_hand-over-unseen",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem.replace("_", "/"), _read(path))
    replayer = Replayer(
        workflows=[CampaignWorkflow, ContactWorkflow, InboundCallWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None

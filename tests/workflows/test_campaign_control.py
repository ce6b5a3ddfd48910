"""Operator control of a running campaign: pacing update (validated), pause, stop."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule, Pacing
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    CampaignInput,
    CampaignPlan,
    ContactRef,
)
from tests.workflows.scripted import Recorder, campaign_workers

# Open one minute a week (Monday 09:00 in Paris): the contacts wait durably for it.
NEVER_NOW = (CallingWindow(days=(1,), start="09:00", end="09:01"),)


def plan() -> CampaignPlan:
    campaign = Campaign(
        name="ctl",
        contacts=ContactsSource(kind="csv", location="x.csv"),
        windows=NEVER_NOW,
        rules=(OutcomeRule("busy", "final"),),
        pacing=Pacing(max_concurrent=2),
    )
    return CampaignPlan("ctl", "sha256:ctl", campaign)


async def until(predicate, handle) -> object:
    for _ in range(200):
        progress = await handle.query(CampaignWorkflow.progress)
        if predicate(progress):
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"campaign never reached the state; last {progress}")


async def test_pacing_update_is_validated_and_pause_and_stop_end_waiting_contacts(
    env: WorkflowEnvironment,
) -> None:
    contacts = [ContactRef(f"k{i}", f"+3315555000{i}", "Europe/Paris") for i in range(3)]
    recorder = Recorder(contacts, {})
    async with campaign_workers(env.client, recorder, recorder.call_activities()):
        handle = await env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(plan(), page_size=2, max_live=10),
            id="campaign/ctl",
            task_queue=SHARED_TASK_QUEUE,
        )
        await until(lambda p: p.dispatched == 3 and p.scheduled == 3, handle)

        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            await handle.execute_update(
                CampaignWorkflow.set_pacing, Pacing(max_concurrent=0, ramp_every_ms=10)
            )
        message = str(rejected.value.cause)
        assert "max_concurrent" in message and "ramp_every_ms" in message
        faster = Pacing(max_concurrent=7, per_minute=30)
        assert await handle.execute_update(CampaignWorkflow.set_pacing, faster) == faster

        await handle.signal(CampaignWorkflow.pause)
        progress = await until(lambda p: p.paused, handle)
        assert progress.pacing == faster
        assert len(progress.next_attempts) == 3  # each waiting contact shows its next time

        await handle.signal(CampaignWorkflow.stop)
        result = await handle.result()

    assert (result.dispatched, result.finished, result.stopped) == (3, 3, 3)
    assert recorder.dials == []
    stopped = {s.contact_id for s in recorder.states if s.status == "stopped"}
    assert stopped == {"k0", "k1", "k2"}

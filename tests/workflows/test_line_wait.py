"""A dial refused for want of a line (``NoLineFree``) costs nothing and claims again
``LINE_RECHECK`` later; a tenant's contacts run under its own workflow ids."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule
from runtime.workflows import search
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import LINE_RECHECK
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignInput, CampaignPlan, ContactRef
from tests.workflows.scripted import Recorder, Step, campaign_workers

ALWAYS = (CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),)


async def test_no_line_waits_a_recheck_and_does_not_count_as_an_attempt(
    env: WorkflowEnvironment,
) -> None:
    people = [ContactRef("waits", "+33155550100", "Europe/Paris")]
    campaign = Campaign(
        name="lines",
        contacts=ContactsSource(kind="csv", location="x.csv"),
        windows=ALWAYS,
        rules=(OutcomeRule("confirmed", "final"),),
        max_attempts=1,
    )
    scripts = {"waits": [Step("no_line"), Step("no_line"), Step("answer")]}
    recorder = Recorder(people, scripts, page_size=10)
    plan = CampaignPlan("lines", "sha256:lines", campaign, tenant="acme")
    async with campaign_workers(env.client, recorder, recorder.call_activities()):
        handle = await env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(plan, page_size=10),
            id=search.campaign_workflow_id("lines", "acme"),
            task_queue=SHARED_TASK_QUEUE,
        )
        result = await handle.result()

    assert result.outcomes == {"confirmed": 1}  # max_attempts 1: the refusals were free
    first, second = (r.at for r in recorder.refusals)
    (dial,) = recorder.dials
    assert LINE_RECHECK <= second - first < LINE_RECHECK + timedelta(seconds=2)
    assert LINE_RECHECK <= dial.at - second < LINE_RECHECK + timedelta(seconds=2)
    assert [(e.outcome, e.action) for e in recorder.ends] == [
        ("not_dialled", "line"),
        ("not_dialled", "line"),
        ("confirmed", "final"),
    ]
    assert dial.workflow_id == "tenant/acme/campaign/lines/waits"

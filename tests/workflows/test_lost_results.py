"""An attempt whose dial or converse result is lost (a worker or Temporal went down) takes
what PostgreSQL stored of it, and otherwise follows the flow's ``on unknown`` rule."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.messages import SHARED_TASK_QUEUE, CampaignInput, CampaignPlan, ContactRef
from tests.workflows.scripted import Recorder, Step, campaign_workers

ALWAYS = (CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),)
RULES = (
    OutcomeRule("no_answer", "retry", delay_ms=60_000, max_attempts=1),
    # The rule the operator wrote: one more attempt after a lost result.
    OutcomeRule("unknown", "retry", delay_ms=60_000, max_attempts=1),
    OutcomeRule("confirmed", "final"),
)


async def run(env: WorkflowEnvironment, scripts: dict[str, list[Step]]) -> Recorder:
    people = [ContactRef(cid, f"+3315555010{i}", "Europe/Paris") for i, cid in enumerate(scripts)]
    campaign = Campaign(
        name="lost",
        contacts=ContactsSource(kind="csv", location="x.csv"),
        windows=ALWAYS,
        rules=RULES,
    )
    recorder = Recorder(people, scripts, page_size=10)
    async with campaign_workers(env.client, recorder, recorder.call_activities()):
        handle = await env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(CampaignPlan("lost", "sha256:lost", campaign), page_size=10),
            id="campaign/lost",
            task_queue=SHARED_TASK_QUEUE,
        )
        await handle.result()
    return recorder


def outcomes_of(recorder: Recorder, contact: str) -> list[tuple[str, str]]:
    attempts = {d.attempt_id for d in recorder.dials_of(contact)}
    return [(e.outcome, e.action) for e in recorder.ends if e.attempt_id in attempts]


async def test_a_lost_dial_result_is_what_the_pbx_answered(env: WorkflowEnvironment) -> None:
    recorder = await run(env, {"pbx-said": [Step("crash", stored="no_answer"), Step("answer")]})

    assert outcomes_of(recorder, "pbx-said") == [("no_answer", "retry"), ("confirmed", "final")]


async def test_a_result_nobody_stored_is_unknown_and_max_1_retries_it_once(
    env: WorkflowEnvironment,
) -> None:
    recorder = await run(env, {"lost": [Step("crash"), Step("crash"), Step("answer")]})

    assert outcomes_of(recorder, "lost") == [("unknown", "retry"), ("unknown", "final")]
    assert [kind for kind, _ in recorder.events].count("recovered") == 2

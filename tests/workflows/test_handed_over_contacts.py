"""A contact started by an earlier campaign run (handed over when the campaign continued as new)
that is terminated while it sleeps is noticed by the run holding it: the campaign finishes with
that contact settled, and no attempt is dialled twice. Temporal dev server (it tells a
terminated workflow's status as Temporal would), the real PostgreSQL campaign activities, and
the histories replay on today's code."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import asyncpg
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from activities.campaign_io import CampaignIO
from activities.contact_watch import closed_without_report
from dsl.compiler import load_flow
from dsl.ir import Campaign, ContactsSource, OutcomeRule, Pacing
from runtime.db import attempts, campaigns, contacts, flows
from runtime.workflows import search
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    ActivityName,
    CampaignInput,
    CampaignPlan,
    CampaignProgress,
    CampaignResult,
    ClosedOutcome,
    DialInput,
    DialOutcome,
    WorkerRoute,
)
from runtime.workflows.sandbox import workflow_runner
from tests.db.conftest import REMINDER
from tests.db.test_repositories import _contact
from tests.workflows.scripted import CALL_QUEUE
from tests.workflows.test_campaign_slots import ALWAYS, until
from tests.workflows.test_closed_contacts import _contact_row, dev_client  # noqa: F401

NAME = "handed-over"
SLEEPER, RETRIED = "c000", "c001"


def _plan() -> CampaignPlan:
    campaign = Campaign(
        name=NAME,
        contacts=ContactsSource(kind="csv", location="x.csv"),
        windows=ALWAYS,
        rules=(
            OutcomeRule("busy", "retry", delay_ms=3_600_000, max_attempts=2),  # sleeps an hour
            OutcomeRule("failed", "retry", delay_ms=2_000, max_attempts=1),
            OutcomeRule("no_answer", "final"),
        ),
        pacing=Pacing(max_concurrent=2),
    )
    return CampaignPlan(NAME, f"sha256:{NAME}", campaign)


async def _runs(client: Client, workflow_id: str) -> list[str]:
    return [w.run_id async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]


async def test_a_handed_over_contact_terminated_while_it_sleeps_is_settled(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    flow = load_flow(REMINDER)
    await flows.save_flow(pg_pool, flow)
    await campaigns.create_campaign(pg_pool, NAME, flow.hash)
    await contacts.store_contacts(pg_pool, NAME, [_contact(0), _contact(1)])
    await campaigns.set_status(pg_pool, NAME, "running")
    dialled: list[DialInput] = []

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        dialled.append(arg)
        if arg.contact_id == SLEEPER:
            return DialOutcome(arg.attempt_id, False, "busy")
        tries = sum(1 for d in dialled if d.contact_id == RETRIED)
        return DialOutcome(arg.attempt_id, False, "failed" if tries == 1 else "no_answer")

    io = CampaignIO(pg_pool, WorkerRoute(CALL_QUEUE, "127.0.0.1:9092"))
    sleeper_id = search.contact_workflow_id(NAME, SLEEPER)
    async with (
        Worker(
            dev_client,
            task_queue=SHARED_TASK_QUEUE,
            workflows=[CampaignWorkflow, ContactWorkflow],
            activities=io.activities(),
            workflow_runner=workflow_runner(),
        ),
        Worker(dev_client, task_queue=CALL_QUEUE, activities=[dial]),
    ):
        started = await dev_client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                _plan(),
                page_size=10,
                max_live=100,
                history_limit=12,  # continue as new at once: both contacts are handed over
                closed_check_every=timedelta(seconds=1),
            ),
            id=search.campaign_workflow_id(NAME),
            task_queue=SHARED_TASK_QUEUE,
        )
        latest = dev_client.get_workflow_handle_for(CampaignWorkflow.run, started.id)
        handle: WorkflowHandle[CampaignWorkflow, CampaignResult] = latest

        def sleeping(p: CampaignProgress) -> bool:
            return p.finished == 1 and sleeper_id in p.next_attempts

        await until(handle, sleeping)
        assert (await _contact_row(pg_pool, NAME, SLEEPER))[0] == "scheduled"
        holder = (await handle.describe()).run_id
        assert holder != started.first_execution_run_id  # the sleeper was handed over
        # Settled by its own report, by signal, in a later run than the one that started it.
        assert await _contact_row(pg_pool, NAME, RETRIED) == ("final", "no_answer")

        await dev_client.get_workflow_handle(sleeper_id).terminate(reason="operator ended it")
        await until(handle, lambda p: p.finished == 2)  # the checker's period is 1 s here
        result = await handle.result()

        runs = await _runs(dev_client, started.id)
        histories = [
            await dev_client.get_workflow_handle(started.id, run_id=run).fetch_history()
            for run in runs
        ]

    assert result.outcomes == {ClosedOutcome.TERMINATED: 1, "no_answer": 1}
    assert result.finished == 2 and result.dispatched == 2
    assert await _contact_row(pg_pool, NAME, SLEEPER) == ("final", ClosedOutcome.TERMINATED)
    assert (await campaigns.get_campaign(pg_pool, NAME)).status == "finished"
    # No attempt dialled twice; the sleeper never dialled again after it was terminated.
    assert len({d.attempt_id for d in dialled}) == len(dialled)
    assert Counter(d.contact_id for d in dialled) == {SLEEPER: 1, RETRIED: 2}
    [attempt] = await attempts.attempts_of(pg_pool, NAME, SLEEPER)
    assert (attempt.status, attempt.outcome) == ("finished", "busy")  # it slept: not aborted

    replayer = Replayer(
        workflows=[CampaignWorkflow, ContactWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    assert len(histories) >= 2
    for history in histories:
        replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None


async def test_describing_answers_only_workflows_that_closed_without_completing(
    dev_client: Client,  # noqa: F811
) -> None:
    gone = await closed_without_report(dev_client, "campaign/nobody/c404")
    assert gone is not None and gone.outcome == ClosedOutcome.GONE

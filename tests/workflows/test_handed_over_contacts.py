"""A contact started by an earlier campaign run (handed over when the campaign continued as new)
that is terminated while it sleeps is noticed by the run holding it: the campaign finishes with
that contact settled, and no attempt is dialled twice. Temporal dev server (it tells a
terminated workflow's status as Temporal would), the real PostgreSQL campaign activities, and
the histories replay on today's code."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from activities.campaign_io import CampaignIO
from activities.contact_watch import describe_contacts, how_it_ended
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
    CampaignResult,
    ClosedOutcome,
    ClosedWorkflow,
    CompletedWorkflow,
    ContactResult,
    DialInput,
    DialOutcome,
    HandedOverCheck,
    HandedOverStatus,
    WorkerRoute,
)
from runtime.workflows.sandbox import workflow_runner
from tests.db.conftest import REMINDER
from tests.db.test_repositories import _contact
from tests.workflows.scripted import CALL_QUEUE
from tests.workflows.test_campaign_slots import ALWAYS, until
from tests.workflows.test_closed_contacts import _contact_row, dev_client  # noqa: F401

SLEEPER, RETRIED = "c000", "c001"


def _plan(name: str, max_concurrent: int) -> CampaignPlan:
    campaign = Campaign(
        name=name,
        contacts=ContactsSource(kind="csv", location="x.csv"),
        windows=ALWAYS,
        rules=(
            OutcomeRule("busy", "retry", delay_ms=3_600_000, max_attempts=2),  # sleeps an hour
            OutcomeRule("failed", "retry", delay_ms=2_000, max_attempts=1),
            OutcomeRule("no_answer", "final"),
        ),
        pacing=Pacing(max_concurrent=max_concurrent),
    )
    return CampaignPlan(name, f"sha256:{name}", campaign)


async def _runs(client: Client, workflow_id: str) -> list[str]:
    return [w.run_id async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]


@dataclass
class Running:
    started: WorkflowHandle[CampaignWorkflow, CampaignResult]
    latest: WorkflowHandle[CampaignWorkflow, CampaignResult]
    """The campaign's current run, whichever it is."""
    dialled: list[DialInput]


@asynccontextmanager
async def _campaign(
    client: Client,
    pool: asyncpg.Pool,
    name: str,
    outcomes: Callable[[DialInput, int], Awaitable[str]],
    *,
    max_concurrent: int = 2,
    check_every: timedelta = timedelta(seconds=1),
) -> AsyncIterator[Running]:
    """Campaign ``name`` over contacts c000 and c001 on real workers and PostgreSQL; the PBX
    answers ``outcomes(dial, its try)``. Its first run continues as new at once, so the
    contacts it started are handed over to later runs, which check them every
    ``check_every``."""
    flow = load_flow(REMINDER)
    await flows.save_flow(pool, flow)
    await campaigns.create_campaign(pool, name, flow.hash)
    await contacts.store_contacts(pool, name, [_contact(0), _contact(1)])
    await campaigns.set_status(pool, name, "running")
    dialled: list[DialInput] = []

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        dialled.append(arg)
        tries = sum(1 for d in dialled if d.contact_id == arg.contact_id)
        return DialOutcome(arg.attempt_id, False, await outcomes(arg, tries))

    io = CampaignIO(pool, WorkerRoute(CALL_QUEUE, "127.0.0.1:9092"))
    async with (
        Worker(
            client,
            task_queue=SHARED_TASK_QUEUE,
            workflows=[CampaignWorkflow, ContactWorkflow],
            activities=io.activities(),
            workflow_runner=workflow_runner(),
        ),
        Worker(client, task_queue=CALL_QUEUE, activities=[dial]),
    ):
        started = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                _plan(name, max_concurrent),
                page_size=10,
                max_live=100,
                history_limit=12,
                closed_check_every=check_every,
            ),
            id=search.campaign_workflow_id(name),
            task_queue=SHARED_TASK_QUEUE,
        )
        latest = client.get_workflow_handle_for(CampaignWorkflow.run, started.id)
        yield Running(started, latest, dialled)


async def _continued(run: Running) -> None:
    """Until the campaign runs in a later run than the one that started the contacts."""
    for _ in range(300):
        if (await run.latest.describe()).run_id != run.started.first_execution_run_id:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the campaign never continued as new")


async def _handed_over_and_asleep(run: Running, name: str, pool: asyncpg.Pool) -> None:
    sleeper = search.contact_workflow_id(name, SLEEPER)
    await until(run.latest, lambda p: sleeper in p.next_attempts)
    assert (await _contact_row(pool, name, SLEEPER))[0] == "scheduled"
    await _continued(run)  # so a later run than the one that started it holds it


async def _replays(client: Client, workflow_id: str) -> None:
    """Every run of the campaign replays on today's code."""
    replayer = Replayer(
        workflows=[CampaignWorkflow, ContactWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    runs = await _runs(client, workflow_id)
    assert len(runs) >= 2
    for run in runs:
        history = await client.get_workflow_handle(workflow_id, run_id=run).fetch_history()
        replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None


async def test_a_handed_over_contact_terminated_while_it_sleeps_is_settled(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    name = "handed-over"

    async def outcomes(dial: DialInput, tries: int) -> str:
        if dial.contact_id == SLEEPER:
            return "busy"  # retried in an hour
        return "failed" if tries == 1 else "no_answer"  # retried in 2 s, then final

    async with _campaign(dev_client, pg_pool, name, outcomes) as run:
        await until(run.latest, lambda p: p.finished == 1)
        await _handed_over_and_asleep(run, name, pg_pool)
        # Settled by its own report, by signal, in a later run than the one that started it.
        assert await _contact_row(pg_pool, name, RETRIED) == ("final", "no_answer")

        sleeper = dev_client.get_workflow_handle(search.contact_workflow_id(name, SLEEPER))
        await sleeper.terminate(reason="operator ended it")
        await until(run.latest, lambda p: p.finished == 2)  # the check's period is 1 s here
        result = await run.latest.result()
        await _replays(dev_client, run.started.id)

    assert result.outcomes == {ClosedOutcome.TERMINATED: 1, "no_answer": 1}
    assert result.finished == 2 and result.dispatched == 2
    assert await _contact_row(pg_pool, name, SLEEPER) == ("final", ClosedOutcome.TERMINATED)
    assert (await campaigns.get_campaign(pg_pool, name)).status == "finished"
    # No attempt dialled twice; the sleeper never dialled again after it was terminated.
    assert len({d.attempt_id for d in run.dialled}) == len(run.dialled)
    assert Counter(d.contact_id for d in run.dialled) == {SLEEPER: 1, RETRIED: 2}
    [attempt] = await attempts.attempts_of(pg_pool, name, SLEEPER)
    assert (attempt.status, attempt.outcome) == ("finished", "busy")  # it slept: not aborted


async def test_a_stopped_campaign_ends_though_a_handed_over_contact_was_terminated(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    """The stop signal cannot reach the terminated contact, which never reports ``stopped``:
    before the check, the campaign waited for it forever (the recorded history
    ``campaign_handed-over-terminated``)."""
    name = "handed-over-stop"

    async def busy(dial: DialInput, tries: int) -> str:
        return "busy"

    async with _campaign(dev_client, pg_pool, name, busy) as run:
        await until(run.latest, lambda p: len(p.next_attempts) == 2)
        await _handed_over_and_asleep(run, name, pg_pool)

        sleeper = dev_client.get_workflow_handle(search.contact_workflow_id(name, SLEEPER))
        await sleeper.terminate(reason="operator ended it")
        await run.latest.signal(CampaignWorkflow.stop)
        await until(run.latest, lambda p: p.finished == 2)
        result = await run.latest.result()
        await _replays(dev_client, run.started.id)

    assert result.outcomes == {ClosedOutcome.TERMINATED: 1} and result.stopped == 1
    assert await _contact_row(pg_pool, name, SLEEPER) == ("final", ClosedOutcome.TERMINATED)
    assert (await _contact_row(pg_pool, name, RETRIED))[0] == "stopped"
    assert (await campaigns.get_campaign(pg_pool, name)).status == "stopped"
    assert Counter(d.contact_id for d in run.dialled) == {SLEEPER: 1, RETRIED: 1}


async def test_a_dial_slot_granted_to_a_terminated_handed_over_contact_settles_it(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    """One slot: c000 (started by the first run) waits for it behind c001's call and is
    terminated meanwhile. The slot granted to it when the call ends cannot reach it; the run
    settles it then, row and all, long before its periodic check (an hour here)."""
    name = "handed-over-grant"
    release = asyncio.Event()

    async def outcomes(dial: DialInput, tries: int) -> str:
        if dial.contact_id == SLEEPER:
            return "failed"  # retried in 2 s: it asks for the slot c001 holds
        while not release.is_set():  # c001's call lasts until the test ends it
            activity.heartbeat()
            await asyncio.sleep(0.05)
        return "no_answer"

    async with _campaign(
        dev_client, pg_pool, name, outcomes, max_concurrent=1, check_every=timedelta(hours=1)
    ) as run:
        # c000 dialled once and asks for the slot again; c001 (started with it) is in its call.
        await until(run.latest, lambda p: len(run.dialled) == 2 and p.waiting_slot == 1)
        assert [d.contact_id for d in run.dialled] == [SLEEPER, RETRIED]
        await _continued(run)

        sleeper = dev_client.get_workflow_handle(search.contact_workflow_id(name, SLEEPER))
        await sleeper.terminate(reason="operator ended it")
        release.set()
        await until(run.latest, lambda p: p.finished == 2)
        result = await run.latest.result()
        await _replays(dev_client, run.started.id)

    assert result.outcomes == {ClosedOutcome.TERMINATED: 1, "no_answer": 1}
    assert await _contact_row(pg_pool, name, SLEEPER) == ("final", ClosedOutcome.TERMINATED)
    assert (await campaigns.get_campaign(pg_pool, name)).status == "finished"
    assert Counter(d.contact_id for d in run.dialled) == {SLEEPER: 1, RETRIED: 1}


@workflow.defn(name="CompletedContact")
class _Completed:
    """Ends as a contact workflow does once its contact is final, or waits to be ended."""

    @workflow.run
    async def run(self, complete: bool) -> ContactResult:
        if not complete:
            await workflow.wait_condition(lambda: False)
        return ContactResult("c007", "final", "confirmed", [])


async def test_describing_tells_how_each_workflow_ended(
    dev_client: Client,  # noqa: F811
) -> None:
    gone = await how_it_ended(dev_client, "campaign/nobody/c404")
    assert gone == ClosedWorkflow(
        "campaign/nobody/c404", ClosedOutcome.GONE, "Temporal no longer knows this workflow"
    )
    async with Worker(
        dev_client,
        task_queue="described",
        workflows=[_Completed],
        workflow_runner=UnsandboxedWorkflowRunner(),  # a test's own workflow: nothing to guard
    ):
        done = await dev_client.start_workflow(
            _Completed.run, True, id="campaign/described/c007", task_queue="described"
        )
        await done.result()
        running = await dev_client.start_workflow(
            _Completed.run, False, id="campaign/described/c008", task_queue="described"
        )
        assert await how_it_ended(dev_client, running.id) is None
        await running.terminate(reason="operator ended it")
        answer = await describe_contacts_with(dev_client, [done.id, running.id])

    assert answer.completed == [CompletedWorkflow(done.id, "final", "confirmed")]
    assert answer.closed == [
        ClosedWorkflow(running.id, ClosedOutcome.TERMINATED, "terminated: operator ended it")
    ]


async def describe_contacts_with(client: Client, workflow_ids: list[str]) -> HandedOverStatus:
    """``describe_contacts`` as a worker runs it (its client is the worker's)."""
    env = ActivityEnvironment(client=client)
    return await env.run(describe_contacts, HandedOverCheck(workflow_ids))

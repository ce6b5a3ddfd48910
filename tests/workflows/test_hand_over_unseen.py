"""A contact whose workflow closed without its run seeing the close settle in time, when the
campaign continues as new, is still settled: its row, its open attempt and the campaign's
count, with no contact dialled twice. Temporal dev server, the real PostgreSQL campaign
activities behind a PostgreSQL outage (the settling activity fails until the test ends it), and
every run's history replays on today's code.

``campaign_hand-over-unseen`` (tests/workflows/histories) is the first run of this test's
campaign recorded with the workflows of main 6411952, before the ``settle-unseen-closes``
patch: its hand-over wait timed out and counted ``c000`` ``workflow_gone``, and its row and
attempt stayed open for good (``VOXFLOW_RECORD_HISTORIES=1`` writes it again).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.campaign_io import CampaignIO
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
    ClosedContact,
    ClosedOutcome,
    DialInput,
    DialOutcome,
    SignalName,
    WorkerRoute,
)
from runtime.workflows.sandbox import workflow_runner
from tests.db.conftest import REMINDER
from tests.db.test_repositories import _contact
from tests.workflows.scripted import CALL_QUEUE
from tests.workflows.test_campaign_slots import ALWAYS
from tests.workflows.test_closed_contacts import _contact_row, dev_client  # noqa: F401
from tests.workflows.test_handed_over_contacts import _replays, _runs

HISTORIES = Path(__file__).parent / "histories"
TERMINATED, RETRIED = "c000", "c001"
POLL_S = 0.1


def _plan(name: str) -> CampaignPlan:
    campaign = Campaign(
        name=name,
        contacts=ContactsSource(kind="csv", location="x.csv"),
        windows=ALWAYS,
        rules=(
            OutcomeRule("failed", "retry", delay_ms=2_000, max_attempts=3),
            OutcomeRule("busy", "final"),
        ),
        pacing=Pacing(max_concurrent=2),
    )
    return CampaignPlan(name, f"sha256:{name}", campaign)


@dataclass
class Outage:
    """PostgreSQL refuses the settling activity's connections until :meth:`end`."""

    over: asyncio.Event = field(default_factory=asyncio.Event)
    refused: int = 0

    def end(self) -> None:
        self.over.set()


@dataclass
class Running:
    handle: WorkflowHandle[CampaignWorkflow, CampaignResult]
    first_run: str
    dialled: list[DialInput]
    outage: Outage
    hang_up: asyncio.Event


@asynccontextmanager
async def _campaign(
    client: Client, pool: asyncpg.Pool, name: str, **inputs: object
) -> AsyncIterator[Running]:
    """Campaign ``name`` over c000 (a call that lasts until ``hang_up``) and c001 (``failed``
    three times, 2 s apart, then ``busy``), on real workers and PostgreSQL; settling a closed
    contact fails until ``outage`` ends."""
    flow = load_flow(REMINDER)
    await flows.save_flow(pool, flow)
    await campaigns.create_campaign(pool, name, flow.hash)
    await contacts.store_contacts(pool, name, [_contact(0), _contact(1)])
    await campaigns.set_status(pool, name, "running")
    dialled: list[DialInput] = []
    outage, hang_up = Outage(), asyncio.Event()

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        dialled.append(arg)
        if arg.contact_id == TERMINATED:
            while not hang_up.is_set():
                activity.heartbeat()
                await asyncio.sleep(0.05)
        tries = sum(1 for d in dialled if d.contact_id == arg.contact_id)
        return DialOutcome(arg.attempt_id, False, "failed" if tries <= 3 else "busy")

    io = CampaignIO(pool, WorkerRoute(CALL_QUEUE, "127.0.0.1:9092"))

    @activity.defn(name=ActivityName.SETTLE_CLOSED)
    async def settle_closed(arg: ClosedContact) -> None:
        if not outage.over.is_set():
            outage.refused += 1
            raise ConnectionRefusedError("PostgreSQL refuses connections (the test's outage)")
        await io.settle_closed(arg)

    async with (
        Worker(
            client,
            task_queue=SHARED_TASK_QUEUE,
            workflows=[CampaignWorkflow, ContactWorkflow],
            activities=[a for a in io.activities() if a != io.settle_closed] + [settle_closed],
            workflow_runner=workflow_runner(),
        ),
        Worker(client, task_queue=CALL_QUEUE, activities=[dial]),
    ):
        handle = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(_plan(name), page_size=10, max_live=100, history_limit=30, **inputs),
            id=search.campaign_workflow_id(name),
            task_queue=SHARED_TASK_QUEUE,
        )
        running = Running(handle, handle.first_execution_run_id or "", dialled, outage, hang_up)
        try:
            yield running
        finally:
            hang_up.set()
            outage.end()


async def _poll(check: Callable[[], Awaitable[bool]]) -> None:
    """Until ``check()`` is true."""
    while True:
        if await check():
            return
        await asyncio.sleep(POLL_S)


async def _hand_over_timed_out(client: Client, run: Running) -> bool:
    """The first run told its children it continues as new, and its wait for the closes it
    had not seen yet timed out."""
    history = await client.get_workflow_handle(run.handle.id, run_id=run.first_run).fetch_history()
    handing_over = False
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
            attrs = e.signal_external_workflow_execution_initiated_event_attributes
            handing_over = handing_over or attrs.signal_name == SignalName.CAMPAIGN_CONTINUED
        elif e.event_type == EventType.EVENT_TYPE_TIMER_FIRED and handing_over:
            return True
    return False


async def _terminate_in_call(client: Client, run: Running, name: str) -> None:
    async def in_call() -> bool:
        return any(d.contact_id == TERMINATED for d in run.dialled)

    await _poll(in_call)
    contact = client.get_workflow_handle(search.contact_workflow_id(name, TERMINATED))
    await contact.terminate(reason="operator ended it")


async def test_a_contact_closed_unseen_at_hand_over_is_settled_row_and_all(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    """c000 is terminated mid-call while PostgreSQL is down, so its run, which sees the close,
    cannot settle it before it continues as new (c001's retries fill its history): the hand-over
    wait times out. The run asks Temporal how c000 ended and settles it once PostgreSQL is
    back; the count says how it ended, its row is final, its attempt aborted."""
    name = "hand-over-unseen"
    recording = bool(os.environ.get("VOXFLOW_RECORD_HISTORIES"))
    wait = {} if recording else {"hand_over_wait": timedelta(seconds=2)}
    async with _campaign(dev_client, pg_pool, name, **wait) as run:
        await _terminate_in_call(dev_client, run, name)
        await _poll(lambda: _hand_over_timed_out(dev_client, run))
        run.outage.end()
        result = await run.handle.result()
        if recording:
            history = await dev_client.get_workflow_handle(
                run.handle.id, run_id=run.first_run
            ).fetch_history()
            (HISTORIES / "campaign_hand-over-unseen.json").write_text(history.to_json())
        await _replays(dev_client, run.handle.id)

    assert run.outage.refused > 0  # the run's own watch of c000 could not settle it
    assert len(await _runs(dev_client, run.handle.id)) >= 2
    assert result.outcomes == {ClosedOutcome.TERMINATED: 1, "busy": 1}
    assert result.finished == result.dispatched == 2
    assert await _contact_row(pg_pool, name, TERMINATED) == ("final", ClosedOutcome.TERMINATED)
    assert await _contact_row(pg_pool, name, RETRIED) == ("final", "busy")
    [attempt] = await attempts.attempts_of(pg_pool, name, TERMINATED)
    assert (attempt.status, attempt.outcome) == ("aborted", "aborted")
    assert attempt.ended_at is not None and "operator ended it" in attempt.detail
    assert (await campaigns.get_campaign(pg_pool, name)).status == "finished"
    # None dialled twice: one dial per attempt, c000 never again after its termination.
    assert len({d.attempt_id for d in run.dialled}) == len(run.dialled)
    assert Counter(d.contact_id for d in run.dialled) == {TERMINATED: 1, RETRIED: 4}

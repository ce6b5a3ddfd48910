"""A contact workflow that closes without reporting (terminated by an operator) has its row in
PostgreSQL settled by the campaign, so the campaign's row reaches ``finished``; a contact that
did report keeps its own outcome. Temporal dev server (the time-skipping test server does not
tell a parent that its child was terminated), the real PostgreSQL campaign activities, and the
run's history replays on today's code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from activities.campaign_io import CampaignIO
from dsl.compiler import load_flow
from dsl.ir import Pacing
from runtime.db import attempts, campaigns, contacts, flows
from runtime.dev.temporal import start_dev_server
from runtime.workflows import search
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    ActivityName,
    CampaignInput,
    ClosedContact,
    DialInput,
    DialOutcome,
    WorkerRoute,
)
from runtime.workflows.sandbox import workflow_runner
from tests.db.conftest import REMINDER
from tests.db.test_repositories import _contact
from tests.workflows.scripted import CALL_QUEUE
from tests.workflows.test_campaign_slots import plan, until


@pytest.fixture
async def dev_client(tmp_path: Path) -> AsyncIterator[Client]:
    server = await start_dev_server(tmp_path / "temporal", ui=False, persistent=False)
    try:
        yield await server.client()
    finally:
        await server.stop()


async def _contact_row(pool: asyncpg.Pool, campaign: str, contact: str) -> tuple[str, str]:
    row = await pool.fetchrow(
        "SELECT status, outcome FROM contacts WHERE campaign = $1 AND id = $2", campaign, contact
    )
    assert row is not None
    return row["status"], row["outcome"]


async def test_a_terminated_contact_is_settled_and_the_campaign_finishes(
    dev_client: Client, pg_pool: asyncpg.Pool
) -> None:
    flow = load_flow(REMINDER)
    await flows.save_flow(pg_pool, flow)
    name = "closed"
    await campaigns.create_campaign(pg_pool, name, flow.hash)
    await contacts.store_contacts(pg_pool, name, [_contact(0), _contact(1)])
    await campaigns.set_status(pg_pool, name, "running")
    release = asyncio.Event()

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        if arg.contact_id == "c000":
            while not release.is_set():  # a call that never ends on its own
                activity.heartbeat()
                await asyncio.sleep(0.05)
        return DialOutcome(arg.attempt_id, False, "busy")

    io = CampaignIO(pg_pool, WorkerRoute(CALL_QUEUE, "127.0.0.1:9092"))
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
        handle = await dev_client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(plan(name, Pacing(max_concurrent=2)), page_size=10, max_live=100),
            id=search.campaign_workflow_id(name),
            task_queue=SHARED_TASK_QUEUE,
        )
        await until(handle, lambda p: p.finished == 1 and p.in_call == 1)
        assert await _contact_row(pg_pool, name, "c001") == ("final", "busy")
        assert (await campaigns.get_campaign(pg_pool, name)).status == "running"

        await dev_client.get_workflow_handle(search.contact_workflow_id(name, "c000")).terminate(
            "operator"
        )
        result = await handle.result()
        release.set()

    assert result.outcomes == {"workflow_terminated": 1, "busy": 1}
    assert await _contact_row(pg_pool, name, "c000") == ("final", "workflow_terminated")
    # Terminated mid-call: its attempt, left open, is aborted with the reason (line freed).
    [attempt] = await attempts.attempts_of(pg_pool, name, "c000")
    assert (attempt.status, attempt.outcome) == ("aborted", "aborted")
    assert attempt.ended_at is not None and "terminated" in attempt.detail.lower()
    assert await _contact_row(pg_pool, name, "c001") == ("final", "busy")
    assert (await campaigns.get_campaign(pg_pool, name)).status == "finished"

    # A contact that reported keeps its outcome: settling it as closed changes nothing.
    await io.settle_closed(ClosedContact(name, "c001", "workflow_terminated"))
    assert await _contact_row(pg_pool, name, "c001") == ("final", "busy")

    replayer = Replayer(
        workflows=[CampaignWorkflow, ContactWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    replayed = await replayer.replay_workflow(
        await handle.fetch_history(), raise_on_replay_failure=False
    )
    assert replayed.replay_failure is None

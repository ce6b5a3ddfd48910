"""Dial slots: reserved at start within pacing and never over max_concurrent or per_minute
(time-skipping test server), and freed when a slot holder's workflow is terminated (the
Temporal dev server: the test server does not tell a parent that its child was terminated)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from dsl.ir import CallingWindow, Campaign, ContactsSource, OutcomeRule, Pacing
from runtime.dev.temporal import start_dev_server
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    ActivityName,
    CampaignInput,
    CampaignPlan,
    CampaignProgress,
    ContactRef,
    DialInput,
    DialOutcome,
)
from tests.workflows.scripted import Recorder, campaign_workers

ALWAYS = (CallingWindow(days=(1, 2, 3, 4, 5, 6, 7), start="00:00", end="00:00"),)


def plan(name: str, pacing: Pacing) -> CampaignPlan:
    campaign = Campaign(
        name=name,
        contacts=ContactsSource(kind="csv", location="x.csv"),
        windows=ALWAYS,
        rules=(OutcomeRule("busy", "final"),),
        pacing=pacing,
    )
    return CampaignPlan(name, f"sha256:{name}", campaign)


def contacts(count: int) -> list[ContactRef]:
    return [ContactRef(f"k{i}", f"+3315555010{i}", "Europe/Paris") for i in range(count)]


@asynccontextmanager
async def campaign(
    env: WorkflowEnvironment | Client,
    name: str,
    pacing: Pacing,
    people: list[ContactRef],
    dial: Callable,
) -> AsyncIterator[WorkflowHandle]:
    client = env if isinstance(env, Client) else env.client
    recorder = Recorder(people, {}, page_size=10)
    async with campaign_workers(client, recorder, [dial]):
        yield await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(plan(name, pacing), page_size=10, max_live=100),
            id=f"campaign/{name}",
            task_queue=SHARED_TASK_QUEUE,
        )


async def until(handle: WorkflowHandle, predicate: Callable[[CampaignProgress], bool]) -> None:
    for _ in range(300):
        try:
            if predicate(await handle.query(CampaignWorkflow.progress)):
                return
        except RPCError:  # the dev server has not seen the worker poll yet
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached; last {await handle.query(CampaignWorkflow.progress)}")


async def signals_received(env: WorkflowEnvironment, workflow_id: str) -> list[str]:
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    return [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


async def test_contacts_start_with_a_reserved_slot_and_never_exceed_max_concurrent(
    env: WorkflowEnvironment,
) -> None:
    in_flight: list[int] = [0]
    most: list[int] = [0]

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        await asyncio.sleep(0.05)
        in_flight[0] -= 1
        return DialOutcome(arg.attempt_id, False, "busy")

    people = contacts(5)
    async with campaign(env, "conc", Pacing(max_concurrent=2), people, dial) as handle:
        result = await handle.result()

    assert (result.dispatched, result.finished, result.outcomes) == (5, 5, {"busy": 5})
    assert most[0] == 2
    # Every contact's window was open: each started holding its slot, none had to ask.
    for person in people:
        assert "dial_granted" not in await signals_received(env, f"campaign/conc/{person.id}")


async def test_per_minute_pacing_spreads_reserved_starts_over_minutes(
    env: WorkflowEnvironment,
) -> None:
    dialled: list[datetime] = []

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        dialled.append(activity.info().current_attempt_scheduled_time)
        return DialOutcome(arg.attempt_id, False, "busy")

    pacing = Pacing(max_concurrent=10, per_minute=2)
    async with campaign(env, "rate", pacing, contacts(5), dial) as handle:
        result = await handle.result()

    assert result.finished == 5 and len(dialled) == 5
    dialled.sort()
    # Pacing counts slot grants; each dial follows its grant by a workflow round trip (the
    # test server stamps them ~0.1 s apart), so windows of a minute less a second.
    for i, moment in enumerate(dialled):
        in_minute = [t for t in dialled if moment <= t < moment + timedelta(seconds=59)]
        assert len(in_minute) <= 2, (i, dialled)
    assert dialled[2] - dialled[0] >= timedelta(seconds=59)
    assert dialled[4] - dialled[0] >= timedelta(seconds=119)


@pytest.fixture
async def dev_client(tmp_path: Path) -> AsyncIterator[Client]:
    server = await start_dev_server(tmp_path / "temporal", ui=False, persistent=False)
    try:
        yield await server.client()
    finally:
        await server.stop()


async def test_a_slot_holder_terminated_mid_call_frees_its_slot(dev_client: Client) -> None:
    dialled: list[str] = []
    first_dial = asyncio.Event()
    release = asyncio.Event()

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        dialled.append(arg.contact_id)
        first_dial.set()
        if arg.contact_id == "k0":
            while not release.is_set():  # a call that never ends on its own
                activity.heartbeat()
                await asyncio.sleep(0.05)
        return DialOutcome(arg.attempt_id, False, "busy")

    async with campaign(dev_client, "leak", Pacing(max_concurrent=1), contacts(2), dial) as handle:
        await until(handle, lambda p: p.in_call == 1 and p.waiting_slot == 1)
        await first_dial.wait()
        assert dialled == ["k0"]  # k1 waits: k0 holds the only slot

        await dev_client.get_workflow_handle("campaign/leak/k0").terminate("operator")
        await until(handle, lambda p: p.finished == 2)
        progress = await handle.query(CampaignWorkflow.progress)
        release.set()
        result = await handle.result()

    assert dialled == ["k0", "k1"]
    assert (progress.in_call, progress.waiting_slot) == (0, 0)
    assert result.outcomes == {"workflow_terminated": 1, "busy": 1}


async def test_contacts_alive_across_continue_as_new_still_settle_the_campaign(
    env: WorkflowEnvironment,
) -> None:
    dialled: dict[str, int] = {}

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        dialled[arg.contact_id] = dialled.get(arg.contact_id, 0) + 1
        return DialOutcome(arg.attempt_id, False, "busy")

    people = contacts(6)
    retry = plan("can", Pacing(max_concurrent=2))
    retry.campaign = dataclasses.replace(
        retry.campaign, rules=(OutcomeRule("busy", "retry", delay_ms=60_000, max_attempts=1),)
    )
    recorder = Recorder(people, {}, page_size=10)
    async with campaign_workers(env.client, recorder, [dial]):
        handle = await env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(retry, page_size=10, max_live=100, history_limit=30),
            id="campaign/can",
            task_queue=SHARED_TASK_QUEUE,
        )
        result = await handle.result()
        first_run = await env.client.get_workflow_handle(
            "campaign/can", run_id=handle.first_execution_run_id
        ).fetch_history()

    assert first_run.events[-1].event_type == (
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    )
    assert dialled == {p.id: 2 for p in people}
    assert (result.dispatched, result.finished, result.outcomes) == (6, 6, {"busy": 6})


async def test_contacts_queued_past_their_window_wait_for_the_next_one_and_then_ask(
    env: WorkflowEnvironment,
) -> None:
    dialled: list[tuple[str, datetime]] = []

    @activity.defn(name=ActivityName.DIAL)
    async def dial(arg: DialInput) -> DialOutcome:
        dialled.append((arg.contact_id, activity.info().current_attempt_scheduled_time))
        return DialOutcome(arg.attempt_id, False, "busy")

    paris = ZoneInfo("Europe/Paris")
    now = (await env.get_current_time()).astimezone(paris)
    monday = now.date() + timedelta(days=(7 - now.weekday()) % 7 or 7)
    await env.sleep(datetime.combine(monday, time(9, 1, 30), paris) - now)
    short = plan("short", Pacing(max_concurrent=5, per_minute=1))
    short.campaign = dataclasses.replace(
        short.campaign, windows=(CallingWindow(days=(1,), start="09:00", end="09:02"),)
    )
    people = contacts(3)
    recorder = Recorder(people, {}, page_size=10)
    async with campaign_workers(env.client, recorder, [dial]):
        handle = await env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(short, page_size=10, max_live=100),
            id="campaign/short",
            task_queue=SHARED_TASK_QUEUE,
        )
        result = await handle.result()

    assert result.outcomes == {"busy": 3}
    local = {who: at.astimezone(paris) for who, at in dialled}
    # One slot a minute: k0 at once; the window closed before k1's turn, so k1 and k2 started
    # without a slot, waited a week in their own workflows, then asked for one.
    assert (local["k0"].date(), local["k0"].hour, local["k0"].minute) == (monday, 9, 1)
    assert sorted((local[k].date(), local[k].hour, local[k].minute) for k in ("k1", "k2")) == [
        (monday + timedelta(days=7), 9, 0),
        (monday + timedelta(days=7), 9, 1),
    ]
    assert "dial_granted" not in await signals_received(env, "campaign/short/k0")
    for waited in ("k1", "k2"):
        assert "dial_granted" in await signals_received(env, f"campaign/short/{waited}")

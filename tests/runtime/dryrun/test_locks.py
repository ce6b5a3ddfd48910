"""The time-skipping lock the test server leaks when a child outlives its parent's run, shown
with two workflows, and :class:`runtime.dryrun.locks.LeakedLocks` releasing it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from runtime.dryrun.locks import LeakedLocks
    from tests.temporal_env import time_skipping_env

QUEUE = "locks-test"
HOUR = timedelta(hours=1)


@workflow.defn
class Child:
    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(HOUR)


@workflow.defn
class Parent:
    """Starts one child it does not wait for, then (``hand_over``) continues as new before the
    child ends, as a campaign run hands its contacts over; then waits ten hours."""

    @workflow.run
    async def run(self, first: bool, hand_over: bool) -> None:
        if first:
            await workflow.start_child_workflow(
                Child.run, id="child", parent_close_policy=workflow.ParentClosePolicy.ABANDON
            )
            if hand_over:
                workflow.continue_as_new(args=[False, hand_over])
        for _ in range(10):
            await workflow.sleep(HOUR)


async def _child_ends(env: WorkflowEnvironment, hand_over: bool):
    """Start the parent, skip time until the child has ended; answers the parent's handle.
    Time skipping is driven by hand here: the environment's own lock released once, no
    result awaited through the SDK's automatic unlocking."""
    handle = await env.client.start_workflow(
        Parent.run, args=[True, hand_over], id="parent", task_queue=QUEUE
    )
    async for event in handle.fetch_history_events(wait_new_event=True):
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            break
    await env.client.service_client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
    await env.client.get_workflow_handle("child").result()  # the child's hour skipped
    return handle


async def _clock_moves_in(env: WorkflowEnvironment, wall: float) -> timedelta:
    before = await env.get_current_time()
    await asyncio.sleep(wall)
    return await env.get_current_time() - before


async def test_a_child_ending_after_its_parent_continued_as_new_leaves_the_clock_locked_until_released():
    async with (
        time_skipping_env() as env,
        Worker(env.client, task_queue=QUEUE, workflows=[Parent, Child]),
    ):
        parent = await _child_ends(env, hand_over=True)
        leaks = LeakedLocks(env.client, "parent")

        # The parent's next run waits on hour-long timers, yet the clock follows the wall clock.
        assert await _clock_moves_in(env, 1.0) < timedelta(minutes=1)

        assert await leaks.release() == 0  # seen once: the server may not hold it yet
        assert await leaks.release() == 1
        assert await leaks.release() == 0  # each leak released once
        with env.auto_time_skipping_disabled():
            await parent.result()  # the ten hours skipped
        assert (leaks.released, leaks.refused) == (1, 0)


async def test_a_child_ending_while_its_parent_runs_leaks_nothing():
    async with (
        time_skipping_env() as env,
        Worker(env.client, task_queue=QUEUE, workflows=[Parent, Child]),
    ):
        parent = await _child_ends(env, hand_over=False)
        leaks = LeakedLocks(env.client, "parent")

        with env.auto_time_skipping_disabled():
            await parent.result()
        assert await leaks.release() == 0 and await leaks.release() == 0

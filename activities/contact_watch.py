"""How contact workflows a campaign run cannot watch ended: those handed over by an earlier
run, and those whose close the run did not see before it continued as new.

A campaign run watches the contact workflows it started through their child handles. Temporal
does not carry those handles across continue-as-new (the child workflows doc's note on it, and
temporalio/temporal#2609, still open), so the next run cannot see one of them terminated
while it sleeps; and a run about to continue as new stops waiting for a close after
``CampaignInput.hand_over_wait``. This activity asks Temporal (``DescribeWorkflowExecution``,
strongly consistent, unlike a visibility query) how each one stands, with the worker's own
client, and reads a completed one's result.
"""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistoryEventFilterType,
)
from temporalio.service import RPCError, RPCStatusCode

from runtime.workflows.messages import (
    ActivityName,
    ClosedOutcome,
    ClosedWorkflow,
    CompletedWorkflow,
    ContactResult,
    HandedOverCheck,
    HandedOverStatus,
)

DESCRIBE_CONCURRENCY = 10
"""Describe requests in flight at once, so a large batch does not burst the frontend."""
DETAIL_LIMIT = 300

_CLOSED = {
    WorkflowExecutionStatus.TERMINATED: ClosedOutcome.TERMINATED,
    WorkflowExecutionStatus.FAILED: ClosedOutcome.FAILED,
    WorkflowExecutionStatus.TIMED_OUT: ClosedOutcome.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED: ClosedOutcome.CANCELLED,
}
"""Closed without completing. Running and continued-as-new are alive."""


@activity.defn(name=ActivityName.DESCRIBE_CONTACTS)
async def describe_contacts(arg: HandedOverCheck) -> HandedOverStatus:
    """The workflows of ``arg`` that closed: without completing, each with how and why, and
    completed, each with its result's status and outcome."""
    client = activity.client()
    room = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

    async def one(workflow_id: str) -> ClosedWorkflow | CompletedWorkflow | None:
        async with room:
            return await how_it_ended(client, workflow_id)

    async with asyncio.TaskGroup() as group:
        asked = [group.create_task(one(w)) for w in arg.workflow_ids]
    ended = [task.result() for task in asked]
    return HandedOverStatus(
        [e for e in ended if isinstance(e, ClosedWorkflow)],
        [e for e in ended if isinstance(e, CompletedWorkflow)],
    )


async def how_it_ended(
    client: Client, workflow_id: str
) -> ClosedWorkflow | CompletedWorkflow | None:
    """How the latest run of the contact workflow ``workflow_id`` ended; None while it runs."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise  # the activity retries: Temporal is unreachable, or busy
        return ClosedWorkflow(
            workflow_id, ClosedOutcome.GONE, "Temporal no longer knows this workflow"
        )
    if description.status == WorkflowExecutionStatus.COMPLETED:
        done = client.get_workflow_handle(
            workflow_id, run_id=description.run_id, result_type=ContactResult
        )
        result = await done.result()
        return CompletedWorkflow(workflow_id, result.status, result.outcome)
    outcome = _CLOSED.get(description.status) if description.status else None
    if outcome is None:
        return None
    run = client.get_workflow_handle(workflow_id, run_id=description.run_id)
    return ClosedWorkflow(workflow_id, outcome, await _why(run))


async def _why(handle: WorkflowHandle) -> str:
    """The reason a terminated workflow was given, or a failed one's message."""
    async for event in handle.fetch_history_events(
        event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT
    ):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            attrs = event.workflow_execution_terminated_event_attributes
            why = f"terminated: {attrs.reason or 'no reason given'}"
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            why = f"failed: {event.workflow_execution_failed_event_attributes.failure.message}"
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            why = "timed out: its execution timeout elapsed"
        else:
            why = "cancelled"
        return why[:DETAIL_LIMIT]
    return ""


def workflow_gone() -> bool:
    """Whether this cancelled activity was cancelled because Temporal answered its heartbeat
    that its workflow is gone (terminated, failed or timed out): nothing will act on its
    result, so it must end its own rows."""
    details = activity.cancellation_details()
    return details is not None and details.not_found


DESCRIBE_WAIT_S = 10.0
"""How long an activity whose workflow went away waits for Temporal to say how it closed."""


async def how_gone(when: str) -> ClosedWorkflow | str:
    """How this activity's workflow went away, as Temporal tells it, or, when it could not be
    asked, a reason saying it went away ``when`` (its attempt is aborted all the same)."""
    workflow_id = activity.info().workflow_id
    try:
        ended = await asyncio.wait_for(
            how_it_ended(activity.client(), workflow_id), DESCRIBE_WAIT_S
        )
    except Exception as exc:  # Temporal unreachable: the attempt ends all the same
        return f"its workflow went away {when} (not described: {exc!r})"
    if isinstance(ended, ClosedWorkflow):
        return ended
    return f"its workflow run went away {when}"

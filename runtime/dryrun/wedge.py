"""What the time-skipping test server was doing when a dry-run stopped making progress.

What the server itself recorded tells a wedge's kind: the open workflows counted by their
last event (a run ending in ``workflow_task_started`` holds a task the server handed out and
never got back; one ending in ``timer_started`` waits on the clock), a few of those holding a
workflow task named, and the last events of the campaign's current run. The test server
(1.40) leaves ``DescribeWorkflowExecution``'s pending workflow task empty, hence the
histories. :func:`describe_wedge` gathers that into one paragraph for the error and the
report, so that each wedge seen says which fault it was.
"""

from __future__ import annotations

from collections import Counter

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryRequest,
    ListOpenWorkflowExecutionsRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError

SHOWN = 3
"""Workflows named in the description; the others are counted."""

LAST_EVENTS = 4
"""The campaign's last events named."""


async def describe_wedge(client: Client, campaign_workflow_id: str) -> str:
    """One paragraph: the open workflows by last event, those waiting on a workflow task, and
    the campaign's last events. Never raises: a server too far gone to answer is said so."""
    try:
        return await _describe(client, campaign_workflow_id)
    except RPCError as err:
        return f"the test server did not answer a description ({err})"


async def task_in_flight(client: Client, workflow_id: str) -> bool:
    """Whether the workflow's current run waits on a workflow task (scheduled or started),
    whose time-skipping lock the server holds until the task completes."""
    try:
        events = await _history(client, WorkflowExecution(workflow_id=workflow_id))
    except RPCError:
        return False
    return bool(events) and _name(events[-1]) in HANDED_OUT


async def _describe(client: Client, campaign_workflow_id: str) -> str:
    listed = await client.workflow_service.list_open_workflow_executions(
        ListOpenWorkflowExecutionsRequest(namespace=client.namespace, maximum_page_size=10_000)
    )
    last_kinds: Counter[str] = Counter()
    named: list[str] = []
    campaign = ""
    for entry in listed.executions:
        events = await _history(client, entry.execution)
        last = _name(events[-1]) if events else "none"
        last_kinds[last] += 1
        wid = entry.execution.workflow_id
        if wid == campaign_workflow_id:
            campaign = (
                f"campaign run {entry.execution.run_id[:8]}: {len(events)} events, last "
                + ", ".join(_name(e) for e in events[-LAST_EVENTS:])
            )
        elif last in HANDED_OUT and len(named) < SHOWN:
            named.append(f"{wid} ({last} after {len(events)} events)")
    parts = [
        f"{len(listed.executions)} workflows open",
        "last events: " + ", ".join(f"{n} {k}" for k, n in last_kinds.most_common()),
    ]
    if named:
        parts.append("workflow tasks not completed: " + "; ".join(named))
    if campaign:
        parts.append(campaign)
    return "; ".join(parts)


HANDED_OUT = frozenset({"workflow_task_scheduled", "workflow_task_started"})
"""A run whose history ends so waits for a worker to take or complete a workflow task."""


def _name(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()


async def _history(client: Client, execution: WorkflowExecution) -> list[HistoryEvent]:
    request = GetWorkflowExecutionHistoryRequest(namespace=client.namespace, execution=execution)
    page = await client.workflow_service.get_workflow_execution_history(request)
    events = list(page.history.events)
    while page.next_page_token:
        request.next_page_token = page.next_page_token
        page = await client.workflow_service.get_workflow_execution_history(request)
        events += page.history.events
    return events

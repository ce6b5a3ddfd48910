"""InboundCallWorkflow: the conversation runs on the worker holding the media, then the
outcome is recorded; a lost conversation is recorded as unknown, never retried."""

from __future__ import annotations

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from runtime.workflows.inbound import InboundCallWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    ActivityName,
    AttemptEnd,
    ConverseInput,
    ConverseResult,
    InboundInput,
)
from runtime.workflows.sandbox import workflow_runner

MEDIA_QUEUE = "voxflow-worker-media"


async def run_inbound(env: WorkflowEnvironment, talk) -> tuple[str, list, list]:
    calls: list[ConverseInput] = []
    ends: list[AttemptEnd] = []

    @activity.defn(name=ActivityName.CONVERSE)
    async def converse(arg: ConverseInput) -> ConverseResult:
        calls.append(arg)
        return talk(arg)

    @activity.defn(name=ActivityName.RECORD_RESULT)
    async def record(arg: AttemptEnd) -> None:
        ends.append(arg)

    async with (
        Worker(
            env.client,
            task_queue=SHARED_TASK_QUEUE,
            workflows=[InboundCallWorkflow],
            activities=[record],
            workflow_runner=workflow_runner(),
        ),
        Worker(env.client, task_queue=MEDIA_QUEUE, activities=[converse]),
    ):
        result = await env.client.execute_workflow(
            InboundCallWorkflow.run,
            InboundInput(
                "5b0c5e7e-1111-4c1d-9a55-000000000001", "+33155550100", "sha256:f", MEDIA_QUEUE
            ),
            id="inbound/5b0c5e7e-1111-4c1d-9a55-000000000001",
            task_queue=SHARED_TASK_QUEUE,
        )
    return result.outcome, calls, ends


async def test_inbound_call_converses_on_the_media_worker_and_records(
    env: WorkflowEnvironment,
) -> None:
    outcome, calls, ends = await run_inbound(env, lambda arg: ConverseResult("confirmed"))
    assert outcome == "confirmed"
    assert [(c.attempt_id, c.contact["phone"]) for c in calls] == [
        ("5b0c5e7e-1111-4c1d-9a55-000000000001", "+33155550100")
    ]
    assert [(e.outcome, e.action) for e in ends] == [("confirmed", "final")]


async def test_lost_inbound_conversation_is_recorded_unknown_once(env: WorkflowEnvironment) -> None:
    def crash(arg: ConverseInput) -> ConverseResult:
        raise RuntimeError("media worker died")

    outcome, calls, ends = await run_inbound(env, crash)
    assert outcome == "unknown" and len(calls) == 1
    assert [e.outcome for e in ends] == ["unknown"]

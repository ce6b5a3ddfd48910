"""InboundCallWorkflow: a call that reached a worker's AudioSocket server unannounced.

The worker holding the media session starts this workflow (id ``inbound/<call id>``); the
conversation runs on that worker's own queue, then the outcome is recorded.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from dsl.outcomes import TelephonyOutcome
    from runtime.workflows import search
    from runtime.workflows.messages import (
        INBOUND_CAMPAIGN,
        ActivityName,
        AttemptEnd,
        ConverseInput,
        ConverseResult,
        InboundInput,
        InboundResult,
    )


UNKNOWN_CALLER = "unknown"
"""``InboundInput.caller`` when the PBX did not say who is calling (withheld caller id)."""


@workflow.defn
class InboundCallWorkflow:
    @workflow.run
    async def run(self, arg: InboundInput) -> InboundResult:
        try:
            talk = await workflow.execute_activity(
                ActivityName.CONVERSE,
                ConverseInput(
                    attempt_id=arg.call_id,
                    flow_hash=arg.flow_hash,
                    campaign=INBOUND_CAMPAIGN,
                    # A withheld number is no phone: the flow sees contact.phone unset.
                    contact={} if arg.caller == UNKNOWN_CALLER else {"phone": arg.caller},
                ),
                task_queue=arg.task_queue,
                start_to_close_timeout=timedelta(hours=1),
                heartbeat_timeout=timedelta(seconds=20),
                retry_policy=RetryPolicy(maximum_attempts=1),
                result_type=ConverseResult,
            )
            outcome, detail = talk.outcome, talk.error or ""
        except ActivityError as err:
            outcome, detail = TelephonyOutcome.UNKNOWN.value, f"converse: {err.cause or err}"
        workflow.upsert_search_attributes([search.OUTCOME.value_set(outcome)])
        await workflow.execute_local_activity(
            ActivityName.RECORD_RESULT,
            AttemptEnd(
                arg.call_id, INBOUND_CAMPAIGN, arg.caller, outcome, True, "final", None, detail
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )
        return InboundResult(arg.call_id, outcome)

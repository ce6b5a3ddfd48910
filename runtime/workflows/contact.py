"""ContactWorkflow: one contact's chain of attempts (window → slot → dial → converse → rule).

A contact started with a dial slot reserved (``ContactInput.granted``) dials at once when its
window is open; otherwise, and for every later attempt, it asks the campaign for a slot.

At-most-once dialling: each attempt gets a fresh id from ``workflow.uuid4()``, is recorded in
PostgreSQL before the originate, and the dial activity runs once (``maximum_attempts=1``). When
its result is lost (the worker died, the activity timed out) the attempt's outcome is
``unknown`` and the campaign's rules decide when to try again: never on the spot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from dsl.outcomes import TelephonyOutcome
    from runtime.campaign import rules, windows
    from runtime.workflows import search
    from runtime.workflows.messages import (
        ActivityName,
        AttemptEnd,
        AttemptRecord,
        AttemptStart,
        ContactInput,
        ContactResult,
        ContactState,
        ContactStatus,
        ContactUpdate,
        ConverseInput,
        ConverseResult,
        DialInput,
        DialOutcome,
        DncEntry,
        QueryName,
        RecoverAttempt,
        RecoveredOutcome,
        SignalName,
        WorkerRoute,
    )

IO_TIMEOUT = timedelta(seconds=30)
IO_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
"""Persistence activities are idempotent (keyed by attempt id), so they retry freely. They run
as local activities: no task queue round trip, and ``begin_attempt`` then names the worker that
runs this workflow task, whose own queue takes the dial."""
DIAL_HEARTBEAT = timedelta(seconds=10)
DIAL_START = timedelta(seconds=15)
"""A dial not picked up by its worker in this time was never placed (that worker is gone)."""
CONVERSE_HEARTBEAT = timedelta(seconds=20)
CONVERSE_LIMIT = timedelta(hours=1)
ONCE = RetryPolicy(maximum_attempts=1)
WINDOW_RECHECK = timedelta(minutes=1)
LINE_RECHECK = timedelta(seconds=5)
"""How soon an attempt refused a line (``NoLineFree``) claims again: a line freed by another
tenant's call waits at most this long for a waiting tenant (runtime/db/attempts.py)."""
NO_LINE = "NoLineFree"

MAX_COUNTS_RETRIES = "max-counts-retries"
"""Patch: an outcome rule's ``max N`` retries N times (it capped attempts before)."""
RECOVER_LOST_RESULTS = "recover-lost-results"
"""Patch: a dial or converse result lost to a failure is read back from PostgreSQL."""
NOT_DIALLED_ERRORS = {"OutsideWindow", "DoNotCall", "DestinationRefused", NO_LINE}
MACHINE_OUTCOMES = {TelephonyOutcome.MACHINE, TelephonyOutcome.VOICEMAIL}


@workflow.defn
class ContactWorkflow:
    @workflow.init
    def __init__(self, arg: ContactInput) -> None:
        self._granted = arg.granted
        self._watched = arg.campaign_workflow_id is not None
        """The campaign run that started this contact sees it close: no final report."""
        self._stopping = False
        self._status: ContactStatus = "pending"
        self._next_at: datetime | None = None
        self._attempts: list[AttemptRecord] = []
        self._callback_at: datetime | None = None

    @workflow.signal(name=SignalName.DIAL_GRANTED)
    def dial_granted(self) -> None:
        self._granted = True

    @workflow.signal(name=SignalName.STOP)
    def stop(self) -> None:
        self._stopping = True

    @workflow.signal(name=SignalName.CAMPAIGN_CONTINUED)
    def campaign_continued(self) -> None:
        """The campaign continued as new: its next run learns this contact's end by signal."""
        self._watched = False

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> ContactUpdate:
        last = self._attempts[-1].outcome if self._attempts else None
        return ContactUpdate(
            workflow.info().workflow_id, self._status, len(self._attempts), self._next_at, last
        )

    @workflow.run
    async def run(self, arg: ContactInput) -> ContactResult:
        self._in = arg
        plan, contact = arg.plan, arg.contact
        campaign = plan.campaign
        tz = contact.timezone or plan.default_timezone
        by_outcome: dict[str, int] = {}
        outcome: str | None = None
        while True:
            if not await self._wait_until(self._next_at):
                return await self._stopped(outcome)
            override = self._window_override()
            opens = (
                workflow.now()
                if override
                else windows.next_open(workflow.now(), tz, campaign.windows, plan.closed_dates)
            )
            if opens is None:
                outcome = "no_window"
                await self._record_state("final", outcome)
                return await self._final(outcome)
            if opens > workflow.now():
                self._next_at = opens
                await self._record_state("scheduled")
                continue
            if not await self._acquire_slot():
                return await self._stopped(outcome)
            try:
                if not override and not windows.is_open(
                    workflow.now(), tz, campaign.windows, plan.closed_dates
                ):
                    continue  # the slot came after the window closed: wait for the next one
                record = await self._attempt(tz)
            finally:
                await self._release_slot()
            if not record.dialled and record.outcome is None:
                # Refused at dial time (the wall clock says the window closed): look again
                # a little later rather than spin against a clock that disagrees.
                recheck = LINE_RECHECK if record.detail == NO_LINE else WINDOW_RECHECK
                self._next_at = workflow.now() + recheck
                continue
            outcome = record.outcome or TelephonyOutcome.UNKNOWN
            by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
            decision = rules.decide(
                outcome,
                rules=campaign.rules,
                attempts_by_outcome=by_outcome,
                total_attempts=len(self._attempts),
                max_attempts=campaign.max_attempts,
                now=workflow.now(),
                callback_at=self._callback_at,
                max_counts_retries=workflow.patched(MAX_COUNTS_RETRIES),
            )
            if decision.action == "dnc":
                await workflow.execute_local_activity(
                    ActivityName.ADD_DNC,
                    DncEntry(contact.phone, plan.name, contact.id, outcome),
                    start_to_close_timeout=IO_TIMEOUT,
                    retry_policy=IO_RETRY,
                )
            await self._record_end(record, decision.action, decision.next_at)
            if decision.action in ("dnc", "final"):
                return await self._final(outcome)
            self._next_at = decision.next_at

    def _window_override(self) -> str | None:
        """Who asked this test call's first attempt to dial outside the windows, if anyone.

        Only a contact without a campaign (a test call) and only its first attempt: a
        campaign never dials outside its windows."""
        if self._in.campaign_workflow_id is not None or self._attempts:
            return None
        return self._in.window_override

    async def _attempt(self, tz: str) -> AttemptRecord:
        """One attempt: record it, dial once on a worker's own queue, converse if answered."""
        plan, contact = self._in.plan, self._in.contact
        campaign = plan.campaign
        override = self._window_override()
        self._callback_at = None
        record = AttemptRecord(
            attempt_id=str(workflow.uuid4()),
            number=len(self._attempts) + 1,
            started_at=workflow.now(),
        )
        self._attempts.append(record)
        workflow.upsert_search_attributes([search.ATTEMPT.value_set(record.number)])
        self._status = "dialing"  # the campaign knows: it granted the slot
        route = await workflow.execute_local_activity(
            ActivityName.BEGIN_ATTEMPT,
            AttemptStart(
                record.attempt_id,
                plan.name,
                contact.id,
                contact.phone,
                record.number,
                plan.flow_hash,
                workflow.now(),
                override,
            ),
            start_to_close_timeout=IO_TIMEOUT,
            retry_policy=IO_RETRY,
            result_type=WorkerRoute,
        )
        ring = timedelta(milliseconds=campaign.ring_timeout_ms)
        try:
            dial = await workflow.execute_activity(
                ActivityName.DIAL,
                DialInput(
                    attempt_id=record.attempt_id,
                    campaign=plan.name,
                    contact_id=contact.id,
                    phone=contact.phone,
                    timezone=tz,
                    windows=campaign.windows,
                    closed_dates=plan.closed_dates,
                    audiosocket=route.audiosocket,
                    caller_id=campaign.caller_id,
                    ring_timeout_ms=campaign.ring_timeout_ms,
                    detect_machine=campaign.amd != "continue",
                    hangup_machine=campaign.amd == "hangup",
                    flow_hash=plan.flow_hash,
                    window_override=override,
                ),
                task_queue=route.task_queue,
                schedule_to_start_timeout=DIAL_START,
                start_to_close_timeout=ring + timedelta(seconds=30),
                heartbeat_timeout=DIAL_HEARTBEAT,
                retry_policy=ONCE,
                result_type=DialOutcome,
            )
        except ActivityError as err:
            kind = err.cause.type if isinstance(err.cause, ApplicationError) else None
            if kind == "OutsideWindow":
                record.detail = "window closed at dial time"
                await self._record_end(record, "window", None)
                self._attempts.pop()
                return record
            if kind == NO_LINE:  # nothing was dialled: claim a line again shortly
                record.detail = NO_LINE
                await self._record_end(record, "line", None)
                self._attempts.pop()
                return record
            record.dialled = kind not in NOT_DIALLED_ERRORS
            record.outcome = {
                "DoNotCall": "opted_out",
                "DestinationRefused": TelephonyOutcome.FAILED,  # retrying cannot change a policy
            }.get(kind or "", TelephonyOutcome.UNKNOWN)
            record.detail = f"dial: {err.cause or err}"
            if record.outcome == TelephonyOutcome.UNKNOWN and record.dialled:
                await self._recover(record, "dial")
            return record
        record.dialled = True
        if not dial.answered or (dial.outcome in MACHINE_OUTCOMES and campaign.amd == "hangup"):
            record.outcome = dial.outcome or TelephonyOutcome.FAILED
            record.detail = dial.detail
            return record
        start_node = campaign.amd_node if dial.outcome in MACHINE_OUTCOMES else None
        try:
            talk = await workflow.execute_activity(
                ActivityName.CONVERSE,
                ConverseInput(
                    attempt_id=record.attempt_id,
                    flow_hash=plan.flow_hash,
                    campaign=plan.name,
                    contact={"id": contact.id, "phone": contact.phone, **contact.variables},
                    contact_id=contact.id,
                    start_node=start_node,
                ),
                task_queue=route.task_queue,
                start_to_close_timeout=CONVERSE_LIMIT,
                heartbeat_timeout=CONVERSE_HEARTBEAT,
                retry_policy=ONCE,
                result_type=ConverseResult,
            )
        except ActivityError as err:
            record.outcome = TelephonyOutcome.UNKNOWN
            record.detail = f"converse: {err.cause or err}"
            await self._recover(record, "converse")
            return record
        record.outcome = "opted_out" if talk.opted_out else talk.outcome
        record.detail = talk.error or " > ".join(talk.node_path)
        if talk.callback_at:
            self._callback_at = datetime.fromisoformat(talk.callback_at)
        return record

    async def _recover(self, record: AttemptRecord, lost: Literal["dial", "converse"]) -> None:
        """The attempt's result was lost (a worker or Temporal went down): take what the PBX
        or the call stored in PostgreSQL, if anything; else it stays ``unknown``."""
        if not workflow.patched(RECOVER_LOST_RESULTS):
            return
        found = await workflow.execute_local_activity(
            ActivityName.RECOVER_ATTEMPT,
            RecoverAttempt(record.attempt_id, lost),
            start_to_close_timeout=IO_TIMEOUT,
            retry_policy=IO_RETRY,
            result_type=RecoveredOutcome,
        )
        if found.outcome is not None:
            record.outcome = found.outcome
            record.detail = f"{found.detail}; {record.detail}"

    async def _wait_until(self, moment: datetime | None) -> bool:
        """Durably wait until ``moment`` (None: no wait); False when the campaign stops."""
        if moment is not None and moment > workflow.now():
            self._next_at = moment
            self._granted = False  # the report below hands a reserved slot back
            await self._report("scheduled")
            try:
                await workflow.wait_condition(
                    lambda: self._stopping, timeout=moment - workflow.now()
                )
            except TimeoutError:
                pass
        self._next_at = None
        return not self._stopping

    async def _acquire_slot(self) -> bool:
        """True with a dial slot (reserved at start, or granted on request); False to stop."""
        if self._in.campaign_workflow_id is None or self._granted:
            return not self._stopping
        await self._report("waiting_slot")
        await workflow.wait_condition(lambda: self._granted or self._stopping)
        return self._granted and not self._stopping

    async def _release_slot(self) -> None:
        # No signal of its own: the next report (scheduled, waiting_slot, final, stopped),
        # due right after the result is recorded, frees the slot (one signal less per call).
        self._granted = False

    async def _record_end(
        self, record: AttemptRecord, action: str, next_at: datetime | None
    ) -> None:
        await workflow.execute_local_activity(
            ActivityName.RECORD_RESULT,
            AttemptEnd(
                attempt_id=record.attempt_id,
                campaign=self._in.plan.name,
                contact_id=self._in.contact.id,
                outcome=record.outcome or "not_dialled",
                dialled=record.dialled,
                action=action,
                next_at=next_at,
                detail=record.detail,
            ),
            start_to_close_timeout=IO_TIMEOUT,
            retry_policy=IO_RETRY,
        )

    async def _record_state(self, status: ContactStatus, outcome: str | None = None) -> None:
        await workflow.execute_local_activity(
            ActivityName.RECORD_STATE,
            ContactState(self._in.plan.name, self._in.contact.id, status, self._next_at, outcome),
            start_to_close_timeout=IO_TIMEOUT,
            retry_policy=IO_RETRY,
        )

    async def _final(self, outcome: str | None) -> ContactResult:
        self._status = "final"
        if outcome is not None:
            workflow.upsert_search_attributes([search.OUTCOME.value_set(outcome)])
        await self._report_end("final", outcome)
        return ContactResult(self._in.contact.id, "final", outcome, self._attempts)

    async def _stopped(self, outcome: str | None) -> ContactResult:
        self._next_at = None
        await self._record_state("stopped", outcome)
        await self._report_end("stopped", outcome)
        return ContactResult(self._in.contact.id, "stopped", outcome, self._attempts)

    async def _report_end(self, status: ContactStatus, outcome: str | None) -> None:
        # The run watching this workflow settles it from the result, one signal (and one
        # workflow task here) less per contact.
        if self._watched:
            self._status = status
            return
        await self._report(status, outcome)

    async def _report(self, status: ContactStatus, outcome: str | None = None) -> None:
        self._status = status
        if self._in.campaign_workflow_id is None:
            return
        last = outcome or (self._attempts[-1].outcome if self._attempts else None)
        update = ContactUpdate(
            workflow.info().workflow_id, status, len(self._attempts), self._next_at, last
        )
        parent = workflow.get_external_workflow_handle(self._in.campaign_workflow_id)
        try:
            await parent.signal(SignalName.CONTACT_UPDATE, update)
        except Exception as err:  # the campaign has ended: the contact's own state stands
            workflow.logger.info("campaign not told of %s: %s", status, err)

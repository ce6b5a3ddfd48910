"""Recording activity stand-ins for workflow tests: scripted PBX results per contact, and a
log of every call with the server time it was scheduled at (time-skipped)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.contact_watch import describe_contacts
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import (
    SHARED_TASK_QUEUE,
    ActivityName,
    AttemptEnd,
    AttemptStart,
    ClosedContact,
    ContactRef,
    ContactsPage,
    ContactsPageInput,
    ContactState,
    ConverseInput,
    ConverseResult,
    DialInput,
    DialOutcome,
    DncEntry,
    RecoverAttempt,
    RecoveredOutcome,
    WorkerRoute,
)
from runtime.workflows.sandbox import workflow_runner

CALL_QUEUE = "voxflow-worker-test"


@asynccontextmanager
async def campaign_workers(
    client: Client, recorder: Recorder, call_activities: list[Callable]
) -> AsyncIterator[None]:
    """The campaign and contact workflows on the shared queue with ``recorder``'s bookkeeping
    activities, and ``call_activities`` (dial, converse) on the call worker's queue."""
    async with (
        Worker(
            client,
            task_queue=SHARED_TASK_QUEUE,
            workflows=[CampaignWorkflow, ContactWorkflow],
            activities=recorder.activities(),
            workflow_runner=workflow_runner(),
        ),
        Worker(client, task_queue=CALL_QUEUE, activities=call_activities),
    ):
        yield


@dataclass
class Step:
    """What one attempt of a contact does: a PBX result, then (if answered) a conversation."""

    dial: str = "answer"
    """``answer``, a telephony outcome (``busy``...), ``crash`` (the activity dies),
    ``outside_window`` or ``no_line`` (the dial activity refuses)."""
    converse: str = "confirmed"
    callback_at: Callable[[datetime], datetime] | None = None
    """Computes the requested callback time from the dial time."""
    stored: str | None = None
    """With ``crash``: what PostgreSQL holds of the attempt all the same (the PBX's answer the
    dial activity wrote before its result was lost); ``None``: nothing."""


@dataclass
class Dialled:
    attempt_id: str
    contact_id: str
    at: datetime
    timezone: str
    workflow_id: str = ""


@dataclass
class Recorder:
    contacts: list[ContactRef]
    scripts: dict[str, list[Step]]
    page_size: int = 2
    events: list[tuple[str, str]] = field(default_factory=list)
    """(kind, attempt id) in the order the activities ran."""
    dials: list[Dialled] = field(default_factory=list)
    refusals: list[Dialled] = field(default_factory=list)
    """Dials refused for want of a line (``no_line``)."""
    ends: list[AttemptEnd] = field(default_factory=list)
    dnc: list[DncEntry] = field(default_factory=list)
    states: list[ContactState] = field(default_factory=list)
    closed: list[ClosedContact] = field(default_factory=list)
    """Contacts the campaign settled because their workflow closed without reporting."""
    _calls: dict[str, int] = field(default_factory=dict)
    _pending_callback: dict[str, Step] = field(default_factory=dict)
    _contact_of: dict[str, str] = field(default_factory=dict)

    def activities(self) -> list[Callable]:
        @activity.defn(name=ActivityName.CONTACTS_PAGE)
        async def contacts_page(arg: ContactsPageInput) -> ContactsPage:
            start = int(arg.cursor or 0)
            end = start + min(arg.limit, self.page_size)
            more = end < len(self.contacts)
            return ContactsPage(self.contacts[start:end], str(end) if more else None)

        @activity.defn(name=ActivityName.BEGIN_ATTEMPT)
        async def begin_attempt(arg: AttemptStart) -> WorkerRoute:
            self.events.append(("recorded", arg.attempt_id))
            self._contact_of[arg.attempt_id] = arg.contact_id
            return WorkerRoute(CALL_QUEUE, "127.0.0.1:9092")

        @activity.defn(name=ActivityName.RECOVER_ATTEMPT)
        async def recover_attempt(arg: RecoverAttempt) -> RecoveredOutcome:
            self.events.append(("recovered", arg.attempt_id))
            contact = self._contact_of[arg.attempt_id]
            step = self.scripts[contact][self._calls[contact] - 1]
            return RecoveredOutcome(step.stored, "stored" if step.stored else "")

        @activity.defn(name=ActivityName.RECORD_RESULT)
        async def record_result(arg: AttemptEnd) -> None:
            self.ends.append(arg)

        @activity.defn(name=ActivityName.ADD_DNC)
        async def add_dnc(arg: DncEntry) -> None:
            self.dnc.append(arg)

        @activity.defn(name=ActivityName.RECORD_STATE)
        async def record_state(arg: ContactState) -> None:
            self.states.append(arg)

        @activity.defn(name=ActivityName.SETTLE_CLOSED)
        async def settle_closed(arg: ClosedContact) -> None:
            self.closed.append(arg)

        return [
            contacts_page,
            begin_attempt,
            recover_attempt,
            record_result,
            add_dnc,
            record_state,
            settle_closed,
            describe_contacts,  # the real one: it asks the Temporal server the test runs on
        ]

    def call_activities(self) -> list[Callable]:
        @activity.defn(name=ActivityName.DIAL)
        async def dial(arg: DialInput) -> DialOutcome:
            at = activity.info().current_attempt_scheduled_time
            self.events.append(("dialled", arg.attempt_id))
            index = self._calls.get(arg.contact_id, 0)
            self._calls[arg.contact_id] = index + 1
            step = self.scripts[arg.contact_id][index]
            if step.dial == "outside_window":
                raise ApplicationError("window closed", type="OutsideWindow", non_retryable=True)
            wid = activity.info().workflow_id or ""
            dialled = Dialled(arg.attempt_id, arg.contact_id, at, arg.timezone, wid)
            if step.dial == "no_line":
                self.refusals.append(dialled)
                raise ApplicationError("no line free", type="NoLineFree", non_retryable=True)
            self.dials.append(dialled)
            if step.dial == "crash":
                raise RuntimeError("worker lost the call")
            if step.dial != "answer":
                return DialOutcome(arg.attempt_id, False, step.dial)
            self._pending_callback[arg.attempt_id] = step
            return DialOutcome(arg.attempt_id, True, None)

        @activity.defn(name=ActivityName.CONVERSE)
        async def converse(arg: ConverseInput) -> ConverseResult:
            step = self._pending_callback.pop(arg.attempt_id)
            at = activity.info().current_attempt_scheduled_time
            callback = step.callback_at(at).isoformat() if step.callback_at else None
            return ConverseResult(
                step.converse, callback_at=callback, opted_out=step.converse == "opted_out"
            )

        return [dial, converse]

    def dials_of(self, contact_id: str) -> list[Dialled]:
        return [d for d in self.dials if d.contact_id == contact_id]

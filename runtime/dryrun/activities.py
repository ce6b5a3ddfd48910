"""The activities a dry-run registers in place of PostgreSQL, the PBX and the AI: contacts
served from memory, attempts recorded in a :class:`Ledger`, calls answered by simulated
callees. The workflows are the production ones, unchanged.

Times come from the test server: a (non-local) activity's scheduled time is the workflow's
``workflow.now()`` when it asked for it, on the skipped clock. Simulated calls take no
simulated time, so a contact's last dial is when it ended. The simulated dial never
refuses a call outside a window (the real one does): the dry-run checks the workflows'
own scheduling, and counts what they dial outside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import activity

from activities.contact_watch import describe_contacts
from runtime.dryrun.callees import OutcomeMix, answered
from runtime.workflows.messages import (
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

CALL_QUEUE = "voxflow-dryrun-calls"
CALLBACK_AFTER = timedelta(days=1)
"""A simulated callee asking for a callback asks for the same time tomorrow."""


@dataclass
class Dial:
    contact_id: str
    timezone: str
    at: datetime
    number: int
    cause: str
    """``first``, ``retry`` or ``callback``: what scheduled this attempt."""
    outcome: str


@dataclass
class Ledger:
    """Everything the simulated activities saw, for the report."""

    contacts: list[ContactRef]
    mix: OutcomeMix
    seed: int
    callback_outcomes: frozenset[str] = frozenset()
    """Outcomes whose rule is ``callback``: their callee names a time."""
    dials: list[Dial] = field(default_factory=list)
    finals: dict[str, str] = field(default_factory=dict)
    """Contact id → its final outcome (or ``stopped``)."""
    in_flight: set[str] = field(default_factory=set)
    peak_in_flight: int = 0
    calls: int = 0
    """Activity calls so far: the dry-run's sign of progress."""
    clock_nudges: int = 0
    """Times the dry-run unlocked the test server's stuck clock (``runtime.dryrun.run``)."""
    leaked_locks: int = 0
    """Time-skipping locks the test server leaked and the dry-run released
    (``runtime.dryrun.locks``)."""
    lost_results: int = 0
    """Attempts the workflows settled as ``unknown`` (a dial or call activity timed out):
    none in a sound run, since the simulated activities answer at once."""
    _last_action: dict[str, str] = field(default_factory=dict)
    _dial_count: dict[str, int] = field(default_factory=dict)
    _drawn: dict[str, str] = field(default_factory=dict)

    def activities(self) -> list[Callable]:
        """The bookkeeping activities (run as local activities by the contact workflow)."""

        @activity.defn(name=ActivityName.CONTACTS_PAGE)
        async def contacts_page(arg: ContactsPageInput) -> ContactsPage:
            self.calls += 1
            start = int(arg.cursor or 0)
            end = start + arg.limit
            more = end < len(self.contacts)
            return ContactsPage(self.contacts[start:end], str(end) if more else None)

        @activity.defn(name=ActivityName.BEGIN_ATTEMPT)
        async def begin_attempt(arg: AttemptStart) -> WorkerRoute:
            self.calls += 1
            self.in_flight.add(arg.attempt_id)
            self.peak_in_flight = max(self.peak_in_flight, len(self.in_flight))
            return WorkerRoute(CALL_QUEUE, "127.0.0.1:0")

        @activity.defn(name=ActivityName.RECORD_RESULT)
        async def record_result(arg: AttemptEnd) -> None:
            self.calls += 1
            self.in_flight.discard(arg.attempt_id)
            self.lost_results += arg.outcome == "unknown"
            if arg.action == "window":
                return
            self._last_action[arg.contact_id] = arg.action
            if arg.action in ("final", "dnc"):
                self.finals[arg.contact_id] = arg.outcome

        @activity.defn(name=ActivityName.ADD_DNC)
        async def add_dnc(arg: DncEntry) -> None:
            self.calls += 1
            return None

        @activity.defn(name=ActivityName.RECORD_STATE)
        async def record_state(arg: ContactState) -> None:
            self.calls += 1
            if arg.status in ("final", "stopped"):
                self.finals.setdefault(arg.contact_id, arg.outcome or arg.status)

        @activity.defn(name=ActivityName.SETTLE_CLOSED)
        async def settle_closed(arg: ClosedContact) -> None:
            self.calls += 1
            self.finals.setdefault(arg.contact_id, arg.outcome)

        @activity.defn(name=ActivityName.RECOVER_ATTEMPT)
        async def recover_attempt(arg: RecoverAttempt) -> RecoveredOutcome:
            self.calls += 1
            return RecoveredOutcome(None)  # a dry run stores nothing to read back

        return [
            contacts_page,
            begin_attempt,
            record_result,
            add_dnc,
            record_state,
            recover_attempt,
            settle_closed,
            describe_contacts,  # the real one: it asks the test server
        ]

    def call_activities(self) -> list[Callable]:
        """Dial and converse against the simulated callees (on :data:`CALL_QUEUE`)."""

        @activity.defn(name=ActivityName.DIAL)
        async def dial(arg: DialInput) -> DialOutcome:
            self.calls += 1
            number = self._dial_count.get(arg.contact_id, 0) + 1
            self._dial_count[arg.contact_id] = number
            outcome = self.mix.draw(self.seed, arg.contact_id, number)
            cause = self._last_action.get(arg.contact_id, "first") if number > 1 else "first"
            at = _scheduled()
            self.dials.append(Dial(arg.contact_id, arg.timezone, at, number, cause, outcome))
            if not answered(outcome):
                return DialOutcome(arg.attempt_id, False, outcome)
            self._drawn[arg.attempt_id] = outcome
            return DialOutcome(arg.attempt_id, True, None)

        @activity.defn(name=ActivityName.CONVERSE)
        async def converse(arg: ConverseInput) -> ConverseResult:
            self.calls += 1
            outcome = self._drawn.pop(arg.attempt_id)
            callback = None
            if outcome in self.callback_outcomes:
                callback = (_scheduled() + CALLBACK_AFTER).isoformat()
            return ConverseResult(outcome, callback_at=callback, opted_out=outcome == "opted_out")

        return [dial, converse]


def _scheduled() -> datetime:
    return activity.info().current_attempt_scheduled_time

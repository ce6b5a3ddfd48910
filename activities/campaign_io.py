"""Campaign persistence activities: contacts read page by page, attempts and contact states
recorded, do-not-call entries added, the outcome of an attempt whose result a workflow lost
read back. All SQL lives in the data layer's repositories
(``runtime.db``); these activities only translate workflow messages to repository calls.

Every activity here is idempotent (keyed by attempt id, contact id or phone), so the
workflows retry them freely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contact_watch import describe_contacts
from dsl.outcomes import TelephonyOutcome
from runtime.db import attempts, contacts, dnc
from runtime.workflows.messages import (
    ActivityName,
    AttemptEnd,
    AttemptStart,
    ClosedContact,
    ContactRef,
    ContactsPage,
    ContactsPageInput,
    ContactState,
    DncEntry,
    RecoverAttempt,
    RecoveredOutcome,
    WorkerRoute,
)

_CONTACT_STATUS = {
    "retry": "scheduled",
    "callback": "scheduled",
    "window": "scheduled",
    "line": "scheduled",
    "dnc": "final",
    "final": "final",
}


class CampaignIO:
    def __init__(self, pool: asyncpg.Pool, route: WorkerRoute | None = None) -> None:
        """``route``: this worker's own queue and AudioSocket address (``begin_attempt``
        answers it); None on a worker that places no calls."""
        self._db = pool
        self._route = route

    def activities(self) -> list[Callable[..., Awaitable[object]]]:
        """Every activity of this class, for a worker's ``activities=`` (one list, so a new
        activity cannot be registered in one worker and forgotten in another)."""
        return [
            self.contacts_page,
            self.begin_attempt,
            self.record_result,
            self.add_dnc,
            self.record_state,
            self.recover_attempt,
            self.settle_closed,
            describe_contacts,
        ]

    @activity.defn(name=ActivityName.CONTACTS_PAGE)
    async def contacts_page(self, arg: ContactsPageInput) -> ContactsPage:
        rows, cursor = await contacts.contacts_page(self._db, arg.campaign, arg.cursor, arg.limit)
        return ContactsPage(
            [
                ContactRef(
                    r.id, r.phone, r.timezone, r.name, {k: str(v) for k, v in r.columns.items()}
                )
                for r in rows
            ],
            cursor,
        )

    @activity.defn(name=ActivityName.BEGIN_ATTEMPT)
    async def begin_attempt(self, arg: AttemptStart) -> WorkerRoute:
        """Record the attempt, then name the worker whose own queue takes its dial: this one
        (a local activity runs in the worker that runs the contact's workflow task)."""
        if self._route is None:
            raise ApplicationError(
                f"attempt {arg.attempt_id}: this worker places no calls (no own task queue)",
                type="NoCallQueue",
            )
        # The attempt (status ``dialing``) is written before the dial activity may originate it.
        await attempts.start_attempt(
            self._db,
            arg.attempt_id,
            campaign=arg.campaign,
            contact=arg.contact_id,
            number=arg.number,
            phone=arg.phone,
            flow_hash=arg.flow_hash,
            window_override=arg.window_override,
        )
        return self._route

    @activity.defn(name=ActivityName.RECOVER_ATTEMPT)
    async def recover_attempt(self, arg: RecoverAttempt) -> RecoveredOutcome:
        """What PostgreSQL knows of an attempt whose dial or converse result was lost."""
        facts = await attempts.attempt_facts(self._db, arg.attempt_id)
        return recovered_outcome(arg.lost, facts)

    @activity.defn(name=ActivityName.RECORD_RESULT)
    async def record_result(self, arg: AttemptEnd) -> None:
        """Settle the attempt and the contact: final, or scheduled with its next attempt time."""
        await attempts.settle_attempt(
            self._db,
            arg.attempt_id,
            campaign=arg.campaign,
            contact=arg.contact_id,
            outcome=arg.outcome,
            action=arg.action,
            next_at=arg.next_at,
            detail=arg.detail,
            status="unknown" if arg.outcome == "unknown" else "finished",
            contact_status=_CONTACT_STATUS[arg.action],
            contact_outcome=None if arg.action in ("window", "line") else arg.outcome,
        )

    @activity.defn(name=ActivityName.RECORD_STATE)
    async def record_state(self, arg: ContactState) -> None:
        await contacts.update_contact_state(
            self._db,
            arg.campaign,
            arg.contact_id,
            status=arg.status,
            outcome=arg.outcome,
            next_attempt_at=arg.next_at,
        )

    @activity.defn(name=ActivityName.SETTLE_CLOSED)
    async def settle_closed(self, arg: ClosedContact) -> None:
        """Settle a contact whose workflow closed without doing so, and its attempt left open
        if it closed mid-call (``aborted``); a contact already settled (it recorded its end
        before it was terminated) keeps its own outcome."""
        await attempts.settle_closed_contact(
            self._db, arg.campaign, arg.contact_id, outcome=arg.outcome, detail=arg.detail
        )

    @activity.defn(name=ActivityName.ADD_DNC)
    async def add_dnc(self, arg: DncEntry) -> None:
        await dnc.add_dnc(
            self._db,
            arg.phone,
            source="campaign",
            reason=arg.reason,
            campaign=arg.campaign,
            contact=arg.contact_id,
        )


MACHINE_OUTCOMES = {TelephonyOutcome.MACHINE.value, TelephonyOutcome.VOICEMAIL.value}


def recovered_outcome(lost: str, facts: attempts.AttemptFacts) -> RecoveredOutcome:
    """The outcome an attempt really had, from what the dial activity and the call stored.

    A lost dial result is the PBX's answer when no person took the call (busy, no answer,
    a machine); a lost conversation is the outcome the call stored when it ended. Anything
    else is not known: ``None``, and the attempt follows the flow's ``on unknown`` rule.
    """
    if facts.call_outcome is not None:
        return RecoveredOutcome(facts.call_outcome, "recovered from the call's stored outcome")
    if lost == "dial" and facts.dial_answered is not None:
        if not facts.dial_answered:
            outcome = facts.dial_outcome or TelephonyOutcome.FAILED.value
            return RecoveredOutcome(outcome, "recovered from the PBX's answer to the originate")
        if facts.dial_outcome in MACHINE_OUTCOMES:
            return RecoveredOutcome(facts.dial_outcome, "recovered: a machine answered")
    return RecoveredOutcome(None)

"""Campaign persistence activities: contacts read page by page, attempts and contact states
recorded, do-not-call entries added. All SQL lives in the data layer's repositories
(``runtime.db``); these activities only translate workflow messages to repository calls.

Every activity here is idempotent (keyed by attempt id, contact id or phone), so the
workflows retry them freely.
"""

from __future__ import annotations

import asyncpg
from temporalio import activity

from runtime.db import attempts, contacts, dnc
from runtime.workflows.messages import (
    ActivityName,
    AttemptEnd,
    AttemptStart,
    ContactRef,
    ContactsPage,
    ContactsPageInput,
    ContactState,
    DncEntry,
)

_CONTACT_STATUS = {
    "retry": "scheduled",
    "callback": "scheduled",
    "window": "scheduled",
    "dnc": "final",
    "final": "final",
}


class CampaignIO:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._db = pool

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

    @activity.defn(name=ActivityName.RECORD_ATTEMPT)
    async def record_attempt(self, arg: AttemptStart) -> None:
        """Write the attempt (status ``dialing``) before the dial activity may originate it."""
        await attempts.record_dialing(
            self._db,
            arg.attempt_id,
            campaign=arg.campaign,
            contact=arg.contact_id,
            number=arg.number,
            phone=arg.phone,
            flow_hash=arg.flow_hash,
        )
        await contacts.update_contact_state(
            self._db, arg.campaign, arg.contact_id, status="dialing", attempts=arg.number
        )

    @activity.defn(name=ActivityName.RECORD_RESULT)
    async def record_result(self, arg: AttemptEnd) -> None:
        """Settle the attempt and the contact: final, or scheduled with its next attempt time."""
        await attempts.finish_attempt(
            self._db,
            arg.attempt_id,
            outcome=arg.outcome,
            action=arg.action,
            next_at=arg.next_at,
            detail=arg.detail,
            status="unknown" if arg.outcome == "unknown" else "finished",
        )
        await contacts.update_contact_state(
            self._db,
            arg.campaign,
            arg.contact_id,
            status=_CONTACT_STATUS[arg.action],
            outcome=None if arg.action == "window" else arg.outcome,
            next_attempt_at=arg.next_at,
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

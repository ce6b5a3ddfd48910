"""The webhook events a state change emits, inside that change's transaction.

The repositories that settle calls, contacts and do-not-call entries call these with the
connection of their own transaction (``runtime/db/calls.py``, ``attempts.py``, ``contacts.py``,
``dnc.py``); the events reach the outbox exactly when the change commits
(``runtime/db/webhooks.py``).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from runtime.db.webhooks import emit
from runtime.webhooks import events
from runtime.webhooks.events import EventType

SETTLED = ("final", "stopped")
"""Contact statuses after which a contact is never dialled again."""


async def call_completed(conn: asyncpg.Connection, call: dict[str, Any]) -> None:
    """``call.completed`` for the ``calls`` row (with ``attempt_number``) the end wrote."""
    attempt = call.pop("attempt_number", None)
    await emit(conn, EventType.CALL_COMPLETED, call["id"], events.call_completed(call, attempt))


async def contact_settled(conn: asyncpg.Connection, campaign: str, contact: str) -> None:
    """``contact.settled`` when the contact's status is settled; when it was the campaign's
    last open contact, the campaign's row says ``finished`` (``stopped`` when it was stopped)
    and ``campaign.completed`` is emitted, in this same transaction."""
    row = await conn.fetchrow(
        "SELECT campaign, id, phone, status, outcome, attempts FROM contacts"
        " WHERE campaign = $1 AND id = $2",
        campaign,
        contact,
    )
    if row is None or row["status"] not in SETTLED:
        return
    await emit(
        conn, EventType.CONTACT_SETTLED, f"{campaign}/{contact}", events.contact_settled(dict(row))
    )
    # Serialise the last settlements of one campaign: whichever takes the lock second sees
    # the other's contact committed, so exactly one of them finds nothing open.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('voxflow-campaign:' || voxflow_tenant() || '/' || $1))",
        campaign,
    )
    open_left = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE campaign = $1"
        " AND status NOT IN ('final', 'stopped'))",
        campaign,
    )
    if open_left:
        return
    # Whatever started the workflow (the API, `voxflow campaign start`, the demo) and whatever
    # sent the stop (the API or the CLI), the row is where operators read the campaign's state:
    # the API, `voxflow campaign status`, the studio. Contacts end `stopped` only on a stop.
    await conn.execute(
        "UPDATE campaigns SET updated_at = now(), status = CASE WHEN EXISTS (SELECT 1 FROM"
        " contacts WHERE campaign = $1 AND status = 'stopped') THEN 'stopped' ELSE 'finished' END"
        " WHERE name = $1 AND status NOT IN ('stopped', 'finished')",
        campaign,
    )
    by_status = await conn.fetch(
        "SELECT status, count(*) AS n FROM contacts WHERE campaign = $1 GROUP BY status", campaign
    )
    by_outcome = await conn.fetch(
        "SELECT outcome, count(*) AS n FROM contacts WHERE campaign = $1 AND outcome IS NOT NULL"
        " GROUP BY outcome",
        campaign,
    )
    await emit(
        conn,
        EventType.CAMPAIGN_COMPLETED,
        campaign,
        events.campaign_completed(
            campaign,
            {r["status"]: r["n"] for r in by_status},
            {r["outcome"]: r["n"] for r in by_outcome},
        ),
    )


async def opted_out(conn: asyncpg.Connection, entry: dict[str, Any]) -> None:
    """``contact.opted_out`` for a new entry of a tenant's list (the platform-wide list,
    tenant ``NULL``, belongs to no tenant's endpoints)."""
    if entry.get("tenant") is None:
        return
    subject = f"{entry['phone']}@{entry['created_at'].isoformat()}"
    await emit(conn, EventType.CONTACT_OPTED_OUT, subject, events.contact_opted_out(entry))

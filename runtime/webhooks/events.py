"""The events voxflow sends to webhooks, and what each carries.

Every request body is one JSON object::

    {"id": "<event uuid>", "type": "call.completed", "tenant": "acme",
     "created_at": "2026-12-06T07:00:00+00:00", "data": {...}}

``id`` is the event's, stable across retries and shared by every endpoint it goes to, so a
receiver deduplicates on it. No event carries a secret; a phone number appears only in the
events about that contact or number.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    CALL_COMPLETED = "call.completed"
    """A call ended: outcome, duration, node path, slots collected, cost, recording path."""
    CONTACT_SETTLED = "contact.settled"
    """A contact of a campaign reached its final state: outcome and attempts."""
    CONTACT_OPTED_OUT = "contact.opted_out"
    """A number was put on the tenant's do-not-call list (by the caller, the API, the CLI)."""
    CAMPAIGN_COMPLETED = "campaign.completed"
    """The last open contact of a campaign settled."""
    WEBHOOK_TEST = "webhook.test"
    """Sent by ``voxflow webhook test``: proves the endpoint and its secret."""


EVENT_TYPES = frozenset(EventType)


def recording_path(call_id: str, recording: str | None) -> str | None:
    """The API path that serves the call's recording (``GET /calls/{id}/recording``)."""
    return None if recording is None else f"/calls/{call_id}/recording"


def call_completed(call: dict[str, Any], attempt: int | None) -> dict[str, Any]:
    """``call.completed`` data from the ``calls`` row as the end of the call left it."""
    cost = call.get("cost_usd")
    return {
        "call_id": call["id"],
        "attempt_id": call["id"] if call.get("campaign") is not None else None,
        "attempt": attempt,
        "direction": call["direction"],
        "campaign": call.get("campaign"),
        "contact_id": call.get("contact"),
        "phone": call.get("phone"),
        "flow_hash": call.get("flow_hash"),
        "outcome": call["outcome"],
        "ended_by": call.get("ended_by"),
        "duration_ms": call.get("duration_ms"),
        "turns": call.get("turns"),
        "node_path": list(call.get("node_path") or []),
        "slots": call.get("slots") or {},
        "cost_usd": None if cost is None else float(cost),
        "recording_path": recording_path(call["id"], call.get("recording")),
        "error": call.get("error"),
    }


def contact_settled(contact: dict[str, Any]) -> dict[str, Any]:
    """``contact.settled`` data from the ``contacts`` row in its final state."""
    return {
        "campaign": contact["campaign"],
        "contact_id": contact["id"],
        "phone": contact["phone"],
        "status": contact["status"],
        "outcome": contact["outcome"],
        "attempts": contact["attempts"],
    }


def contact_opted_out(entry: dict[str, Any]) -> dict[str, Any]:
    """``contact.opted_out`` data from the new ``do_not_call`` row."""
    return {
        "phone": entry["phone"],
        "source": entry["source"],
        "reason": entry["reason"],
        "campaign": entry.get("campaign"),
        "contact_id": entry.get("contact"),
        "call_id": entry.get("call_id"),
    }


def campaign_completed(campaign: str, contacts: dict[str, int], outcomes: dict[str, int]) -> dict:
    """``campaign.completed`` data: contacts by status and by final outcome."""
    return {"campaign": campaign, "contacts": contacts, "outcomes": outcomes}

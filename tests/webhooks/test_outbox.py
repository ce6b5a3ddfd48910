"""Events are written by the transaction of the change they report: once per change, never
for a change rolled back, and ``campaign.completed`` exactly once when contacts settle at
the same time."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from dsl.compiler import load_flow
from runtime import tenancy
from runtime.db import attempts, calls, campaigns, contacts, dnc, flows, webhooks
from tests.db.conftest import REMINDER
from tests.db.test_repositories import _contact


@pytest.fixture(autouse=True)
async def endpoint(outbox: asyncpg.Pool) -> None:
    """An endpoint of the default tenant wanting every event (never sent to here)."""
    await webhooks.create_webhook(outbox, "http://127.0.0.1:9/outbox", events=[])


async def _events(pool: asyncpg.Pool, type: str | None = None) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT id, type, subject, payload FROM webhook_events"
        " WHERE $1::text IS NULL OR type = $1 ORDER BY created_at, subject",
        type,
    )


async def _campaign(pool: asyncpg.Pool, size: int) -> str:
    flow = load_flow(REMINDER)
    await flows.save_flow(pool, flow)
    name = f"wh-{uuid.uuid4().hex[:8]}"
    await campaigns.create_campaign(pool, name, flow.hash)
    await contacts.store_contacts(pool, name, [_contact(i) for i in range(size)])
    return name


async def _attempt(pool: asyncpg.Pool, campaign: str, contact: str, number: int = 1) -> str:
    attempt = str(uuid.uuid4())
    await attempts.start_attempt(
        pool, attempt, campaign=campaign, contact=contact, number=number, phone="+12125550000"
    )
    return attempt


async def _settle(
    pool: asyncpg.Pool, campaign: str, contact: str, attempt: str, final: bool
) -> None:
    await attempts.settle_attempt(
        pool,
        attempt,
        campaign=campaign,
        contact=contact,
        outcome="confirmed" if final else "no_answer",
        action="final" if final else "retry",
        next_at=None,
        detail="",
        status="finished",
        contact_status="final" if final else "scheduled",
        contact_outcome="confirmed" if final else "no_answer",
    )


async def test_the_end_of_a_call_emits_one_call_completed(outbox: asyncpg.Pool) -> None:
    campaign = await _campaign(outbox, 1)
    attempt = await _attempt(outbox, campaign, "c000", number=2)
    await calls.start_call(outbox, attempt, campaign=campaign, contact="c000", phone="+12125550000")
    for _ in range(2):  # a retried activity ends the call twice
        await calls.end_call(
            outbox,
            attempt,
            outcome="confirmed",
            node_path=["greet", "confirm"],
            turns=4,
            duration_ms=12_500,
            usage={"openai": {"cost_usd": 0.0125}},
            recording=f"{attempt}.wav",
            slots={"confirmed": True, "time": "15:00"},
        )
    (event,) = await _events(outbox, "call.completed")
    data = event["payload"]
    assert event["subject"] == attempt
    assert data == {
        "call_id": attempt,
        "attempt_id": attempt,
        "attempt": 2,
        "direction": "outbound",
        "campaign": campaign,
        "contact_id": "c000",
        "phone": "+12125550000",
        "flow_hash": None,
        "outcome": "confirmed",
        "ended_by": None,
        "duration_ms": 12_500,
        "turns": 4,
        "node_path": ["greet", "confirm"],
        "slots": {"confirmed": True, "time": "15:00"},
        "cost_usd": 0.0125,
        "recording_path": f"/calls/{attempt}/recording",
        "error": None,
    }


async def test_a_change_rolled_back_emits_nothing(outbox: asyncpg.Pool) -> None:
    async with outbox.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await calls.end_call(conn, "rolled-back", outcome="failed")
        await dnc.add_dnc(conn, "+12125550142", source="api")
        assert len(await conn.fetch("SELECT 1 FROM webhook_events")) == 2
        await tx.rollback()
    assert await _events(outbox) == []


async def test_settled_contacts_then_the_campaign_emit_once_each(outbox: asyncpg.Pool) -> None:
    campaign = await _campaign(outbox, 3)
    first = await _attempt(outbox, campaign, "c000")
    await _settle(outbox, campaign, "c000", first, final=False)  # a retry: not settled yet
    assert await _events(outbox) == []
    await _settle(outbox, campaign, "c000", await _attempt(outbox, campaign, "c000", 2), True)
    await contacts.update_contact_state(
        outbox, campaign, "c000", status="final", outcome="confirmed"
    )  # the workflow's own record of the end: no second event
    (settled,) = await _events(outbox, "contact.settled")
    assert settled["payload"] == {
        "campaign": campaign,
        "contact_id": "c000",
        "phone": "+12125550000",
        "status": "final",
        "outcome": "confirmed",
        "attempts": 2,
    }
    assert await _events(outbox, "campaign.completed") == []
    # The last two contacts settle at the same moment, on two connections.
    last = [(c, await _attempt(outbox, campaign, c)) for c in ("c001", "c002")]
    await asyncio.gather(*(_settle(outbox, campaign, c, a, True) for c, a in last))
    (done,) = await _events(outbox, "campaign.completed")
    assert done["payload"] == {
        "campaign": campaign,
        "contacts": {"final": 3},
        "outcomes": {"confirmed": 3},
    }
    assert len(await _events(outbox, "contact.settled")) == 3


async def test_a_stopped_contact_counts_as_settled(outbox: asyncpg.Pool) -> None:
    campaign = await _campaign(outbox, 1)
    await contacts.update_contact_state(outbox, campaign, "c000", status="stopped")
    (settled,) = await _events(outbox, "contact.settled")
    assert settled["payload"]["status"] == "stopped"
    assert len(await _events(outbox, "campaign.completed")) == 1


async def test_an_opt_out_emits_contact_opted_out_but_the_platform_list_does_not(
    outbox: asyncpg.Pool,
) -> None:
    assert await dnc.add_dnc(
        outbox, "+12125550150", source="call", reason="asked", campaign="x", contact="c9"
    )
    assert not await dnc.add_dnc(outbox, "+12125550150", source="api")
    (event,) = await _events(outbox, "contact.opted_out")
    assert event["payload"] == {
        "phone": "+12125550150",
        "source": "call",
        "reason": "asked",
        "campaign": "x",
        "contact_id": "c9",
        "call_id": None,
    }
    with tenancy.acting_as(tenancy.PLATFORM):
        assert await dnc.add_dnc(outbox, "+12125550151", source="cli")
        assert len(await _events(outbox)) == 1


async def test_nothing_is_stored_when_no_endpoint_wants_the_event(outbox: asyncpg.Pool) -> None:
    await outbox.execute("DELETE FROM webhooks")
    await webhooks.create_webhook(outbox, "http://127.0.0.1:9/calls", events=["call.completed"])
    assert await dnc.add_dnc(outbox, "+12125550170", source="api")
    await calls.end_call(outbox, "no-endpoint", outcome="failed")
    assert [e["type"] for e in await _events(outbox)] == ["call.completed"]

"""The single-statement attempt steps a dial pays for: start (attempt + contact), claim
(do-not-call + originate right), settle (attempt + contact), against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from runtime.contacts import Contact
from runtime.db import attempts, contacts, dnc

PHONE = "+12125550177"
BLOCKED = "+12125550178"
"""Put on do-not-call by one test (the module's tests share a database)."""


@pytest.fixture
async def campaign(pg_pool: asyncpg.Pool, campaign: str) -> str:
    """The reminder campaign with one contact, ``k1``."""
    contact = Contact("k1", PHONE, "America/New_York", "column", "Kim", 1, {}, {})
    await contacts.store_contacts(pg_pool, campaign, [contact])
    return campaign


async def start(pool: asyncpg.Pool, campaign: str, attempt_id: str, number: int = 1) -> bool:
    return await attempts.start_attempt(
        pool, attempt_id, campaign=campaign, contact="k1", number=number, phone=PHONE
    )


async def test_starting_an_attempt_records_it_once_and_marks_the_contact_dialing(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    assert await start(pg_pool, campaign, "a-1", number=2) is True
    assert await start(pg_pool, campaign, "a-1", number=2) is False
    row = await attempts.get_attempt(pg_pool, "a-1")
    assert row is not None and (row.status, row.number, row.phone) == ("dialing", 2, PHONE)
    contact = await contacts.get_contact(pg_pool, campaign, "k1")
    assert contact is not None and (contact.status, contact.attempts) == ("dialing", 2)


async def test_the_first_claim_wins_and_a_second_is_already_originated(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    await start(pg_pool, campaign, "a-2")
    assert await attempts.claim_for_dial(pg_pool, "a-2", PHONE) == "claimed"
    assert await attempts.claim_for_dial(pg_pool, "a-2", PHONE) == "already_originated"
    row = await attempts.get_attempt(pg_pool, "a-2")
    assert row is not None and row.originated_at is not None


async def test_a_number_on_do_not_call_is_refused_and_its_attempt_stays_unclaimed(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    await start(pg_pool, campaign, "a-3")
    await dnc.add_dnc(pg_pool, BLOCKED, source="api", reason="asked by email")
    assert await attempts.claim_for_dial(pg_pool, "a-3", BLOCKED) == "do_not_call"
    row = await attempts.get_attempt(pg_pool, "a-3")
    assert row is not None and row.originated_at is None


async def test_an_unrecorded_or_settled_attempt_cannot_be_claimed(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    assert await attempts.claim_for_dial(pg_pool, "never", PHONE) == "not_recorded"
    await start(pg_pool, campaign, "a-4")
    await attempts.finish_attempt(pg_pool, "a-4", outcome="busy", action="final")
    assert await attempts.claim_for_dial(pg_pool, "a-4", PHONE) == "not_recorded"


async def test_settling_writes_the_attempt_and_the_contact_together_idempotently(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    await start(pg_pool, campaign, "a-5")
    retry_at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    for _ in range(2):  # a retried activity changes nothing
        assert await attempts.settle_attempt(
            pg_pool,
            "a-5",
            campaign=campaign,
            contact="k1",
            outcome="busy",
            action="retry",
            next_at=retry_at,
            detail="busy",
            status="finished",
            contact_status="scheduled",
            contact_outcome="busy",
        )
    row = await attempts.get_attempt(pg_pool, "a-5")
    assert row is not None
    assert (row.status, row.outcome, row.action, row.next_at) == (
        "finished",
        "busy",
        "retry",
        retry_at,
    )
    contact = await contacts.get_contact(pg_pool, campaign, "k1")
    assert contact is not None
    assert (contact.status, contact.outcome, contact.next_attempt_at) == (
        "scheduled",
        "busy",
        retry_at,
    )
    assert not await attempts.settle_attempt(
        pg_pool,
        "never",
        campaign=campaign,
        contact="k1",
        outcome="busy",
        action="final",
        next_at=None,
        detail="",
        status="finished",
        contact_status="final",
        contact_outcome="busy",
    )

"""A contact whose workflow closed without recording its end is settled with its open attempt:
the attempt ``aborted`` (its line freed), that attempt's call ended ``aborted`` (no longer
shown live) and the contact ``final``, in one transaction, once; earlier finished attempts,
calls already ended and an already settled contact keep what they recorded
(``attempts.settle_closed_contact``, migrations 0203 and 0204)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from runtime import tenancy
from runtime.db import attempts, calls, campaigns, contacts, webhooks
from tests.db.test_campaign_finish import _running


async def _attempt(pool: asyncpg.Pool, campaign: str, contact: str, number: int) -> str:
    attempt_id = str(uuid.uuid4())
    await attempts.start_attempt(
        pool, attempt_id, campaign=campaign, contact=contact, number=number, phone="+12125550000"
    )
    return attempt_id


async def test_a_contact_closed_mid_call_has_its_attempt_aborted_with_the_reason(
    pg_pool: asyncpg.Pool,
) -> None:
    name = await _running(pg_pool, 1)
    first = await _attempt(pg_pool, name, "c000", 1)
    await attempts.finish_attempt(pg_pool, first, outcome="busy", action="retry")
    open_ = await _attempt(pg_pool, name, "c000", 2)
    assert await attempts.claim_for_dial(pg_pool, open_, "+12125550000", lines=1) == "claimed"
    await attempts.mark_answered(pg_pool, open_)

    why = "workflow_terminated: operator ended it"
    settled = await attempts.settle_closed_contact(
        pg_pool, name, "c000", outcome="workflow_terminated", detail=why
    )

    assert settled
    aborted = await attempts.get_attempt(pg_pool, open_)
    assert aborted is not None
    assert (aborted.status, aborted.outcome, aborted.detail) == ("aborted", "aborted", why)
    assert aborted.ended_at is not None  # it holds its line no more
    kept = await attempts.get_attempt(pg_pool, first)
    assert kept is not None and (kept.status, kept.outcome) == ("finished", "busy")
    row = await contacts.get_contact(pg_pool, name, "c000")
    assert (row.status, row.outcome) == ("final", "workflow_terminated")
    assert (await campaigns.get_campaign(pg_pool, name)).status == "finished"
    # The freed line takes the next call.
    other = await _attempt(pg_pool, name, "c000", 3)
    assert await attempts.claim_for_dial(pg_pool, other, "+12125550000", lines=1) == "claimed"


async def test_settling_a_closed_contact_twice_changes_nothing(pg_pool: asyncpg.Pool) -> None:
    name = await _running(pg_pool, 2)
    open_ = await _attempt(pg_pool, name, "c000", 1)
    assert await attempts.settle_closed_contact(
        pg_pool, name, "c000", outcome="workflow_failed", detail="failed: boom"
    )
    before = await attempts.get_attempt(pg_pool, open_)

    assert not await attempts.settle_closed_contact(
        pg_pool, name, "c000", outcome="workflow_terminated", detail="terminated: again"
    )

    assert await attempts.get_attempt(pg_pool, open_) == before
    row = await contacts.get_contact(pg_pool, name, "c000")
    assert (row.status, row.outcome) == ("final", "workflow_failed")
    assert (await campaigns.get_campaign(pg_pool, name)).status == "running"  # c001 is open


async def test_a_contact_that_recorded_its_end_keeps_its_outcome(pg_pool: asyncpg.Pool) -> None:
    name = await _running(pg_pool, 1)
    attempt = await _attempt(pg_pool, name, "c000", 1)
    await attempts.settle_attempt(
        pg_pool,
        attempt,
        campaign=name,
        contact="c000",
        outcome="confirmed",
        action="final",
        next_at=None,
        detail="",
        status="finished",
        contact_status="final",
        contact_outcome="confirmed",
    )

    assert not await attempts.settle_closed_contact(
        pg_pool, name, "c000", outcome="workflow_terminated", detail="terminated: late"
    )

    row = await contacts.get_contact(pg_pool, name, "c000")
    assert (row.status, row.outcome) == ("final", "confirmed")
    kept = await attempts.get_attempt(pg_pool, attempt)
    assert kept is not None and (kept.status, kept.outcome) == ("finished", "confirmed")


async def test_the_schema_refuses_an_attempt_status_it_does_not_know(
    pg_pool: asyncpg.Pool,
) -> None:
    name = await _running(pg_pool, 1)
    attempt = await _attempt(pg_pool, name, "c000", 1)
    with pytest.raises(asyncpg.CheckViolationError):
        await pg_pool.execute("UPDATE attempts SET status = 'halted' WHERE id = $1", attempt)


async def test_the_call_of_an_attempt_aborted_mid_call_ends_with_it(pg_pool: asyncpg.Pool) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        await pg_pool.execute("DELETE FROM webhooks; DELETE FROM webhook_events")
    await webhooks.create_webhook(pg_pool, "http://127.0.0.1:9/hook", events=["call.completed"])
    name = await _running(pg_pool, 1)
    finished = await _attempt(pg_pool, name, "c000", 1)
    await calls.start_call(pg_pool, finished, campaign=name, contact="c000")
    await calls.end_call(pg_pool, finished, outcome="hung_up", ended_by="caller", duration_ms=900)
    await attempts.finish_attempt(pg_pool, finished, outcome="hung_up", action="retry")
    live = await _attempt(pg_pool, name, "c000", 2)
    await attempts.mark_answered(pg_pool, live)
    await calls.start_call(pg_pool, live, campaign=name, contact="c000")
    await calls.append_transcript(pg_pool, live, [calls.Turn(0, "agent", "Hi, this is Ava.")])

    why = "Terminated"
    assert await attempts.settle_closed_contact(
        pg_pool, name, "c000", outcome="workflow_terminated", detail=why
    )

    aborted = (await calls.get_call(pg_pool, live)).call
    assert aborted.ended_at is not None
    assert (aborted.outcome, aborted.ended_by, aborted.error) == ("aborted", "aborted", why)
    attempt = await attempts.get_attempt(pg_pool, live)
    assert attempt is not None and attempt.ended_at == aborted.ended_at  # one transaction
    kept = (await calls.get_call(pg_pool, finished)).call
    assert (kept.outcome, kept.ended_by, kept.duration_ms) == ("hung_up", "caller", 900)
    subjects = await pg_pool.fetch(
        "SELECT subject, payload FROM webhook_events WHERE type = 'call.completed'"
        " ORDER BY created_at"
    )
    assert [r["subject"] for r in subjects] == [finished, live]
    assert (subjects[1]["payload"]["outcome"], subjects[1]["payload"]["ended_by"]) == (
        "aborted",
        "aborted",
    )

    # The worker that ran the call records its end later: its details fill the row, the
    # settled instant, reason and event stay.
    await calls.end_call(
        pg_pool, live, outcome="aborted", ended_by="aborted", turns=1, duration_ms=4_000
    )
    late = (await calls.get_call(pg_pool, live)).call
    assert (late.ended_at, late.error, late.duration_ms) == (aborted.ended_at, why, 4_000)
    assert (
        await pg_pool.fetchval(
            "SELECT count(*) FROM webhook_events WHERE type = 'call.completed' AND subject = $1",
            live,
        )
        == 1
    )
    # Settling again finds nothing open.
    assert not await attempts.settle_closed_contact(
        pg_pool, name, "c000", outcome="workflow_terminated", detail="again"
    )
    assert (await calls.get_call(pg_pool, live)).call == late


async def test_the_schema_accepts_aborted_as_who_ended_a_call_and_nothing_unknown(
    pg_pool: asyncpg.Pool,
) -> None:
    await calls.start_call(pg_pool, "call-schema")
    await pg_pool.execute("UPDATE calls SET ended_by = 'aborted' WHERE id = 'call-schema'")
    with pytest.raises(asyncpg.CheckViolationError):
        await pg_pool.execute("UPDATE calls SET ended_by = 'vanished' WHERE id = 'call-schema'")

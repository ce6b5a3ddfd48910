"""Repositories against a real PostgreSQL: idempotent writes, paging, round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from dsl.compiler import load_flow
from runtime.contacts import Contact
from runtime.db import attempts, callbacks, calls, campaigns, contacts, dnc, flows
from runtime.db.persistence import PgPersistence
from runtime.persistence import Callback, OptOut, Persistence, TranscriptEntry
from tests.db.conftest import REMINDER


def _contact(i: int, phone: str | None = None) -> Contact:
    return Contact(
        id=f"c{i:03d}",
        phone=phone or f"+1212555{i:04d}",
        timezone="America/New_York",
        timezone_source="column",
        name=f"Name {i}",
        row=i + 1,
        columns={"id": f"c{i:03d}"},
        fields={"visits": i},
    )


async def test_flow_versions_round_trip_by_hash_and_save_twice(pg_pool: asyncpg.Pool) -> None:
    flow = load_flow(REMINDER)
    assert await flows.save_flow(pg_pool, flow) == flow.hash
    assert await flows.save_flow(pg_pool, flow) == flow.hash
    loaded = await flows.load_flow(pg_pool, flow.hash)
    assert loaded is not None and loaded.to_json() == flow.to_json()
    assert await flows.load_flow(pg_pool, "sha256:nope") is None


async def test_campaign_names_are_unique_and_status_changes(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    flow = load_flow(REMINDER)
    with pytest.raises(campaigns.CampaignExists):
        await campaigns.create_campaign(pg_pool, campaign, flow.hash)
    row = await campaigns.set_status(pg_pool, campaign, "running")
    assert row is not None and row.status == "running"
    assert await campaigns.set_status(pg_pool, "missing", "running") is None


async def test_contacts_page_in_import_order_to_the_end(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    stored = await contacts.store_contacts(pg_pool, campaign, [_contact(i) for i in range(7)])
    assert (stored.inserted, stored.conflicts) == (7, ())
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = await contacts.contacts_page(pg_pool, campaign, cursor, 3)
        pages += 1
        seen += [c.id for c in page]
        if cursor is None:
            break
    assert seen == [f"c{i:03d}" for i in range(7)]
    assert pages == 3
    one = await contacts.get_contact(pg_pool, campaign, "c002")
    assert one is not None and one.fields == {"visits": 2} and one.source_row == 3


async def test_reimporting_contacts_reports_each_conflict(
    pg_pool: asyncpg.Pool, campaign: str
) -> None:
    await contacts.store_contacts(pg_pool, campaign, [_contact(1), _contact(2)])
    again = await contacts.store_contacts(
        pg_pool, campaign, [_contact(1), _contact(3, phone="+12125550002"), _contact(4)]
    )
    assert again.inserted == 1
    assert [(c.id, "already") for c, why in again.conflicts if "already" in why] == [
        ("c001", "already"),
        ("c003", "already"),
    ]


async def test_recording_an_attempt_twice_tells_the_retry_not_to_dial(
    pg_pool: asyncpg.Pool,
) -> None:
    args = dict(campaign="c", contact="k", number=1, phone="+12125550100")
    assert await attempts.record_dialing(pg_pool, "att-1", **args) is True
    assert await attempts.record_dialing(pg_pool, "att-1", **args) is False
    await attempts.mark_answered(pg_pool, "att-1")
    assert await attempts.finish_attempt(
        pg_pool, "att-1", outcome="busy", action="retry", next_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert await attempts.finish_attempt(pg_pool, "att-1", outcome="busy", action="retry")
    row = await attempts.get_attempt(pg_pool, "att-1")
    assert row is not None
    assert (row.status, row.outcome, row.action) == ("finished", "busy", "retry")
    assert row.answered_at is not None and row.ended_at is not None
    assert await attempts.outcome_counts(pg_pool, "c") == {"busy": 1}
    assert await attempts.finish_attempt(pg_pool, "never-recorded", outcome="busy") is False


async def test_call_detail_has_transcript_in_order_tool_calls_and_node_path(
    pg_pool: asyncpg.Pool,
) -> None:
    await calls.start_call(pg_pool, "call-1", campaign="c", contact="k", phone="+12125550100")
    await calls.append_transcript(
        pg_pool,
        "call-1",
        [calls.Turn(1, "caller", "yes", node="greet"), calls.Turn(0, "agent", "Hi", node="greet")],
    )
    # a retried write of the same entries changes nothing
    await calls.append_transcript(pg_pool, "call-1", [calls.Turn(1, "caller", "DIFFERENT")])
    await calls.record_tool_call(
        pg_pool, "call-1", "t1", name="lookup", arguments={"q": 1}, ended=False
    )
    await calls.record_tool_call(
        pg_pool, "call-1", "t1", name="lookup", arguments={"q": 1}, result={"ok": True}
    )
    await calls.end_call(
        pg_pool, "call-1", outcome="confirmed", node_path=["greet", "confirmed"], turns=2
    )
    detail = await calls.get_call(pg_pool, "call-1")
    assert detail is not None
    assert [(t.seq, t.role, t.text, t.node) for t in detail.transcript] == [
        (0, "agent", "Hi", "greet"),
        (1, "caller", "yes", "greet"),
    ]
    assert [(t.tool_call_id, t.result) for t in detail.tool_calls] == [("t1", {"ok": True})]
    assert detail.call.node_path == ["greet", "confirmed"]
    assert detail.call.outcome == "confirmed"
    listed = await calls.list_calls(pg_pool, campaign="c")
    assert [c.id for c in listed] == ["call-1"]
    assert await calls.list_calls(pg_pool, campaign="other") == []


async def test_transcript_for_an_unknown_call_creates_the_call(pg_pool: asyncpg.Pool) -> None:
    await calls.append_transcript(pg_pool, "call-orphan", [calls.Turn(0, "agent", "Hello")])
    detail = await calls.get_call(pg_pool, "call-orphan")
    assert detail is not None and [t.text for t in detail.transcript] == ["Hello"]


async def test_do_not_call_add_is_idempotent_and_removable(pg_pool: asyncpg.Pool) -> None:
    assert await dnc.add_dnc(pg_pool, "+12125550199", source="api", reason="asked") is True
    assert await dnc.add_dnc(pg_pool, "+12125550199", source="call") is False
    entry = await dnc.get_dnc(pg_pool, "+12125550199")
    assert entry is not None and (entry.source, entry.reason) == ("api", "asked")
    assert await dnc.is_dnc(pg_pool, "+12125550199")
    assert await dnc.remove_dnc(pg_pool, "+12125550199") is True
    assert not await dnc.is_dnc(pg_pool, "+12125550199")
    assert await dnc.remove_dnc(pg_pool, "+12125550199") is False


async def test_callback_keeps_the_instant_and_refuses_naive_times(pg_pool: asyncpg.Pool) -> None:
    due = datetime(2026, 3, 9, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    now = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert await callbacks.add_callback(pg_pool, call_id="call-9", due_at=due, requested_at=now)
    assert not await callbacks.add_callback(pg_pool, call_id="call-9", due_at=due, requested_at=now)
    (row,) = await callbacks.callbacks_for(pg_pool, call_id="call-9")
    assert row.due_at == due
    assert await callbacks.due_callbacks(pg_pool, due - timedelta(seconds=1)) == []
    assert [c.key for c in await callbacks.due_callbacks(pg_pool, due)] == [row.key]
    with pytest.raises(ValueError, match="aware"):
        await callbacks.add_callback(
            pg_pool, call_id="x", due_at=datetime(2026, 1, 1), requested_at=now
        )


async def test_pg_persistence_is_a_persistence_and_writes_are_durable_on_return(
    pg_pool: asyncpg.Pool, pg_url: str
) -> None:
    store: Persistence = PgPersistence(pg_pool, campaign="camp")
    now = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    await store.add_opt_out(OptOut(phone="+12125550777", call_id="call-p", at=now, reason="stop"))
    await store.add_callback(
        Callback(call_id="call-p", at=now + timedelta(days=1), requested_at=now, contact_id="k")
    )
    await store.append_transcript(
        [TranscriptEntry("call-p", 0, "agent", "Hi", node="greet", data={"x": 1})]
    )
    # Read back on a separate connection: committed, not just visible to the writer.
    other = await asyncpg.connect(pg_url)
    try:
        assert (
            await other.fetchval("SELECT source FROM do_not_call WHERE phone = '+12125550777'")
            == "call"
        )
        assert await other.fetchval("SELECT contact FROM callbacks WHERE call_id = 'call-p'") == "k"
        assert (
            await other.fetchval(
                "SELECT text FROM transcripts WHERE call_id = 'call-p' AND seq = 0"
            )
            == "Hi"
        )
    finally:
        await other.close()
    assert await store.is_opted_out("+12125550777")
    assert not await store.is_opted_out("+12125550778")

"""Every built-in tool, run through ``ToolRunner`` as the engine's drivers do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from dsl.ir import (
    Agent,
    CallingWindow,
    Campaign,
    ContactsSource,
    Flow,
    KnowledgeTool,
    Node,
    OutcomeRule,
    Template,
)
from runtime.engine.events import CallTool
from runtime.knowledge import InMemoryKnowledgeBase
from runtime.persistence import InMemoryPersistence
from runtime.tools import ToolRunner

# Monday 2026-11-23 10:00 in New York.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TZ = "America/New_York"


def flow(*, windows=True, knowledge=True) -> Flow:
    campaign = Campaign(
        name="c",
        contacts=ContactsSource("csv", "x.csv"),
        windows=(CallingWindow(days=(1, 2, 3, 4, 5), start="09:00", end="18:00"),),
        rules=(OutcomeRule("done", "final"),),
    )
    return Flow(
        Agent(
            name="a",
            persona=Template("p"),
            start="n",
            nodes=(Node("n"),),
            outcomes=("done",),
            tools=(KnowledgeTool("faq", top_k=2),) if knowledge else (),
        ),
        campaign=campaign if windows else None,
    )


def runner(f=None, persistence=None, **kw) -> ToolRunner:
    return ToolRunner(
        f or flow(),
        call_id="call-1",
        contact={"id": 7, "phone": "+12125550123"},
        tz=TZ,
        persistence=persistence or InMemoryPersistence(),
        **kw,
    )


async def run(r: ToolRunner, name: str, **args):
    return await r.run(CallTool("t1", name, args), now=NOW)


async def test_end_call_returns_the_outcome():
    res = await run(runner(), "end_call", outcome="done")
    assert res.ok and res.result == {"ended": True, "outcome": "done"}


async def test_end_call_rejects_an_outcome_outside_the_vocabulary():
    res = await run(runner(), "end_call", outcome="bogus")
    assert not res.ok and "bogus" in res.error


async def test_set_outcome_accepts_builtin_and_agent_outcomes():
    assert (await run(runner(), "set_outcome", outcome="done")).result == {"outcome": "done"}
    assert (await run(runner(), "set_outcome", outcome="callback")).ok
    assert not (await run(runner(), "set_outcome", outcome="nope")).ok


async def test_transfer_uses_the_campaign_transfer_number():
    res = await run(runner(campaign={"transfer_to": "+15550001111"}), "transfer", reason="human")
    assert res.result == {"to": "+15550001111", "reason": "human"}


async def test_transfer_without_a_number_fails_cleanly():
    res = await run(runner(), "transfer")
    assert not res.ok and "transfer_to" in res.error


class SlowPersistence(InMemoryPersistence):
    """Stores after a delay: proves the tool waits for the write before answering."""

    async def add_opt_out(self, opt_out) -> None:
        await asyncio.sleep(0.05)
        await super().add_opt_out(opt_out)

    async def add_callback(self, callback) -> None:
        await asyncio.sleep(0.05)
        await super().add_callback(callback)


async def test_opt_out_is_stored_before_the_tool_answers():
    store = SlowPersistence()
    res = await run(runner(persistence=store), "opt_out", reason="asked")
    assert res.ok and res.result["opted_out"] is True
    (stored,) = store.opt_outs
    assert (stored.phone, stored.call_id, stored.contact_id, stored.reason) == (
        "+12125550123",
        "call-1",
        "7",
        "asked",
    )
    assert stored.at == NOW


async def test_schedule_callback_inside_the_window_is_stored_before_answering():
    store = SlowPersistence()
    res = await run(runner(persistence=store), "schedule_callback", when="tomorrow at 3pm")
    assert res.ok and res.result["scheduled"] is True
    assert res.result["at"] == "2026-11-24T15:00:00-05:00"
    (cb,) = store.callbacks
    assert cb.at.isoformat() == "2026-11-24T15:00:00-05:00"


async def test_schedule_callback_outside_the_window_suggests_the_next_allowed_time():
    store = InMemoryPersistence()
    res = await run(runner(persistence=store), "schedule_callback", when="2026-11-28T11:00")
    assert res.ok and res.result["scheduled"] is False
    assert res.result["reason"] == "outside_window"
    assert res.result["suggested"] == "2026-11-30T09:00:00-05:00"  # Saturday -> Monday 09:00
    assert "Monday" in res.result["message"]
    assert store.callbacks == []


async def test_schedule_callback_skips_holidays():
    res = await run(
        runner(closed_dates=("2026-11-26",)), "schedule_callback", when="2026-11-26T10:00"
    )
    assert res.result["suggested"] == "2026-11-27T09:00:00-05:00"


async def test_schedule_callback_in_the_past_is_refused():
    res = await run(runner(), "schedule_callback", when="2026-11-20T10:00")
    assert res.result == {
        "scheduled": False,
        "reason": "past",
        "message": "That time has already passed. When else would suit you?",
    }


async def test_schedule_callback_without_a_time_takes_the_next_allowed_slot():
    store = InMemoryPersistence()
    res = await run(runner(persistence=store), "schedule_callback", reason="reschedule")
    assert res.result["at"] == "2026-11-23T11:00:00-05:00"  # now + 1 h, inside the window
    assert store.callbacks[0].note == "reschedule"


async def test_schedule_callback_with_unreadable_time_fails_cleanly():
    res = await run(runner(), "schedule_callback", when="whenever the moon is blue")
    assert not res.ok and "could not read" in res.error


async def test_knowledge_search_returns_ranked_passages():
    kb = InMemoryKnowledgeBase(
        {"faq": ["Parking is free behind the clinic.", "We open at 8am.", "Bring your card."]}
    )
    res = await run(runner(knowledge=kb), "knowledge_search", query="where is parking")
    assert res.ok
    assert res.result["passages"][0]["text"] == "Parking is free behind the clinic."
    assert len(res.result["passages"]) <= 2
    assert res.result["message"] == "Parking is free behind the clinic."


async def test_knowledge_search_without_a_knowledge_base_fails_cleanly():
    res = await run(runner(flow(knowledge=False)), "knowledge_search", query="x")
    assert not res.ok and "no knowledge base" in res.error


async def test_unknown_tool_and_bad_arguments_become_failed_results():
    r = runner()
    assert (await run(r, "teleport")).error == "unknown tool 'teleport'"
    res = await run(r, "set_outcome", colour="blue")
    assert not res.ok and "bad arguments" in res.error

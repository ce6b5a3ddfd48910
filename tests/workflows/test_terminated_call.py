"""A contact workflow terminated mid-call: its call's row ends as its attempt and contact do, and
the live call on the worker is hung up. The real worker composition (dial and converse
activities) over the simulated PBX, the Temporal dev server (it tells the campaign run that its
child was terminated, and the activity's heartbeat that its workflow is gone, as Temporal
does), the embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import asyncpg
from temporalio.client import Client

from dsl.ir import Flow, Node, SilenceTransition
from runtime.client import plan_for, start_campaign
from runtime.db import attempts, calls, campaigns, contacts
from runtime.db.flows import save_flow
from runtime.dev.demo import anytime_flow
from runtime.settings import load_settings
from runtime.workflows import search
from runtime.workflows.messages import ClosedOutcome
from telephony.sim import parse_scenarios, read_log
from tests.db.test_repositories import _contact
from tests.sim_worker import simulated_worker
from tests.workflows.test_closed_contacts import _contact_row, dev_client  # noqa: F401

POLL_S = 0.1
T = TypeVar("T")
HOLDING = _contact(0)
"""A callee who answers, says hello, then listens without a word for two minutes."""
SCENARIOS = {
    "ring_ms": 20,
    "numbers": {
        HOLDING.phone: {
            "script": [{"say": "Hello?", "wait_for_agent": False}, {"wait_ms": 120_000}],
            "max_call_ms": 180_000,
        }
    },
}


def _patient(flow: Flow) -> Flow:
    """``flow`` whose nodes wait two minutes of silence before a re-prompt: its call lasts
    until someone else ends it."""

    def patient(node: Node) -> Node:
        return dataclasses.replace(
            node,
            transitions=tuple(
                dataclasses.replace(t, after_ms=120_000) if isinstance(t, SilenceTransition) else t
                for t in node.transitions
            ),
        )

    agent = dataclasses.replace(flow.agent, nodes=tuple(patient(n) for n in flow.agent.nodes))
    return dataclasses.replace(flow, agent=agent)


async def _poll(check: Callable[[], Awaitable[T | None]]) -> T:
    """Until ``check()`` answers something."""
    while True:
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(POLL_S)


async def _hung_up(pbx_log: Path, call_id: str) -> bool | None:
    """True once the PBX logged the call's hang-up."""
    hangups = (r for r in read_log(pbx_log) if r["type"] == "hangup")
    return True if any(r["attempt"] == call_id for r in hangups) else None


async def _recorded_by_worker(pool: asyncpg.Pool, call_id: str) -> calls.CallRow | None:
    """The call's row once the worker that ran it recorded its end (its duration)."""
    detail = await calls.get_call(pool, call_id)
    return detail.call if detail is not None and detail.call.duration_ms is not None else None


async def _open_call(pool: asyncpg.Pool, campaign: str) -> calls.CallRow:
    while True:
        row = await pool.fetchrow(
            "SELECT id FROM calls WHERE campaign = $1 AND ended_at IS NULL"
            " AND EXISTS (SELECT 1 FROM transcripts t WHERE t.call_id = calls.id)",
            campaign,
        )
        if row is not None:
            detail = await calls.get_call(pool, row["id"])
            assert detail is not None
            return detail.call
        await asyncio.sleep(POLL_S)


async def test_a_contact_terminated_mid_call_ends_its_call_row_and_its_live_call(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
    tmp_path: Path,
) -> None:
    flow = _patient(anytime_flow())
    flow_hash = await save_flow(pg_pool, flow)
    name = "terminated-call"
    plan = dataclasses.replace(plan_for(flow), name=name)
    await campaigns.create_campaign(pg_pool, name, flow_hash)
    await contacts.store_contacts(pg_pool, name, [HOLDING])
    await campaigns.set_status(pg_pool, name, "running")
    settings = load_settings({"VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings")})
    pbx_log = tmp_path / "sim.jsonl"
    async with simulated_worker(dev_client, pg_pool, settings, parse_scenarios(SCENARIOS), pbx_log):
        handle = await start_campaign(dev_client, plan, task_queue=settings.task_queue)
        live = await _open_call(pg_pool, name)  # the agent has spoken: the call is up
        contact = dev_client.get_workflow_handle(search.contact_workflow_id(name, HOLDING.id))
        await contact.terminate(reason="operator ended it")
        terminated_at = datetime.now(UTC)
        result = await handle.result()
        # The campaign settled the call with its attempt and contact, in one transaction.
        settled = await calls.get_call(pg_pool, live.id)
        # The worker's converse activity learns from its heartbeat that its workflow is
        # gone: it hangs up the call, which the PBX logs, and records its end.
        await _poll(lambda: _hung_up(pbx_log, live.id))
        hung_up = await _poll(lambda: _recorded_by_worker(pg_pool, live.id))

    assert result.outcomes == {ClosedOutcome.TERMINATED: 1}
    assert await _contact_row(pg_pool, name, HOLDING.id) == ("final", ClosedOutcome.TERMINATED)
    [attempt] = await attempts.attempts_of(pg_pool, name, HOLDING.id)
    assert (attempt.id, attempt.status, attempt.outcome) == (live.id, "aborted", "aborted")
    assert settled is not None and settled.call.ended_at is not None
    assert (settled.call.outcome, settled.call.ended_by) == ("aborted", "aborted")
    assert settled.call.error is not None and "terminated" in settled.call.error.lower()
    assert (await campaigns.get_campaign(pg_pool, name)).status == "finished"
    # Hung up by the agent's side, long before the callee's two minutes: the media session
    # did not outlive its workflow. The worker's end keeps the settled instant and reason.
    end = hung_up
    assert end.ended_at == settled.call.ended_at
    assert (end.outcome, end.ended_by, end.error) == ("aborted", "aborted", settled.call.error)
    assert end.duration_ms is not None and end.duration_ms < 60_000
    assert end.ended_at is not None and (end.ended_at - terminated_at).total_seconds() < 60

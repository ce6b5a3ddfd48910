"""A test call (a contact workflow with no campaign) terminated mid-call: no campaign settles its
rows, so the worker's converse activity, told by its heartbeat that the workflow is gone, ends
the attempt with the call row, and the line the attempt held is free again. When the worker
died with its calls, the worker's sweep of held lines (``runtime/held_lines.py``) does it. The
real worker composition over the simulated PBX, the Temporal dev server, the embedded
PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from temporalio.client import Client, WorkflowHandle

from runtime import tenancy
from runtime.client import plan_for
from runtime.db import attempts, calls, tenants
from runtime.db.flows import save_flow
from runtime.dev.demo import anytime_flow
from runtime.held_lines import GRACE, release_closed_lines, releasing_lines
from runtime.settings import load_settings
from runtime.workflows import search
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.messages import ContactInput, ContactRef
from telephony.sim import parse_scenarios, read_log
from tests.sim_worker import simulated_worker
from tests.workflows.test_closed_contacts import dev_client  # noqa: F401
from tests.workflows.test_terminated_call import (
    HOLDING,
    SCENARIOS,
    _hung_up,
    _open_call,
    _patient,
    _poll,
)

SIM_POOL = "pbx"
"""The line pool of ``simulated_worker``'s dial activity (``build_workers``' default)."""


async def _lines_held(pool: asyncpg.Pool, line_pool: str) -> int:
    """Lines of ``line_pool`` held, counted as ``voxflow_claim_line`` counts them."""
    held = await pool.fetchval(
        "SELECT count(*) FROM attempts WHERE line_pool = $1"
        " AND originated_at IS NOT NULL AND ended_at IS NULL",
        line_pool,
    )
    return int(held)


async def _start_test_call(
    client: Client,
    pool: asyncpg.Pool,
    test_id: str,
    tenant: str = tenancy.DEFAULT_TENANT,
    *,
    ring_timeout_ms: int = 30_000,
) -> WorkflowHandle:
    """A test call of a flow whose call lasts until someone ends it, as ``POST /calls`` starts
    one: one attempt, no campaign, dialled now."""
    flow = _patient(anytime_flow())
    await save_flow(pool, flow)
    plan = plan_for(flow, test_id)
    campaign = dataclasses.replace(
        plan.campaign, rules=(), max_attempts=1, ring_timeout_ms=ring_timeout_ms
    )
    plan = dataclasses.replace(plan, campaign=campaign)
    contact = ContactRef(id=HOLDING.id, phone=HOLDING.phone, timezone=HOLDING.timezone)
    return await client.start_workflow(
        ContactWorkflow.run,
        ContactInput(plan, contact, None, window_override="call now by operator"),
        id=search.test_call_workflow_id(test_id, tenant),
        task_queue=load_settings({}).task_queue,
    )


async def _attempt_ended(pool: asyncpg.Pool, test_id: str) -> attempts.AttemptRow | None:
    [attempt] = await attempts.attempts_of_campaign(pool, test_id)
    return attempt if attempt.ended_at is not None else None


async def test_a_test_call_terminated_mid_call_ends_its_attempt_and_frees_its_line(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
    tmp_path: Path,
) -> None:
    test_id = "test-terminated-20261206T120000-abcdef"
    settings = load_settings({"VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings")})
    pbx_log = tmp_path / "sim.jsonl"
    async with simulated_worker(dev_client, pg_pool, settings, parse_scenarios(SCENARIOS), pbx_log):
        handle = await _start_test_call(dev_client, pg_pool, test_id)
        live = await _open_call(pg_pool, test_id)  # the agent has spoken: the call is up
        assert await _lines_held(pg_pool, SIM_POOL) == 1
        await handle.terminate(reason="operator ended it")
        terminated_at = datetime.now(UTC)
        attempt = await _poll(lambda: _attempt_ended(pg_pool, test_id))
        await _poll(lambda: _hung_up(pbx_log, live.id))

    # No campaign settled anything: the worker ended the attempt with the call's row.
    assert (attempt.id, attempt.status, attempt.outcome) == (live.id, "aborted", "aborted")
    assert "terminated: operator ended it" in attempt.detail
    detail = await calls.get_call(pg_pool, live.id)
    assert detail is not None
    end = detail.call
    assert (end.outcome, end.ended_by) == ("aborted", "aborted")
    assert end.error is not None and "terminated: operator ended it" in end.error
    assert end.ended_at == attempt.ended_at  # one transaction
    assert end.duration_ms is not None and end.node_path  # what the worker knew
    assert (end.ended_at - terminated_at).total_seconds() < 60
    assert await _lines_held(pg_pool, SIM_POOL) == 0


RINGING = {"ring_ms": 1000, "numbers": {HOLDING.phone: {"result": "no_answer"}}}
"""The callee's phone rings until the originate's timeout."""


async def _ringing(pool: asyncpg.Pool, pbx_log: Path, test_id: str) -> attempts.AttemptRow | None:
    """The test call's attempt once it holds a line and its phone rings at the PBX."""
    found = await attempts.attempts_of_campaign(pool, test_id)
    if not found or found[0].originated_at is None:
        return None
    rang = any(r["type"] == "originate" and r["attempt"] == found[0].id for r in read_log(pbx_log))
    return found[0] if rang else None


async def test_a_test_call_terminated_while_ringing_hangs_up_and_frees_its_line_at_once(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
    tmp_path: Path,
) -> None:
    """The dial activity's heartbeat learns the workflow is gone: it hangs the ringing channel
    up and ends the attempt itself, long before the sweep of held lines would (``GRACE``)."""
    test_id = "test-ringing-20261206T120000-abcdef"
    settings = load_settings({"VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings")})
    pbx_log = tmp_path / "sim.jsonl"
    ring_timeout_ms = 300_000  # far beyond the test: only the hang-up can end the ringing
    async with simulated_worker(dev_client, pg_pool, settings, parse_scenarios(RINGING), pbx_log):
        handle = await _start_test_call(
            dev_client, pg_pool, test_id, ring_timeout_ms=ring_timeout_ms
        )
        ringing = await _poll(lambda: _ringing(pg_pool, pbx_log, test_id))
        assert ringing.status == "dialing" and ringing.answered_at is None
        assert await _lines_held(pg_pool, SIM_POOL) == 1
        await handle.terminate(reason="operator ended it")
        terminated_at = datetime.now(UTC)
        attempt = await _poll(lambda: _attempt_ended(pg_pool, test_id))
        await _poll(lambda: _hung_up(pbx_log, ringing.id))
        assert await _lines_held(pg_pool, SIM_POOL) == 0

    freed_after = (attempt.ended_at - terminated_at).total_seconds()
    print(f"line freed {freed_after:.2f} s after the termination")
    assert freed_after < GRACE.total_seconds()  # not the sweep: it skips attempts this young
    assert (attempt.id, attempt.status, attempt.outcome) == (ringing.id, "aborted", "aborted")
    assert "terminated: operator ended it" in attempt.detail
    assert attempt.answered_at is None
    # The PBX saw the hang-up (cause 16, not no-answer's 19) while the phone rang, and one dial.
    records = [r for r in read_log(pbx_log) if r["attempt"] == ringing.id]
    assert [(r["type"], r.get("cause")) for r in records] == [("originate", None), ("hangup", 16)]
    hung_up_at = datetime.fromisoformat(str(records[1]["time"]))
    assert (hung_up_at - terminated_at).total_seconds() < ring_timeout_ms / 1000
    assert await calls.get_call(pg_pool, ringing.id) is None  # no conversation began


async def _dead_workers_attempt(
    pool: asyncpg.Pool, attempt_id: str, test_id: str, line_pool: str = "dead-pbx"
) -> None:
    """The rows a worker that died mid-call leaves: an originated, answered attempt holding a
    line of ``line_pool``, and its open call row."""
    assert await attempts.record_dialing(
        pool, attempt_id, campaign=test_id, contact=HOLDING.id, number=1, phone=HOLDING.phone
    )
    claim = await attempts.claim_for_dial(pool, attempt_id, HOLDING.phone, line_pool=line_pool)
    assert claim == "claimed"
    await attempts.mark_answered(pool, attempt_id)
    await calls.start_call(pool, attempt_id, campaign=test_id, contact=HOLDING.id)


async def test_the_sweep_frees_the_line_of_a_test_call_whose_worker_died(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    """No worker runs: the workflows stay where a dead worker left them, mid-call."""
    gone_id, alive_id = "test-gone-20261206T120000-000001", "test-alive-20261206T120000-000002"
    gone = await _start_test_call(dev_client, pg_pool, gone_id)
    await _start_test_call(dev_client, pg_pool, alive_id)
    await _dead_workers_attempt(pg_pool, "a-gone", gone_id)
    await _dead_workers_attempt(pg_pool, "a-alive", alive_id)
    # A third attempt, of a workflow Temporal never knew (removed after its retention).
    await _dead_workers_attempt(pg_pool, "a-unknown", "test-unknown-20261206T120000-000003")
    # Three lines of three are held: a new test call's attempt gets none.
    next_id = "test-next-20261206T120000-000004"
    await _start_test_call(dev_client, pg_pool, next_id)
    await attempts.record_dialing(
        pg_pool, "a-next", campaign=next_id, contact=HOLDING.id, number=1, phone="+15550000009"
    )
    claim = await attempts.claim_for_dial(
        pg_pool, "a-next", "+15550000009", lines=3, line_pool="dead-pbx"
    )
    assert claim == "no_line:lines_full"
    zero = timedelta(0)

    # The running workflows keep their lines; the unknown one's is released.
    assert await release_closed_lines(dev_client, pg_pool, "dead-pbx", grace=zero) == ["a-unknown"]
    assert await _lines_held(pg_pool, "dead-pbx") == 2
    assert await release_closed_lines(dev_client, pg_pool, "dead-pbx", grace=zero) == []
    # Attempts younger than the grace are not looked at.
    await gone.terminate(reason="operator ended it")
    assert await release_closed_lines(dev_client, pg_pool, "dead-pbx") == []

    assert await release_closed_lines(dev_client, pg_pool, "dead-pbx", grace=zero) == ["a-gone"]
    assert await _lines_held(pg_pool, "dead-pbx") == 1
    ended = await attempts.get_attempt(pg_pool, "a-gone")
    assert ended is not None and (ended.status, ended.outcome) == ("aborted", "aborted")
    assert "terminated: operator ended it" in ended.detail
    detail = await calls.get_call(pg_pool, "a-gone")
    assert detail is not None and detail.call.ended_at is not None
    assert (detail.call.outcome, detail.call.ended_by) == ("aborted", "aborted")
    unknown = await attempts.get_attempt(pg_pool, "a-unknown")
    assert unknown is not None and "Temporal knows neither" in unknown.detail
    alive = await attempts.get_attempt(pg_pool, "a-alive")
    assert alive is not None and (alive.status, alive.ended_at) == ("answered", None)
    # Lines are free again: the waiting attempt gets one.
    claim = await attempts.claim_for_dial(
        pg_pool, "a-next", "+15550000009", lines=3, line_pool="dead-pbx"
    )
    assert claim == "claimed"
    # A worker sweeps when it starts (``runtime/worker.py``, ``serve``).
    await dev_client.get_workflow_handle(search.test_call_workflow_id(alive_id)).terminate()
    async with releasing_lines(dev_client, pg_pool, "dead-pbx", grace=zero):
        alive = await _poll(lambda: _ended(pg_pool, "a-alive"))
    assert (alive.status, alive.outcome) == ("aborted", "aborted")
    assert await _lines_held(pg_pool, "dead-pbx") == 1  # the one just claimed


async def _ended(pool: asyncpg.Pool, attempt_id: str) -> attempts.AttemptRow | None:
    attempt = await attempts.get_attempt(pool, attempt_id)
    return attempt if attempt is not None and attempt.ended_at is not None else None


async def test_the_sweep_releases_another_tenants_line_and_only_its_own_rows(
    dev_client: Client,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    """The sweep reads every tenant's held lines and settles each as its tenant: the workflow
    ids it asks about are the tenant's (``runtime/tenancy.py``, ``scoped_workflow_id``)."""
    test_id = "test-acme-20261206T120000-000005"
    with tenancy.acting_as(tenancy.PLATFORM):
        await tenants.create_tenant(pg_pool, "acme")
    handle = await _start_test_call(dev_client, pg_pool, test_id, "acme")
    with tenancy.acting_as("acme"):
        await _dead_workers_attempt(pg_pool, "a-acme", test_id, "acme-pbx")
    zero = timedelta(0)
    assert await release_closed_lines(dev_client, pg_pool, "acme-pbx", grace=zero) == []
    await handle.terminate(reason="acme's operator ended it")
    released = await release_closed_lines(dev_client, pg_pool, "acme-pbx", grace=zero)
    assert released == ["a-acme"]
    assert await attempts.get_attempt(pg_pool, "a-acme") is None  # not the default tenant's
    with tenancy.acting_as("acme"):
        ended = await attempts.get_attempt(pg_pool, "a-acme")
        detail = await calls.get_call(pg_pool, "a-acme")
    assert ended is not None and (ended.status, ended.tenant) == ("aborted", "acme")
    assert "acme's operator ended it" in ended.detail
    assert detail is not None and detail.call.ended_by == "aborted"

"""Tenants sharing a PBX's lines: the line claim in PostgreSQL, driven like the contact workflows
drive it (claim at dial time; refused: claim again ``LINE_RECHECK`` later), on a simulated clock.

The claims are real (``runtime/dryrun/lines.py``); only time is simulated.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from runtime import tenancy
from runtime.db import attempts
from runtime.dryrun.lines import LINES, simulate_lines

B_PACING_PERIOD = 10.0
"""B's campaign dials at most 6 a minute: one call every 10 s."""


@pytest.fixture
async def tenants_ab(pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    with tenancy.acting_as(tenancy.PLATFORM):
        await pg_pool.execute(
            "INSERT INTO tenants (id) VALUES ('alpha'), ('beta') ON CONFLICT DO NOTHING"
        )
    return pg_pool


async def test_a_small_campaign_starts_within_one_pacing_period_beside_a_large_one(
    tenants_ab: asyncpg.Pool,
) -> None:
    # A: 1,000 contacts, 50 at a time, from t=0; B: 10 contacts, 10 at a time, from t=60 s,
    # when A holds all 5 lines and 50 of its contacts keep claiming.
    campaigns = {"alpha": (0.0, 1000, 50), "beta": (60.0, 10, 10)}
    fair = await simulate_lines(tenants_ab, campaigns, until=3600, tag="fair", watch="beta")
    assert fair.peak_lines == LINES
    assert fair.first_start["beta"] - 60.0 <= B_PACING_PERIOD, fair
    assert fair.started["beta"] == 10
    # Once both want lines, neither is squeezed out: B gets a fair part of the 5.
    assert fair.peak_by_tenant["beta"] >= LINES // 2


async def test_without_the_waiting_tenants_a_small_campaign_waits_behind_a_large_one(
    tenants_ab: asyncpg.Pool,
) -> None:
    # The baseline the fair share fixes: first come, first served (waiters forgotten at once).
    campaigns = {"alpha": (0.0, 1000, 50), "beta": (60.0, 10, 10)}
    fifo = await simulate_lines(
        tenants_ab, campaigns, until=600, wait_ttl=timedelta(0), tag="fifo", watch="beta"
    )
    waited = fifo.first_start.get("beta", 600.0) - 60.0
    assert waited > B_PACING_PERIOD, fifo


async def test_a_tenant_alone_uses_every_line_and_never_more(tenants_ab: asyncpg.Pool) -> None:
    run = await simulate_lines(tenants_ab, {"alpha": (0.0, 60, 20)}, until=3600, tag="alone")
    assert run.started["alpha"] == 60
    assert run.peak_lines == LINES


async def test_a_tenants_own_line_cap_holds(tenants_ab: asyncpg.Pool) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        await tenants_ab.execute("UPDATE tenants SET max_lines = 2 WHERE id = 'beta'")
    try:
        run = await simulate_lines(tenants_ab, {"beta": (0.0, 20, 10)}, until=3600, tag="cap")
    finally:
        with tenancy.acting_as(tenancy.PLATFORM):
            await tenants_ab.execute("UPDATE tenants SET max_lines = NULL WHERE id = 'beta'")
    assert run.started["beta"] == 20
    assert run.peak_by_tenant["beta"] == 2


async def test_a_tenants_dial_rate_holds(tenants_ab: asyncpg.Pool) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        await tenants_ab.execute("INSERT INTO tenants (id, dial_per_minute) VALUES ('gamma', 3)")
    with tenancy.acting_as("gamma"):
        for i in range(4):
            await attempts.record_dialing(
                tenants_ab, f"rate-{i}", campaign="c", contact=f"r{i}", number=1, phone="+1"
            )
        verdicts = [
            await attempts.claim_for_dial(tenants_ab, f"rate-{i}", "+1", line_pool="rate")
            for i in range(4)
        ]
    assert verdicts == ["claimed"] * 3 + ["no_line:tenant_rate"]


async def test_a_tenant_cannot_claim_another_tenants_attempt(tenants_ab: asyncpg.Pool) -> None:
    with tenancy.acting_as("alpha"):
        await attempts.record_dialing(
            tenants_ab, "theirs", campaign="c", contact="x", number=1, phone="+1"
        )
    with tenancy.acting_as("beta"):
        assert await attempts.claim_for_dial(tenants_ab, "theirs", "+1") == "not_recorded"
    with tenancy.acting_as("alpha"):
        assert await attempts.claim_for_dial(tenants_ab, "theirs", "+1") == "claimed"

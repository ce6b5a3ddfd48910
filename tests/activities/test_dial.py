"""The dial activity against the simulated PBX (a real AMI server) and PostgreSQL.

The PBX's own originate log is the judge of whether a call was placed. The destination policy
(``runtime/destinations.py``) holds here, whatever let a number into a campaign.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.campaign_io import CampaignIO
from activities.dial import DialActivities
from dsl.ir import CallingWindow
from runtime.db import attempts, dnc
from runtime.destinations import DestinationPolicy
from runtime.workflows.messages import DialInput, RecoverAttempt
from telephony.ami.client import AmiSettings
from telephony.ami.gateway import AsteriskGateway
from telephony.sim import SimPBX, originates_per_attempt, parse_scenarios

WEEKDAYS = (CallingWindow(days=(1, 2, 3, 4, 5), start="09:00", end="18:00"),)
TUESDAY_NOON_NY = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
SUNDAY_NOON_NY = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
BUSY = "+12125550142"
BUSY_TOO = "+12125550145"


@pytest.fixture
async def pbx(tmp_path: Path) -> AsyncIterator[tuple[SimPBX, Path]]:
    scenarios = parse_scenarios(
        {"ring_ms": 20, "numbers": {BUSY: {"result": "busy"}, BUSY_TOO: {"result": "busy"}}}
    )
    log = tmp_path / "originates.jsonl"
    async with SimPBX(scenarios, log_path=log, secret="voxflow") as sim:
        yield sim, log


@pytest.fixture
async def gateway(pbx: tuple[SimPBX, Path]) -> AsyncIterator[AsteriskGateway]:
    host, port = pbx[0].ami_address
    gw = await AsteriskGateway.connect(
        AmiSettings(host=host, port=port, secret="voxflow"), "127.0.0.1:9"
    )
    try:
        yield gw
    finally:
        await gw.close()


def dial_input(attempt_id: str, phone: str = BUSY) -> DialInput:
    return DialInput(
        attempt_id=attempt_id,
        campaign="c",
        contact_id="k1",
        phone=phone,
        timezone="America/New_York",
        windows=WEEKDAYS,
        closed_dates=(),
        audiosocket="127.0.0.1:9",
        ring_timeout_ms=2_000,
    )


async def recorded(pool: asyncpg.Pool, phone: str = BUSY) -> str:
    attempt_id = str(uuid.uuid4())
    await attempts.record_dialing(
        pool, attempt_id, campaign="c", contact="k1", number=1, phone=phone
    )
    return attempt_id


async def refused(activities: DialActivities, arg: DialInput) -> str:
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(activities.dial, arg)
    assert caught.value.non_retryable
    return caught.value.type or ""


async def test_recorded_attempt_is_originated_once_and_reports_busy(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path]
) -> None:
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY)
    attempt_id = await recorded(pg_pool)
    outcome = await ActivityEnvironment().run(activities.dial, dial_input(attempt_id))
    assert (outcome.attempt_id, outcome.answered, outcome.outcome) == (attempt_id, False, "busy")
    assert originates_per_attempt(pbx[1]) == {attempt_id: 1}


async def test_the_pbx_answer_is_stored_so_a_lost_result_is_recovered(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway
) -> None:
    """The dial activity writes the PBX's answer before returning; ``recover_attempt`` reads it
    back for a workflow that lost the activity's result."""
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY)
    attempt_id = await recorded(pg_pool)
    await ActivityEnvironment().run(activities.dial, dial_input(attempt_id))

    io = CampaignIO(pg_pool)
    found = await ActivityEnvironment().run(io.recover_attempt, RecoverAttempt(attempt_id, "dial"))
    assert found.outcome == "busy"
    unknown = await ActivityEnvironment().run(
        io.recover_attempt, RecoverAttempt(await recorded(pg_pool), "dial")
    )
    assert unknown.outcome is None


async def test_closed_window_by_the_wall_clock_refuses_without_dialling(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path]
) -> None:
    activities = DialActivities(gateway, pg_pool, clock=lambda: SUNDAY_NOON_NY)
    kind = await refused(activities, dial_input(await recorded(pg_pool)))
    assert kind == "OutsideWindow"
    assert originates_per_attempt(pbx[1]) == {}


async def test_number_added_to_do_not_call_after_loading_is_not_dialled(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path]
) -> None:
    await dnc.add_dnc(pg_pool, BUSY, source="api", reason="asked by email")
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY)
    assert await refused(activities, dial_input(await recorded(pg_pool))) == "DoNotCall"
    assert originates_per_attempt(pbx[1]) == {}


async def test_unrecorded_attempt_is_never_originated(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path]
) -> None:
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY)
    kind = await refused(activities, dial_input(str(uuid.uuid4()), phone="+12125550143"))
    assert kind == "AttemptNotRecorded"
    assert originates_per_attempt(pbx[1]) == {}


async def test_a_dial_delivered_twice_reaches_the_pbx_once(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path]
) -> None:
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY)
    attempt_id = await recorded(pg_pool, BUSY_TOO)
    await ActivityEnvironment().run(activities.dial, dial_input(attempt_id, BUSY_TOO))
    assert await refused(activities, dial_input(attempt_id, BUSY_TOO)) == "AlreadyOriginated"
    assert originates_per_attempt(pbx[1]) == {attempt_id: 1}


@pytest.mark.parametrize(
    "phone",
    ["+19005550123", "+449098790000", "+881612345678", "+882345678901"],
    ids=["US premium rate", "UK premium rate", "satellite", "international network"],
)
async def test_premium_and_satellite_numbers_are_refused_by_default_without_dialling(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path], phone: str
) -> None:
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY)
    attempt = await recorded(pg_pool, phone)
    assert await refused(activities, dial_input(attempt, phone)) == "DestinationRefused"
    assert originates_per_attempt(pbx[1]) == {}


async def test_a_country_outside_the_allowed_ones_is_refused(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path]
) -> None:
    policy = DestinationPolicy(countries=frozenset({"CA"}))
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY, policy=policy)
    assert await refused(activities, dial_input(await recorded(pg_pool))) == "DestinationRefused"
    assert originates_per_attempt(pbx[1]) == {}


async def test_an_allowlisted_number_is_dialled_whatever_its_type(
    pg_pool: asyncpg.Pool, gateway: AsteriskGateway, pbx: tuple[SimPBX, Path]
) -> None:
    premium = "+19005550123"
    policy = DestinationPolicy(allowlist=frozenset({premium}))
    activities = DialActivities(gateway, pg_pool, clock=lambda: TUESDAY_NOON_NY, policy=policy)
    attempt = await recorded(pg_pool, premium)
    await ActivityEnvironment().run(activities.dial, dial_input(attempt, premium))
    assert originates_per_attempt(pbx[1]) == {attempt: 1}

"""A call placed through the real path (API, Temporal, worker activities, simulated PBX,
local provider) produces one signed ``call.completed`` that a receiver on loopback verifies,
with the slots the flow collected."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from dsl.compiler import load_flow
from runtime.api import create_app
from runtime.db import webhooks
from runtime.db.flows import save_flow
from runtime.dev.demo import anytime_flow
from runtime.settings import Settings, load_settings
from runtime.webhooks.dispatcher import Dispatcher
from runtime.webhooks.verify import verify
from telephony.sim import parse_scenarios
from tests.api.conftest import KEYS, temporal_env  # noqa: F401 (a fixture)
from tests.api.test_phone_call_path import CONTACT, OLIVIA, Stack, _until_done, stack  # noqa: F401
from tests.sim_worker import simulated_worker

from .conftest import drain
from .receiver import receiver

REPO = Path(__file__).resolve().parents[2]
SCORER = "+12125550188"
HELLO = {"say": "Hello?", "wait_for_agent": False}
NPS_SCENARIOS = {
    "ring_ms": 20,
    "numbers": {
        SCORER: {
            "script": [
                HELLO,
                {"say": "Sure, go ahead."},
                {"say": "Nine."},
                {"say": "The support is great."},
                {"wait_ms": 5000},
            ]
        }
    },
}


async def test_a_completed_call_reaches_the_tenants_endpoint_signed(
    stack: Stack,  # noqa: F811
    outbox: asyncpg.Pool,
    wh_settings: Settings,
) -> None:
    with receiver() as hook:
        made = await webhooks.create_webhook(outbox, hook.url, events=["call.completed"])
        flow_hash = await save_flow(outbox, anytime_flow())
        placed = await stack.api.post(
            "/calls", json={"flow_hash": flow_hash, "phone": OLIVIA, "contact": CONTACT}
        )
        assert placed.status_code == 201, placed.text
        await _until_done(stack.api, placed.json()["id"])
        (call,) = (await stack.api.get(f"/calls/tests/{placed.json()['id']}")).json()["calls"]
        detail = (await stack.api.get(f"/calls/{call['id']}")).json()
        dispatcher = Dispatcher(outbox, wh_settings)
        try:
            await drain(dispatcher, lambda: len(hook.received) == 1)
            assert not await dispatcher.deliver_one()
        finally:
            await dispatcher.aclose()
    (got,) = hook.received
    verify(got.body, got.headers["Voxflow-Signature"], made.secret)
    event = json.loads(got.body)
    assert got.headers["Voxflow-Event-Id"] == event["id"]
    assert (event["type"], event["tenant"]) == ("call.completed", "default")
    data = event["data"]
    assert data["call_id"] == call["id"]
    assert (data["outcome"], data["node_path"]) == ("confirmed", ["greet", "confirmed"])
    assert (data["campaign"], data["phone"], data["flow_hash"]) == (
        placed.json()["id"],
        OLIVIA,
        flow_hash,
    )
    assert data["duration_ms"] == detail["duration_ms"] and data["duration_ms"] > 0
    assert data["recording_path"] == detail["recording_url"]
    assert data["attempt"] == 1 and data["ended_by"] == "agent"
    assert data["slots"] == {}  # the reminder flow collects no slot (tests/webhooks/test_outbox.py)
    assert "secret" not in got.body.decode().lower()


@pytest.fixture
async def nps_api(
    pg_pool: asyncpg.Pool,
    temporal_env: WorkflowEnvironment,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps(NPS_SCENARIOS))
    settings = load_settings(
        {
            "VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items()),
            "VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings"),
            "VOXFLOW_SIM_SCENARIOS": str(scenarios),
        }
    )
    async with simulated_worker(
        temporal_env.client,
        pg_pool,
        settings,
        parse_scenarios(NPS_SCENARIOS),
        tmp_path / "sim.jsonl",
    ):
        app = create_app(settings, db=pg_pool, temporal=temporal_env.client)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://voxflow.test",
            headers={"X-API-Key": KEYS["designer"]},
        ) as api:
            yield api


async def test_the_slots_a_call_collected_reach_the_endpoint(
    nps_api: httpx.AsyncClient, outbox: asyncpg.Pool, wh_settings: Settings
) -> None:
    with receiver() as hook:
        made = await webhooks.create_webhook(outbox, hook.url, events=["call.completed"])
        # The survey, dialled under the demo's always-open calling windows.
        nps = dataclasses.replace(
            load_flow(REPO / "flows" / "nps.flow"), campaign=anytime_flow().campaign
        )
        flow_hash = await save_flow(outbox, nps)
        placed = await nps_api.post(
            "/calls",
            json={"flow_hash": flow_hash, "phone": SCORER, "contact": {"first_name": "Ada"}},
        )
        assert placed.status_code == 201, placed.text
        await _until_done(nps_api, placed.json()["id"])
        dispatcher = Dispatcher(outbox, wh_settings)
        try:
            await drain(dispatcher, lambda: len(hook.received) == 1)
        finally:
            await dispatcher.aclose()
    (got,) = hook.received
    verify(got.body, got.headers["Voxflow-Signature"], made.secret)
    data = json.loads(got.body)["data"]
    assert data["node_path"][:3] == ["intro", "score", "route"], data
    assert data["slots"]["score"] == 9

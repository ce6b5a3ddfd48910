"""A call placed through the real path (API, Temporal, worker activities, simulated PBX)
produces one signed ``call.completed`` that a receiver on loopback verifies."""

from __future__ import annotations

import json

import asyncpg

from runtime.db import webhooks
from runtime.db.flows import save_flow
from runtime.dev.demo import anytime_flow
from runtime.settings import Settings
from runtime.webhooks.dispatcher import Dispatcher
from runtime.webhooks.verify import verify
from tests.api.conftest import temporal_env  # noqa: F401 (a fixture)
from tests.api.test_phone_call_path import CONTACT, OLIVIA, Stack, _until_done, stack  # noqa: F401

from .conftest import drain
from .receiver import receiver


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

"""A campaign run through the real path (API, Temporal, worker activities, simulated PBX,
local provider) says ``finished`` once its last contact settles, as the API reports it."""

from __future__ import annotations

import asyncio

import asyncpg

from runtime.db import campaigns, flows
from runtime.dev.demo import anytime_flow
from tests.api.conftest import KEYS, temporal_env  # noqa: F401 (a fixture)
from tests.api.test_phone_call_path import NORMAL, Stack, stack  # noqa: F401

OPERATOR = {"X-API-Key": KEYS["operator"]}
CSV = (
    "id,first_name,phone,timezone,appointment_at\n"
    f"c001,Noah,{NORMAL},America/New_York,2026-11-29T15:00:00-05:00\n"
).encode()


async def test_the_api_reports_finished_once_the_last_contact_settles(
    stack: Stack,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> None:
    flow = anytime_flow()  # callable at any hour: the dial checks the real clock
    await flows.save_flow(pg_pool, flow)
    await campaigns.create_campaign(pg_pool, "to-the-end", flow.hash)
    imported = await stack.api.post(
        "/campaigns/to-the-end/contacts", files={"file": ("c.csv", CSV)}, headers=OPERATOR
    )
    assert imported.status_code == 200 and imported.json()["imported"] == 1, imported.text
    started = await stack.api.post("/campaigns/to-the-end/start", headers=OPERATOR)
    assert started.status_code == 200 and started.json()["status"] == "running", started.text
    body: dict = {}
    for _ in range(600):
        body = (await stack.api.get("/campaigns/to-the-end")).json()
        if body["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert body["status"] == "finished", body
    assert body["contacts"] == {"final": 1}
    listed = {c["name"]: c["status"] for c in (await stack.api.get("/campaigns")).json()}
    assert listed["to-the-end"] == "finished"

"""Start, pause, resume and stop through the API drive the real campaign workflow
(Temporal test server, a worker with the workflows and the PostgreSQL campaign activities)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.campaign_io import CampaignIO
from runtime.api import create_app
from runtime.workflows import search
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.contact import ContactWorkflow
from runtime.workflows.sandbox import workflow_runner

from .conftest import KEYS

REPO = Path(__file__).resolve().parents[2]
FLOW = (REPO / "flows" / "reminder.flow").read_text()
CSV = (REPO / "flows" / "contacts" / "reminder.csv").read_bytes()


async def _progress(api: httpx.AsyncClient, name: str, want: dict[str, Any]) -> dict[str, Any]:
    """The campaign's status once its live progress shows ``want`` (signals are asynchronous)."""
    body: dict[str, Any] = {}
    for _ in range(100):
        body = (await api.get(f"/campaigns/{name}")).json()
        live = body.get("workflow") or {}
        if all(live.get(k) == v for k, v in want.items()):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"progress never showed {want}: {body}")


async def test_api_steers_the_campaign_workflow(
    settings, pg_pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    io = CampaignIO(pg_pool)
    app = create_app(settings, db=pg_pool, temporal=temporal_env.client)
    async with (
        Worker(
            temporal_env.client,
            task_queue=settings.task_queue,
            workflows=[CampaignWorkflow, ContactWorkflow],
            activities=[io.contacts_page, io.begin_attempt, io.record_result, io.add_dnc],
            workflow_runner=workflow_runner(),
        ),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://voxflow.test",
            headers={"X-API-Key": KEYS["operator"]},
        ) as api,
    ):
        made = await api.post(
            "/campaigns",
            json={"source": FLOW, "name": "steer"},
            headers={"X-API-Key": KEYS["designer"]},
        )
        assert made.status_code == 201
        empty = await api.post("/campaigns/steer/start")
        assert (empty.status_code, empty.json()["code"]) == (409, "no_contacts")
        await api.post("/campaigns/steer/contacts", files={"file": ("c.csv", CSV)})

        started = await api.post("/campaigns/steer/start")
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "running"
        again = await api.post("/campaigns/steer/start")
        assert (again.status_code, again.json()["code"]) == (409, "already_started")
        handle = temporal_env.client.get_workflow_handle(search.campaign_workflow_id("steer"))
        assert (await handle.describe()).search_attributes[search.CAMPAIGN.name] == ["steer"]

        assert (await api.post("/campaigns/steer/pause")).json()["status"] == "paused"
        paused = await _progress(api, "steer", {"paused": True})
        assert paused["status"] == "paused"

        assert (await api.post("/campaigns/steer/resume")).json()["status"] == "running"
        await _progress(api, "steer", {"paused": False})

        assert (await api.post("/campaigns/steer/stop")).json()["status"] == "stopped"
        await _progress(api, "steer", {"stopping": True})
        after = await api.post("/campaigns/steer/resume")
        assert (after.status_code, after.json()["code"]) == (409, "not_running")

"""``voxflow campaign start`` against a real Temporal test server and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

import runtime.cli.campaign_commands  # noqa: F401 - registers the commands
from runtime.cli import app
from runtime.client import campaign_handle
from runtime.db import campaigns, create_pool
from tests.temporal_env import time_skipping_env

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def test_campaign_start_uses_the_configured_task_queue(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``VOXFLOW_TASK_QUEUE`` set, the campaign lands on that queue (the one the
    deployment's workers poll), as the API starts it."""
    loop = asyncio.new_event_loop()
    env_cm = time_skipping_env()
    env = loop.run_until_complete(env_cm.__aenter__())
    try:
        address = env.client.service_client.config.target_host
        monkeypatch.setenv("TEMPORAL_ADDRESS", address)
        monkeypatch.setenv("DATABASE_URL", pg_url)
        monkeypatch.setenv("VOXFLOW_TASK_QUEUE", "voxflow-tenant-7")

        result = CliRunner().invoke(
            app,
            [
                "campaign",
                "start",
                str(FLOWS / "reminder.flow"),
                "--contacts",
                str(FLOWS / "contacts" / "reminder.csv"),
                "--name",
                "queue-check",
            ],
        )

        assert result.exit_code == 0, result.output + repr(result.exception)
        described = loop.run_until_complete(campaign_handle(env.client, "queue-check").describe())
        assert described.task_queue == "voxflow-tenant-7"
        # The row says what the workflow does, as when the API starts it.
        assert loop.run_until_complete(_row_status(pg_url, "queue-check")) == "running"
        loop.run_until_complete(campaign_handle(env.client, "queue-check").terminate())
    finally:
        loop.run_until_complete(env_cm.__aexit__(None, None, None))
        loop.close()


async def _row_status(url: str, name: str) -> str | None:
    pool = await create_pool(url, max_size=1)
    try:
        row = await campaigns.get_campaign(pool, name)
    finally:
        await pool.close()
    return None if row is None else row.status

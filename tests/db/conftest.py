from pathlib import Path

import asyncpg
import pytest

from dsl.compiler import load_flow
from runtime.db import campaigns, flows

REMINDER = Path(__file__).resolve().parents[2] / "flows" / "reminder.flow"


@pytest.fixture
async def campaign(pg_pool: asyncpg.Pool, request: pytest.FixtureRequest) -> str:
    """A campaign of the reminder flow, named after the test (the tests share a database)."""
    flow = load_flow(REMINDER)
    await flows.save_flow(pg_pool, flow)
    name = f"camp-{request.node.name[:40]}"
    await campaigns.create_campaign(pg_pool, name, flow.hash)
    return name

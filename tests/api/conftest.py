"""The API over httpx's ASGI transport, on the module's real PostgreSQL database, and a
time-skipping Temporal test server with voxflow's search attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runtime.api import create_app
from runtime.settings import load_settings
from tests.temporal_env import time_skipping_env

KEYS = {"admin": "k-admin", "designer": "k-designer", "operator": "k-operator"}


@pytest.fixture
def settings():
    return load_settings({"VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items())})


@pytest.fixture
async def api(settings, pg_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding the admin key; pass ``headers=`` to act as another role."""
    app = create_app(settings, db=pg_pool)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://voxflow.test",
        headers={"X-API-Key": KEYS["admin"]},
    ) as client:
        yield client


def as_role(role: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[role]}


@pytest.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as env:
        yield env

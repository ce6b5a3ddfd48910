"""The API over httpx's ASGI transport, on the module's real PostgreSQL database, and a
time-skipping Temporal test server with voxflow's search attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from runtime.api import create_app
from runtime.client import binary
from runtime.settings import load_settings
from runtime.workflows import search

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


_KINDS = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
}


@pytest.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={k.name: _KINDS[k.indexed_value_type.name] for k in search.ALL},
            )
        )
        yield env
    finally:
        await env.shutdown()

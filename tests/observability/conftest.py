"""The stack the observability tests watch: the API and the real worker composition
(``tests/sim_worker.py``) on a time-skipping Temporal test server, calling the simulated PBX
that plays the demo's callees (``flows/demo/scenarios.yaml``), with metrics on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from runtime.api import create_app
from runtime.dev.demo import DEMO_SCENARIOS
from runtime.observability.metrics import PACER_LATENESS
from runtime.settings import Settings, load_settings
from telephony.sim import parse_scenarios
from tests.sim_worker import simulated_worker
from tests.temporal_env import time_skipping_env

KEYS = {"admin": "k-admin", "designer": "k-designer", "operator": "k-operator"}


@dataclass
class Stack:
    api: httpx.AsyncClient
    settings: Settings
    client: Client
    """The Temporal client the API and the worker use (traced)."""


def _spans() -> InMemorySpanExporter:
    """The in-memory exporter of the process's tracer provider, installed on first use (the
    global provider can be set once per process)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = getattr(provider, "_voxflow_test_exporter", None)
    if exporter is None:
        exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        provider._voxflow_test_exporter = exporter  # type: ignore[attr-defined]
    return exporter


@pytest.fixture
def spans() -> InMemorySpanExporter:
    exporter = _spans()
    exporter.clear()
    return exporter


@pytest.fixture
async def stack(
    pg_pool: asyncpg.Pool, tmp_path: Path, spans: InMemorySpanExporter
) -> AsyncIterator[Stack]:
    scenarios = yaml.safe_load(DEMO_SCENARIOS.read_text())
    scenarios["ring_ms"] = 20
    (tmp_path / "scenarios.json").write_text(json.dumps(scenarios))
    settings = load_settings(
        {
            "VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items()),
            "VOXFLOW_RECORDING": "off",
            "VOXFLOW_SIM_SCENARIOS": str(tmp_path / "scenarios.json"),
            "VOXFLOW_METRICS": "on",
            "VOXFLOW_METRICS_PORT": "0",
        }
    )
    async with time_skipping_env() as env:
        config = env.client.config()
        config["interceptors"] = [TracingInterceptor()]
        client = Client(**config)
        async with simulated_worker(
            client,
            pg_pool,
            settings,
            parse_scenarios(scenarios),
            tmp_path / "sim.jsonl",
            lateness=PACER_LATENESS,
        ):
            app = create_app(settings, db=pg_pool, temporal=client)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://voxflow.test",
                headers={"X-API-Key": KEYS["admin"]},
            ) as api:
                yield Stack(api, settings, client)

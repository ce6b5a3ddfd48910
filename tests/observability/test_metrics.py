"""Metrics scraped while a simulated campaign runs: the worker's port (the same server the
worker process starts, ``worker_metrics_server``) and the API's ``/metrics``; and the Temporal
SDK's own endpoint."""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from runtime.dev.demo import DEMO_FLOW, anytime_flow, prepare_campaign
from runtime.observability.exposition import temporal_runtime, worker_metrics_server
from runtime.settings import load_settings
from tests.temporal_env import time_skipping_env

from .conftest import Stack

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for (n, labels), v in samples.items():
        if n == name:
            out[dict(labels)[label]] += v
    return dict(out)


async def test_counters_move_while_a_simulated_campaign_runs(
    stack: Stack, pg_pool: asyncpg.Pool
) -> None:
    # The demo's first six callees: answers, busy, no answer, voicemail, opts out, callback.
    await prepare_campaign(pg_pool, anytime_flow(), DEMO_FLOW, "observed", limit=6)
    with worker_metrics_server(stack.settings) as bound:
        assert bound is not None and bound[0] == "127.0.0.1"
        url = f"http://{bound[0]}:{bound[1]}/metrics"
        async with httpx.AsyncClient() as http:
            before = parse((await http.get(url)).text)
            started = await stack.api.post("/campaigns/observed/start")
            assert started.status_code == 200, started.text
            most_in_progress = 0.0
            for _ in range(1200):
                now = parse((await http.get(url)).text)
                most_in_progress = max(most_in_progress, value(now, "voxflow_calls_in_progress"))
                outcomes = by_label(now, "voxflow_originates_total", "outcome")
                gained = {k: v - by_label(before, "voxflow_originates_total", "outcome").get(k, 0)
                          for k, v in outcomes.items()}  # fmt: skip
                if all(gained.get(o, 0) >= 1 for o in ("answered", "busy", "no_answer")) and (
                    most_in_progress >= 1 and value(now, "voxflow_calls_in_progress") == 0
                ):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"counters did not move enough: {gained}")
            board = parse((await stack.api.get("/metrics")).text)

    attempts = value(now, "voxflow_dial_attempts_total") - value(
        before, "voxflow_dial_attempts_total"
    )
    assert attempts >= 3 and attempts >= sum(gained.values())
    assert most_in_progress >= 1
    frames = value(now, "voxflow_audiosocket_jitter_seconds_count") - value(
        before, "voxflow_audiosocket_jitter_seconds_count"
    )
    assert frames >= 50, "a live call sends 50 frames a second through the pacer"
    assert value(now, "voxflow_audiosocket_jitter_seconds_bucket", le="+Inf") == value(
        now, "voxflow_audiosocket_jitter_seconds_count"
    )
    first_audio = by_label(now, "voxflow_provider_first_audio_seconds_count", "provider")
    assert first_audio.get("local", 0) >= 1
    # The API reads the campaign's board and the breakers from PostgreSQL when scraped.
    contacts = {
        dict(labels)["state"]: v
        for (name, labels), v in board.items()
        if name == "voxflow_campaign_contacts"
        and dict(labels)["campaign"] == "observed"
        and dict(labels)["tenant"] == "default"
    }
    assert sum(contacts.values()) == 6
    assert set(contacts) >= {"queued", "dialling", "in_call", "scheduled", "final"}
    assert value(board, "voxflow_breaker_open", provider="local") == 0
    # Phone numbers never become labels.
    assert not any("+1" in v for (_, labels), _ in now.items() for _, v in labels)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_temporal_sdk_serves_its_own_metrics_when_metrics_are_on() -> None:
    port = _free_port()
    settings = load_settings({"VOXFLOW_METRICS": "on", "VOXFLOW_TEMPORAL_METRICS_PORT": str(port)})
    assert temporal_runtime(load_settings({})) is None  # off by default
    runtime = temporal_runtime(settings)
    assert runtime is not None
    async with time_skipping_env() as env:
        target = env.client.service_client.config.target_host
        # Connecting makes RPCs (system info), which the SDK's core counts.
        await Client.connect(target, namespace=env.client.namespace, runtime=runtime)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    assert any(f.name.startswith("temporal_") for f in text_string_to_metric_families(text))


async def test_the_api_has_no_metrics_route_unless_metrics_are_on(pg_pool: asyncpg.Pool) -> None:
    from runtime.api import create_app

    app = create_app(load_settings({}), db=pg_pool)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://voxflow.test"
    ) as api:
        assert (await api.get("/metrics")).status_code == 404

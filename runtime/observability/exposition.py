"""Serving the metrics: the worker's own port, the API's ``/metrics``, the Temporal SDK's port.

Everything here is off unless ``VOXFLOW_METRICS`` is on. The worker serves :data:`REGISTRY`
from prometheus_client's HTTP server on ``VOXFLOW_METRICS_HOST:VOXFLOW_METRICS_PORT`` (a thread
of its own: a scrape never waits for the event loop) and hands the Temporal SDK a runtime whose
Prometheus endpoint is ``VOXFLOW_TEMPORAL_METRICS_PORT`` (the SDK's metrics come from its Rust
core, which serves them itself). The API adds the database's gauges to the same registry's
output when ``/metrics`` is scraped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from threading import Thread

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from runtime.observability.database import database_metrics
from runtime.observability.metrics import REGISTRY
from runtime.settings import Settings

__all__ = ["CONTENT_TYPE_LATEST", "api_metrics", "temporal_runtime", "worker_metrics_server"]


@contextmanager
def worker_metrics_server(settings: Settings) -> Iterator[tuple[str, int] | None]:
    """Serve :data:`REGISTRY` on the settings' metrics address for the block's duration.

    Yields the ``(host, port)`` bound (port 0 picks a free one), or ``None`` when metrics
    are off.
    """
    if not settings.metrics:
        yield None
        return
    from prometheus_client import start_http_server

    server, thread = start_http_server(
        settings.metrics_port, settings.metrics_host, registry=REGISTRY
    )
    try:
        yield server.server_address[:2]
    finally:
        _stop(server, thread)


def _stop(server: object, thread: Thread) -> None:
    server.shutdown()  # type: ignore[attr-defined]
    server.server_close()  # type: ignore[attr-defined]
    thread.join()


def temporal_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics (``temporal_*``), or ``None`` (off)."""
    if not settings.metrics or settings.temporal_metrics_port == 0:
        return None
    address = f"{settings.metrics_host}:{settings.temporal_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


async def api_metrics(pool: asyncpg.Pool) -> bytes:
    """The API's ``/metrics`` body: :data:`REGISTRY` plus the database's gauges, read now."""
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_Families(await database_metrics(pool)))
    return generate_latest(REGISTRY) + generate_latest(extra)

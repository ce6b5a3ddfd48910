"""voxflow's Prometheus metrics: one registry, the instruments, and what the code calls.

Every instrument lives on :data:`REGISTRY` (not prometheus_client's global one), so what the
worker and the API expose is voxflow's alone plus the process collectors added there. The
counts are kept whether or not metrics are switched on (a handful of increments per call);
``VOXFLOW_METRICS`` decides whether they are served (``runtime/observability/exposition.py``).
The one per-frame figure, the AudioSocket pacer's lateness, is counted in plain ints by the
pacer (``telephony/audiosocket/pacer.py``) only when metrics are on, and read at scrape time.

Labels stay low-cardinality: outcomes, provider names, error codes, results, campaign ids.
Never a phone number, a contact or an attempt id (those belong to traces and logs).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from dsl.compiler import COMPILES
from telephony.audiosocket.pacer import LATE_S, LATENESS_BOUNDS_S, Lateness

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

CALLS_IN_PROGRESS = Gauge(
    "voxflow_calls_in_progress",
    "Live calls this process is conversing (converse activities past their media).",
    registry=REGISTRY,
)
ORIGINATES = Counter(
    "voxflow_originates",
    "Originates by their outcome: answered, busy, no_answer, failed, congestion, machine...",
    ["outcome"],
    registry=REGISTRY,
)
DIAL_ATTEMPTS = Counter(
    "voxflow_dial_attempts",
    "Originates sent to the PBX (rate() gives attempts per second).",
    registry=REGISTRY,
)
BARGEIN_FLUSH = Histogram(
    "voxflow_bargein_flush_seconds",
    "Barge-in: from the caller's speech starting to the queue dropped and the provider told.",
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)
PROVIDER_FIRST_AUDIO = Histogram(
    "voxflow_provider_first_audio_seconds",
    "A provider turn's first agent audio, from the moment the turn was asked for.",
    ["provider"],
    buckets=(0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
    registry=REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "voxflow_provider_errors",
    "Provider failures by provider and code (the provider's error code, a close code,"
    " 'unavailable' for a refused session).",
    ["provider", "code"],
    registry=REGISTRY,
)
CONVERSATION_TESTS = Counter(
    "voxflow_conversation_tests",
    "Conversation tests run, by result: passed, failed.",
    ["result"],
    registry=REGISTRY,
)


class PacerCollector(Collector):
    """``voxflow_audiosocket_frames_late_total`` and ``voxflow_audiosocket_jitter_seconds``."""

    def __init__(self, lateness: Lateness) -> None:
        self._lateness = lateness

    def collect(self) -> Iterator[Metric]:
        lat = self._lateness
        # The pacer adds on the event loop while a scrape may read from another thread: the
        # total is taken from the copied buckets, so the histogram stays consistent.
        counts, sum_s, late = list(lat.buckets), lat.sum_s, lat.late
        total = sum(counts)
        yield CounterMetricFamily(
            "voxflow_audiosocket_frames_late",
            f"Outgoing AudioSocket frames sent more than {LATE_S * 1000:g} ms after their deadline.",
            value=late,
        )
        cumulative, buckets = 0, []
        for bound, n in zip(LATENESS_BOUNDS_S, counts, strict=False):
            cumulative += n
            buckets.append((repr(bound), cumulative))
        buckets.append(("+Inf", total))
        yield HistogramMetricFamily(
            "voxflow_audiosocket_jitter_seconds",
            "How late each outgoing AudioSocket frame left after its 20 ms deadline.",
            buckets=buckets,
            sum_value=sum_s,
        )


class CompileCollector(Collector):
    """``voxflow_compiles_total{result}`` from the compiler's own counts (``dsl/compiler.py``)."""

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "voxflow_compiles", "Flow compiles by result: ok, or error.", labels=["result"]
        )
        for result, n in sorted(COMPILES.items()):
            family.add_metric([result], n)
        yield family


REGISTRY.register(CompileCollector())

PACER_LATENESS = Lateness()
"""Outgoing AudioSocket frame lateness of this process's pacer: the worker hands it to its
AudioSocket server when metrics are on; :class:`PacerCollector` exports it when scraped."""
REGISTRY.register(PacerCollector(PACER_LATENESS))


def provider_error(provider: str, code: str) -> None:
    PROVIDER_ERRORS.labels(provider, code or "unknown").inc()

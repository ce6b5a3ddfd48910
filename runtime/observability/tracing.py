"""OpenTelemetry tracing: the tracer provider from the settings, and the Temporal interceptor.

``VOXFLOW_TRACING`` picks the exporter: ``off`` (the default: no provider is installed, so
every span below is the API's no-op), ``console`` (spans printed as JSON lines) or ``otlp``
(OTLP over HTTP to ``VOXFLOW_OTLP_ENDPOINT``; needs ``opentelemetry-exporter-otlp-proto-http``).
Temporal's ``TracingInterceptor`` (``temporalio.contrib.opentelemetry``) on the client carries
the trace from whoever starts a workflow through the workflow to its activities, so a call's
spans (originate, AMD, AudioSocket connect, provider turns, tool calls) hang under the contact
workflow that placed it. Every span of a call carries :data:`ATTEMPT_ID`; no span carries a
phone number.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from runtime.settings import Settings
from telephony.gateway import ATTEMPT_ATTRIBUTE

ATTEMPT_ID = ATTEMPT_ATTRIBUTE
CAMPAIGN = "voxflow.campaign"
FLOW_HASH = "voxflow.flow_hash"
PROVIDER = "voxflow.provider"
TOOL = "voxflow.tool"
OUTCOME = "voxflow.outcome"

ORIGINATE = "voxflow.originate"
AMD = "voxflow.amd"
AUDIOSOCKET_CONNECT = "voxflow.audiosocket.connect"
CALL = "voxflow.call"
PROVIDER_TURN = "voxflow.provider.turn"
TOOL_CALL = "voxflow.tool_call"

tracer = trace.get_tracer("voxflow")
"""voxflow's tracer: a proxy until a provider is installed, so it is safe at import time."""


def configure_tracing(settings: Settings, service: str) -> trace.TracerProvider | None:
    """Install the tracer provider ``VOXFLOW_TRACING`` asks for; ``None`` when off.

    Call once per process, before the Temporal client connects; shut the provider down at
    exit so the last spans are flushed.
    """
    if settings.tracing == "off":
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if settings.tracing == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    else:
        exporter = ConsoleSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def temporal_interceptors(settings: Settings) -> list[object]:
    """The interceptors a Temporal client gets: the tracing one when tracing is on."""
    if settings.tracing == "off":
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


@contextmanager
def call_span(name: str, attempt_id: str, **attributes: str | int | bool) -> Iterator[Span]:
    """A span of the call ``attempt_id``, a child of the current one (the activity's).

    An exception leaving the block marks the span as an error and is re-raised.
    """
    attrs: dict[str, str | int | bool] = {ATTEMPT_ID: attempt_id}
    attrs.update({f"voxflow.{k}": v for k, v in attributes.items()})
    with tracer.start_as_current_span(name, attributes=attrs) as span:
        yield span


def failed(span: Span, reason: str) -> None:
    span.set_status(Status(StatusCode.ERROR, reason))

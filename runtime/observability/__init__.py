"""Observability: Prometheus metrics, OpenTelemetry traces and structured logs of voxflow.

``metrics`` holds the instruments and the registry, ``exposition`` serves them (worker port,
API ``/metrics``, Temporal SDK runtime), ``database`` reads the gauges PostgreSQL knows,
``tracing`` installs the tracer provider and the Temporal interceptor, ``calls`` reports one
live call, ``logs`` formats lines (text or JSON) tagged with the call's fields. Settings and
metric names: docs/observability.md.
"""

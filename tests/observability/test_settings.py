"""The observability settings: off by default, validated at start-up with every problem named."""

from __future__ import annotations

import importlib.util

import pytest

from runtime.settings import SettingsError, load_settings


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_everything_is_off_by_default_and_binds_loopback() -> None:
    s = load_settings({})
    assert (s.metrics, s.tracing, s.log_format) == (False, "off", "text")
    assert (s.metrics_host, s.metrics_port, s.temporal_metrics_port) == ("127.0.0.1", 9464, 9465)


def test_switches_read_on_and_json() -> None:
    s = load_settings(
        {"VOXFLOW_METRICS": "on", "VOXFLOW_LOG_FORMAT": "json", "VOXFLOW_TRACING": "console"}
    )
    assert (s.metrics, s.log_format, s.tracing) == (True, "json", "console")


def test_otlp_without_endpoint_or_exporter_and_a_shared_port_are_refused_together() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "VOXFLOW_TRACING": "otlp",
                "VOXFLOW_METRICS": "on",
                "VOXFLOW_METRICS_PORT": "9500",
                "VOXFLOW_TEMPORAL_METRICS_PORT": "9500",
            }
        )
    envs = {p.env for p in caught.value.problems}
    assert {"VOXFLOW_OTLP_ENDPOINT", "VOXFLOW_TEMPORAL_METRICS_PORT"} <= envs
    # The OTLP exporter is an optional package: its absence is named too.
    assert ("VOXFLOW_TRACING" in envs) is (not _installed("opentelemetry.exporter.otlp.proto.http"))


def test_bad_values_name_their_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"VOXFLOW_LOG_FORMAT": "xml", "VOXFLOW_TRACING": "jaeger"})
    assert {p.env for p in caught.value.problems} == {"VOXFLOW_LOG_FORMAT", "VOXFLOW_TRACING"}

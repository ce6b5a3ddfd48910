"""``VOXFLOW_TRACING=console`` in a process of its own (a process installs one provider)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from runtime.observability.tracing import ORIGINATE, call_span, configure_tracing
from runtime.observability.tracing import temporal_interceptors
from runtime.settings import load_settings
off = load_settings({})
assert configure_tracing(off, "t") is None and temporal_interceptors(off) == []
s = load_settings({"VOXFLOW_TRACING": "console"})
provider = configure_tracing(s, "voxflow-test")
assert type(temporal_interceptors(s)[0]).__name__ == "TracingInterceptor"
with call_span(ORIGINATE, "a1b2", campaign="c"):
    pass
provider.shutdown()
"""


def test_console_tracing_prints_the_spans_with_the_service_and_attempt() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    span = json.loads(done.stdout)
    assert span["name"] == "voxflow.originate"
    assert span["attributes"] == {"voxflow.attempt_id": "a1b2", "voxflow.campaign": "c"}
    assert span["resource"]["attributes"]["service.name"] == "voxflow-test"

"""What one live call reports: provider turns, first audio, barge-in flushes, errors, tools.

The call bridge (``runtime/call/bridge.py``) owns one :class:`CallTelemetry` and tells it what
happens in plain calls; this module turns that into spans and metrics, so the bridge keeps to
the call. A provider turn runs from the moment it was asked for (a ``say``, a ``respond``, a
function result, or the caller's final words, after which a realtime model answers on its own)
to its last audio, or to the barge-in that cut it; its first audio is observed in
``voxflow_provider_first_audio_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import Span

from runtime.observability import metrics
from runtime.observability.tracing import (
    ATTEMPT_ID,
    PROVIDER,
    PROVIDER_TURN,
    TOOL,
    TOOL_CALL,
    failed,
    tracer,
)


class CallTelemetry:
    """Spans and metrics of the call ``attempt_id`` (spans are children of the current span
    when each starts: the bridge runs inside the ``converse`` activity's call span)."""

    def __init__(self, attempt_id: str) -> None:
        self.attempt_id = attempt_id
        self._asked_at: float | None = None
        self._asked_ns: int | None = None
        self._turn: Span | None = None
        self._turn_item: str | None = None

    def asked(self) -> None:
        """A provider turn was asked for (kept if one is already pending)."""
        if self._asked_at is None:
            self._asked_at = time.monotonic()
            self._asked_ns = time.time_ns()

    def audio(self, provider: str, item_id: str) -> None:
        """Agent audio of ``item_id`` arrived: the first frame of an item opens its turn."""
        if item_id == self._turn_item:
            return
        self.turn_done()
        attrs = {ATTEMPT_ID: self.attempt_id, PROVIDER: provider}
        if self._asked_at is not None:
            waited = time.monotonic() - self._asked_at
            metrics.PROVIDER_FIRST_AUDIO.labels(provider).observe(waited)
            attrs["voxflow.first_audio_ms"] = int(waited * 1000)
        self._turn = tracer.start_span(PROVIDER_TURN, attributes=attrs, start_time=self._asked_ns)
        self._turn_item = item_id
        self._asked_at = self._asked_ns = None

    def turn_done(self, *, interrupted: bool = False) -> None:
        """The current turn's audio is all sent (or cut by the caller)."""
        if self._turn is not None:
            self._turn.set_attribute("voxflow.interrupted", interrupted)
            self._turn.end()
        self._turn = None
        self._turn_item = None

    def barge_in(self, started: float) -> None:
        """A barge-in's flush is done; ``started`` is when the caller's speech was reported
        (``time.perf_counter()``)."""
        metrics.BARGEIN_FLUSH.observe(time.perf_counter() - started)
        self.turn_done(interrupted=True)

    def provider_error(self, provider: str, code: str, *, fatal: bool) -> None:
        """The provider reported an error; a fatal one ends the current turn."""
        metrics.provider_error(provider, code)
        if fatal:
            if self._turn is not None:
                failed(self._turn, f"{provider} failed ({code or 'unknown'})")
            self.turn_done()

    @contextmanager
    def tool_call(self, name: str) -> Iterator[Span]:
        with tracer.start_as_current_span(
            TOOL_CALL, attributes={ATTEMPT_ID: self.attempt_id, TOOL: name}
        ) as span:
            yield span

    def close(self) -> None:
        self.turn_done()

"""The ``converse`` activity: one live call, from media session to outcome.

The contact workflow calls ``converse`` on the task queue of the worker whose AudioSocket server
the call's media lands on (Temporal's worker-specific task queue pattern). The activity waits
for the media session of ``attempt_id``, runs the call bridge (media session, engine, provider,
tools), heartbeats while the call lasts, hangs up when cancelled, and returns a
``ConverseResult``. Both dataclasses are plain JSON-serialisable values so the workflow and the
activity agree through Temporal's default data converter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ConverseInput:
    attempt_id: str
    """Canonical 36-char UUID of the attempt; also the AudioSocket UUID of the call's media."""
    flow_hash: str
    """``sha256:<hex>`` of the IR the campaign was started with (looked up in the flow store)."""
    contact: dict[str, Any]
    """The contact's columns, readable by the flow as ``contact.<name>``."""
    campaign: dict[str, Any] = field(default_factory=dict)
    """Campaign values readable as ``campaign.<name>``."""
    provider: str | None = None
    """Force a provider (``openai``, ``ultravox``, ``local``); ``None`` = the flow's choice."""


@dataclass(frozen=True)
class ConverseResult:
    outcome: str
    """An agent outcome, a ``BuiltinOutcome`` or a ``TelephonyOutcome`` value."""
    callback_at: str | None = None
    """ISO 8601 aware datetime the callee asked to be called back at, when they did."""
    opted_out: bool = False
    node_path: list[str] = field(default_factory=list)
    """Nodes entered, in order (the start node first)."""
    turns: int = 0
    """Caller turns (utterances or DTMF) handled by the engine."""
    duration_ms: int = 0
    """From the media session's start to hang-up."""
    usage: dict[str, Any] = field(default_factory=dict)
    """Provider usage: ``{"provider": ..., "input_tokens": ..., "output_tokens": ..., "cost_usd": ...}``."""
    error: str | None = None
    """Why the call ended abnormally (provider failure, media timeout), ``None`` otherwise."""

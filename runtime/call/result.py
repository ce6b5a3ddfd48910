"""What one call produced: the record the converse activity returns and persists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Interruption:
    """A barge-in: the caller spoke over ``item_id`` after ``played_ms`` of it were played."""

    item_id: str | None
    played_ms: int


@dataclass
class CallResult:
    call_id: str
    outcome: str
    node_path: list[str] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    """``{"role": "agent"|"caller"|"tool"|"event", "text": ..., "node": ...}`` in order."""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """``{"call_id", "name", "arguments", "ok", "result"|"error"}`` per tool run."""
    interruptions: list[Interruption] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    """Per provider used: ``{"openai": {...Usage...}}``."""
    providers: list[str] = field(default_factory=list)
    """Providers that carried the call, in order (more than one after a fallback)."""
    turns: int = 0
    duration_ms: int = 0
    callback_at: str | None = None
    opted_out: bool = False
    transfer_to: str | None = None
    ended_by: str = ""
    """``agent`` (the flow ended), ``caller`` (hang-up) or ``provider`` (no provider left)."""
    error: str | None = None

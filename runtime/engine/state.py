"""The engine's per-call state: one dataclass, JSON-able through ``snapshot()``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass
class PendingCall:
    """A ``CallTool`` the engine emitted and has no ``ToolResult`` for yet."""

    call_id: str
    name: str
    since: datetime
    deadline_ms: int
    origin: Literal["action", "model"]
    """``action``: a flow ``call`` action (the node's actions wait for it); ``model``: the model
    called a node tool."""
    into: str | None = None


@dataclass
class Frame:
    """A running sub-flow: where its caller continues, and the caller's slots meanwhile."""

    flow: str
    then: str
    into: str | None
    params: dict[str, Any]
    caller_slots: dict[str, Any]
    resume: bool = False
    """``then`` is the node the call interrupted (a digression): resume it, don't re-enter."""
    caller_filled: dict[str, int] = field(default_factory=dict)
    """The caller's ``EngineState.filled_at`` meanwhile."""


@dataclass(frozen=True)
class Taken:
    """A transition the engine took: ``key`` names it within ``node`` (``*`` for globals)."""

    node: str
    key: str
    target: str | None


@dataclass
class NodeVisit:
    """One stay in a node, for the heat map of real calls (``runtime.heatmap``): how it was
    entered, and how often the caller was not understood, stayed silent, or was asked again."""

    node: str
    via: str
    no_matches: int = 0
    """Answers that matched nothing (``on no_match``, or the default re-prompt)."""
    silences: int = 0
    """Silences the node reacted to (``on silence``)."""
    reprompts: int = 0
    """Times the agent asked again: after a no-match, a silence or a refused value."""


@dataclass
class EngineState:
    now: datetime
    node: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    """Tool results stored by ``call ... into <name>``."""
    outcome: str | None = None
    ended: bool = False
    callback_at: str | None = None
    opted_out: bool = False
    transfer_to: str | None = None
    path: list[str] = field(default_factory=list)
    taken: list[Taken] = field(default_factory=list)
    trail: list[NodeVisit] = field(default_factory=list)
    """Every node entry (and resumption) in order, with what happened there."""
    transcript: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, PendingCall] = field(default_factory=dict)
    turns: int = 0
    # per-node counters, reset on every node entry
    asks: Counter[str] = field(default_factory=Counter)
    silence_reprompts: int = 0
    no_matches: int = 0
    failures: int = 0
    """Silences, no-matches and invalid values in this node visit (``on failures``)."""
    dtmf_buffer: str = ""
    clarifying: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The intents a clarifying question just offered (name -> the parameters the caller's
    words gave); empty when none is pending."""
    chitchats: int = 0
    """Small talk answered in this node visit (beyond ``Limits.max_chitchat`` it is a
    no-match)."""
    # whole-call counters and clocks
    visits: Counter[str] = field(default_factory=Counter)
    fallbacks: int = 0
    call_failures: int = 0
    """Silences, no-matches and invalid values in the whole call (global ``on failures``)."""
    last_input_at: datetime | None = None
    awaiting_reply_since: datetime | None = None
    errors: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    """Running sub-flows, innermost last; ``slots`` are the innermost one's own."""
    filled_at: dict[str, int] = field(default_factory=dict)
    """Slot -> the index in ``path`` of the node visit where it got its value (a correction
    goes back no further)."""

    def note(self, role: str, text: str, **data: Any) -> None:
        entry: dict[str, Any] = {"role": role, "text": text, "node": self.node}
        if data:
            entry["data"] = data
        self.transcript.append(entry)

    def tally(self, *, no_match: int = 0, silence: int = 0, reprompt: int = 0) -> None:
        """Count what happened in the node being visited (nothing before the first entry)."""
        if self.trail:
            visit = self.trail[-1]
            visit.no_matches += no_match
            visit.silences += silence
            visit.reprompts += reprompt

    def snapshot(self) -> dict[str, Any]:
        """The state as plain JSON values (datetimes in ISO 8601, other values as strings)."""
        raw = {
            "node": self.node,
            "slots": self.slots,
            "vars": self.vars,
            "results": self.results,
            "outcome": self.outcome,
            "ended": self.ended,
            "callback_at": self.callback_at,
            "opted_out": self.opted_out,
            "transfer_to": self.transfer_to,
            "path": self.path,
            "taken": [[t.node, t.key, t.target] for t in self.taken],
            "transcript": self.transcript,
            "pending": {
                k: {"name": p.name, "since": p.since, "origin": p.origin, "into": p.into}
                for k, p in self.pending.items()
            },
            "turns": self.turns,
            "frames": [f.flow for f in self.frames],
            "failures": self.failures,
            "call_failures": self.call_failures,
            "now": self.now,
            "errors": self.errors,
        }
        return json.loads(json.dumps(raw, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

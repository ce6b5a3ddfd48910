"""What one call produced: the record the converse activity returns and persists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from runtime.engine.state import NodeVisit


@dataclass(frozen=True)
class Interruption:
    """A barge-in: the caller spoke over ``item_id`` after ``played_ms`` of it were played."""

    item_id: str | None
    played_ms: int


@dataclass(frozen=True)
class TimedVisit:
    """One stay in a node as the call's row stores it (``calls.visits``, migration 0008)."""

    node: str
    via: str
    """What led there (``runtime.engine.events.NodeEntered.via``)."""
    entered_ms: int | None
    """When the node was entered, in ms from the start of the call (``None``: not timed)."""
    ms: int | None
    """How long the call stayed: until the next node, or the end of the call."""
    no_matches: int = 0
    silences: int = 0
    reprompts: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TimedVisit:
        """A stored visit; counters a row lacks read as 0, times as unknown."""

        def count(key: str) -> int:
            value = raw.get(key)
            return value if isinstance(value, int) and value >= 0 else 0

        def ms(key: str) -> int | None:
            value = raw.get(key)
            return value if isinstance(value, int) and value >= 0 else None

        return cls(
            node=str(raw["node"]),
            via=str(raw.get("via", "")),
            entered_ms=ms("entered_ms"),
            ms=ms("ms"),
            no_matches=count("no_matches"),
            silences=count("silences"),
            reprompts=count("reprompts"),
        )


def timed_visits(
    trail: Sequence[NodeVisit], entered_ms: Sequence[int], duration_ms: int
) -> list[TimedVisit]:
    """The engine's node visits with the times the bridge saw each entry.

    ``entered_ms[i]`` is when the bridge carried out the ``NodeEntered`` of ``trail[i]`` (the
    engine adds one visit per ``NodeEntered``); a visit without a time keeps ``None``.
    """
    times: list[int | None] = [*entered_ms[: len(trail)]]
    times += [None] * (len(trail) - len(times))
    out: list[TimedVisit] = []
    for i, visit in enumerate(trail):
        start = times[i]
        end = times[i + 1] if i + 1 < len(trail) else duration_ms
        stay = None if start is None or end is None else max(0, end - start)
        out.append(
            TimedVisit(
                visit.node,
                visit.via,
                start,
                stay,
                visit.no_matches,
                visit.silences,
                visit.reprompts,
            )
        )
    return out


@dataclass
class CallResult:
    call_id: str
    outcome: str
    node_path: list[str] = field(default_factory=list)
    visits: list[TimedVisit] = field(default_factory=list)
    """Each stay in a node: when, how long, no-matches, silences and re-prompts there."""
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
    slots: dict[str, Any] = field(default_factory=dict)
    """What the flow collected: its slots when the call ended."""

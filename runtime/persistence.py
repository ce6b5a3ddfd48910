"""The persistence interface the conversation side writes through.

Opt-outs and callbacks asked for during a call are stored through ``Persistence`` and the
write completes (the coroutine returns) before the agent confirms them to the caller
(durability invariant 4). Transcripts and tool calls are recorded through the same interface.

The PostgreSQL implementation lives with the campaigns; ``InMemoryPersistence`` here serves the
tests and the terminal chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class OptOut:
    phone: str
    """The number that must never be called again (E.164 when known)."""
    call_id: str
    at: datetime
    reason: str = ""
    contact_id: str | None = None


@dataclass(frozen=True)
class Callback:
    call_id: str
    at: datetime
    """The aware instant the callee asked to be called back at."""
    requested_at: datetime
    """When the callee asked (the call's clock)."""
    phone: str = ""
    contact_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class TranscriptEntry:
    call_id: str
    seq: int
    role: str
    """``caller``, ``agent``, ``tool`` or ``event``."""
    text: str
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Persistence(Protocol):
    """Durable writes of the conversation side. Every method returns once the write is stored."""

    async def add_opt_out(self, opt_out: OptOut) -> None: ...

    async def add_callback(self, callback: Callback) -> None: ...

    async def append_transcript(self, entries: list[TranscriptEntry]) -> None: ...

    async def is_opted_out(self, phone: str) -> bool: ...


class InMemoryPersistence:
    """A ``Persistence`` held in memory: for tests and the terminal chat only."""

    def __init__(self) -> None:
        self.opt_outs: list[OptOut] = []
        self.callbacks: list[Callback] = []
        self.transcript: list[TranscriptEntry] = []

    async def add_opt_out(self, opt_out: OptOut) -> None:
        self.opt_outs.append(opt_out)

    async def add_callback(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    async def append_transcript(self, entries: list[TranscriptEntry]) -> None:
        self.transcript.extend(entries)

    async def is_opted_out(self, phone: str) -> bool:
        return any(o.phone == phone for o in self.opt_outs)

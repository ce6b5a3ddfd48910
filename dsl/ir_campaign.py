"""The flow IR's campaign part: contacts, calling windows, holidays, pacing, outcome rules.

Re-exported by ``dsl.ir`` (import from there); the same rules apply: frozen, position-free,
extended additively.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class ContactsSource:
    kind: Literal["csv", "xlsx", "postgres"]
    location: str
    """Path relative to the flow file (csv, xlsx) or a table name (postgres)."""
    phone_column: str = "phone"
    timezone_column: str | None = "timezone"
    id_column: str | None = "id"
    name_column: str | None = "first_name"
    default_region: str = "US"
    """Region used to parse numbers written without a country code."""


@dataclass(frozen=True)
class CallingWindow:
    days: tuple[int, ...]
    """ISO weekdays, 1 = Monday ... 7 = Sunday."""
    start: str
    """Local ``HH:MM`` (inclusive)."""
    end: str
    """Local ``HH:MM`` (exclusive)."""


@dataclass(frozen=True)
class Holidays:
    countries: tuple[str, ...] = ()
    """ISO country codes (``US``, ``FR``...) whose public holidays are skipped."""
    dates: tuple[str, ...] = ()
    """Explicit ``YYYY-MM-DD`` dates skipped everywhere."""


@dataclass(frozen=True)
class Pacing:
    max_concurrent: int = 1
    per_minute: int | None = None
    ramp_start: int | None = None
    """Concurrency to start with; grows by ``ramp_step`` every ``ramp_every_ms``."""
    ramp_step: int = 1
    ramp_every_ms: int = 60_000


@dataclass(frozen=True)
class OutcomeRule:
    outcome: str
    action: Literal["retry", "callback", "dnc", "final"]
    delay_ms: int | None = None
    """For ``retry``: wait before the next attempt."""
    max_attempts: int | None = None
    """For ``retry``: how many times an attempt ending with this outcome is retried
    (``max`` in the flow; required for retry). The campaign's ``max_attempts`` caps them all."""


@dataclass(frozen=True)
class Campaign:
    name: str
    contacts: ContactsSource
    windows: tuple[CallingWindow, ...]
    rules: tuple[OutcomeRule, ...]
    holidays: Holidays = field(default_factory=Holidays)
    pacing: Pacing = field(default_factory=Pacing)
    amd: Literal["hangup", "leave_message", "continue"] = "hangup"
    amd_node: str | None = None
    """Node run when a machine answers and ``amd`` is ``leave_message``."""
    caller_id: str | None = None
    max_attempts: int = 5
    """Cap on attempts per contact, whatever the outcomes."""
    ring_timeout_ms: int = 30_000

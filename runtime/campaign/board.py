"""Where each contact of a campaign stands, in words an operator reads at a glance.

The stored contact status (``pending``, ``scheduled``, ``dialing``...) says what the workflow
last recorded; an operator needs to know why nothing happens: is the contact queued for a
dial slot, waiting for its calling window (until when, in its own time), being dialled, in a
call, scheduled for a retry or a callback, or done. :func:`build_board` answers that from the
stored rows, the campaign's windows and a clock, without I/O, for the CLI, the API and the
studio alike.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dsl.ir import CallingWindow
from runtime.campaign import windows as window_rules
from runtime.campaign.localtime import by_instant, format_local


class Phase(StrEnum):
    QUEUED = "queued"
    """Its window is open: waiting for a dial slot under the campaign's pacing."""
    WAITING_WINDOW = "waiting for window"
    DIALLING = "dialling"
    IN_CALL = "in call"
    SCHEDULED = "scheduled"
    """A retry or a callback at a set time."""
    FINAL = "final"
    STOPPED = "stopped"


PHASE_ORDER = tuple(Phase)


@dataclass(frozen=True)
class StoredContact:
    """A contact as PostgreSQL has it, with its latest attempt's status."""

    contact_id: str
    name: str
    timezone: str
    status: str
    outcome: str | None
    attempts: int
    next_at: datetime | None
    attempt_status: str | None = None
    """``dialing``, ``answered``, ``finished`` or ``unknown`` (None: never attempted)."""


@dataclass(frozen=True)
class ContactLine:
    contact_id: str
    name: str
    timezone: str
    phase: Phase
    attempts: int
    outcome: str | None
    next_at: datetime | None
    """When it is next dialled at the earliest (UTC), for waiting and scheduled contacts."""

    @property
    def next_local(self) -> str:
        return format_local(self.next_at, self.timezone) if self.next_at else ""

    @property
    def label(self) -> str:
        """``waiting for window until Mon 7 Dec 09:00 EST``, ``scheduled Tue 8 Dec ...``."""
        if self.phase is Phase.WAITING_WINDOW and self.next_at:
            return f"waiting for window until {self.next_local}"
        if self.phase is Phase.SCHEDULED and self.next_at:
            return f"scheduled {self.next_local}"
        if self.phase is Phase.FINAL and self.outcome:
            return f"final: {self.outcome}"
        return self.phase.value


@dataclass(frozen=True)
class WindowNote:
    """The calling window is closed now for some contacts: for how many, and when it opens."""

    closed_for: int
    waiting: int
    """Contacts not final (the denominator)."""
    next_opening: datetime | None
    timezone: str

    @property
    def text(self) -> str:
        if self.next_opening is None:
            return (
                f"The calling window is closed now for {self.closed_for} of {self.waiting}"
                " contacts and never opens in the next 400 days: check the campaign's windows"
                " and holidays."
            )
        return (
            f"The calling window is closed now for {self.closed_for} of {self.waiting} waiting"
            f" contacts; the next opening is {format_local(self.next_opening, self.timezone)}"
            f" ({self.timezone}). Nobody is dialled outside it."
        )


@dataclass(frozen=True)
class Board:
    counts: dict[Phase, int]
    contacts: list[ContactLine]
    """Contacts not final first, by the instant of their next dial; final ones last."""
    window: WindowNote | None = None
    now: datetime | None = field(default=None, compare=False)

    @property
    def settled(self) -> bool:
        """Every contact is final or stopped (and there is at least one)."""
        total = sum(self.counts.values())
        return total > 0 and self.counts[Phase.FINAL] + self.counts[Phase.STOPPED] == total


def build_board(
    stored: Sequence[StoredContact],
    windows: Sequence[CallingWindow],
    closed: Collection[str],
    now: datetime,
) -> Board:
    lines = [_line(c, windows, closed, now) for c in stored]
    counts = dict.fromkeys(PHASE_ORDER, 0)
    for line in lines:
        counts[line.phase] += 1
    waiting = [ln for ln in lines if ln.phase not in (Phase.FINAL, Phase.STOPPED)]
    shut = [ln for ln in waiting if not window_rules.is_open(now, ln.timezone, windows, closed)]
    note = None
    if shut:
        openings = [(window_rules.next_open(now, ln.timezone, windows, closed), ln) for ln in shut]
        timed = [(at, ln) for at, ln in openings if at is not None]
        first = min(timed, key=lambda pair: pair[0].timestamp()) if timed else None
        note = WindowNote(
            len(shut),
            len(waiting),
            first[0] if first else None,
            first[1].timezone if first else shut[0].timezone,
        )
    done = [ln for ln in lines if ln.phase in (Phase.FINAL, Phase.STOPPED)]
    ordered = by_instant(waiting, lambda ln: ln.next_at) + sorted(
        done, key=lambda ln: ln.contact_id
    )
    return Board(counts, ordered, note, now)


def _line(
    c: StoredContact, windows: Sequence[CallingWindow], closed: Collection[str], now: datetime
) -> ContactLine:
    def line(phase: Phase, next_at: datetime | None = None) -> ContactLine:
        return ContactLine(c.contact_id, c.name, c.timezone, phase, c.attempts, c.outcome, next_at)

    if c.status == "final":
        return line(Phase.FINAL)
    if c.status == "stopped":
        return line(Phase.STOPPED)
    if c.status in ("dialing", "recording"):
        return line(Phase.IN_CALL if c.attempt_status == "answered" else Phase.DIALLING)
    due = c.next_at if c.next_at is not None and c.next_at > now else now
    opens = window_rules.next_open(due, c.timezone, windows, closed)
    if c.status == "scheduled" and c.attempts and due > now:
        return line(Phase.SCHEDULED, opens or due)
    if opens is not None and opens <= now:
        return line(Phase.QUEUED)
    return line(Phase.WAITING_WINDOW, opens)

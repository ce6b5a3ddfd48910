"""A campaign's board in the API (``GET /campaigns/{name}`` ``board``): each contact's state
in an operator's words, times as instants (UTC) and in the contact's local time with its
zone, sorted by instant."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from runtime.campaign.board import Board
from runtime.campaign.localtime import format_local

BOARD_CONTACTS = 100
"""Contacts listed (the next to be dialled first); the counts cover every contact."""


class BoardContactOut(BaseModel):
    contact_id: str
    name: str
    timezone: str
    state: str = Field(description="queued, waiting for window, dialling, in call, scheduled...")
    label: str = Field(description="The state in words, with its local time when it has one")
    attempts: int
    outcome: str | None
    next_at: datetime | None = Field(description="The next dial at the earliest (UTC)")
    next_local: str = Field(description="next_at in the contact's time zone, with the zone")


class WindowNoteOut(BaseModel):
    closed_for: int
    waiting: int
    next_opening: datetime | None
    next_opening_local: str
    timezone: str
    text: str


class BoardOut(BaseModel):
    counts: dict[str, int] = Field(description="Contacts by state")
    contacts: list[BoardContactOut]
    window: WindowNoteOut | None = Field(
        default=None, description="Set when the calling window is closed now for some contacts"
    )


def board_out(board: Board, limit: int = BOARD_CONTACTS) -> BoardOut:
    note = board.window
    return BoardOut(
        counts={phase.value: n for phase, n in board.counts.items()},
        contacts=[
            BoardContactOut(
                contact_id=c.contact_id,
                name=c.name,
                timezone=c.timezone,
                state=c.phase.value,
                label=c.label,
                attempts=c.attempts,
                outcome=c.outcome,
                next_at=c.next_at,
                next_local=c.next_local,
            )
            for c in board.contacts[:limit]
        ],
        window=None
        if note is None
        else WindowNoteOut(
            closed_for=note.closed_for,
            waiting=note.waiting,
            next_opening=note.next_opening,
            next_opening_local=format_local(note.next_opening, note.timezone)
            if note.next_opening
            else "",
            timezone=note.timezone,
            text=note.text,
        ),
    )

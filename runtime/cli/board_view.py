"""A campaign's board as terminal tables that fit 80 columns (``voxflow campaign status``)."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from runtime.campaign.board import PHASE_ORDER, Board, Phase
from runtime.campaign.localtime import zone_city

SHOWN = 20
"""Contacts listed below the counts (the earliest next dials first)."""


def board_renderable(name: str, board: Board, *, state: str | None = None) -> RenderableType:
    """Counts by phase, the window note when one applies, then the next contacts to dial."""
    title = f"campaign {name}" + (f" ({state})" if state else "")
    counts = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")
    for phase in PHASE_ORDER:
        counts.add_column(phase.value, justify="right")
    counts.add_row(*(str(board.counts[p]) for p in PHASE_ORDER))
    parts: list[RenderableType] = [counts]
    if board.window is not None:
        parts.append(Text(board.window.text, style="yellow"))
    waiting = [c for c in board.contacts if c.phase not in (Phase.FINAL, Phase.STOPPED)]
    if waiting:
        table = Table(box=None, pad_edge=False, title="next", title_justify="left")
        for column in ("contact", "zone", "tries", "state (contact's local time)"):
            table.add_column(column, no_wrap=True, overflow="ellipsis")
        for c in waiting[:SHOWN]:
            who = f"{c.contact_id} {c.name}".strip()[:16]
            table.add_row(who, zone_city(c.timezone), str(c.attempts), c.label)
        parts.append(table)
        if len(waiting) > SHOWN:
            parts.append(Text(f"... and {len(waiting) - SHOWN} more"))
    return Group(*parts)

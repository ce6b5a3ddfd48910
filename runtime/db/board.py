"""A campaign's board (:mod:`runtime.campaign.board`) from PostgreSQL: each contact with its
latest attempt's status, and the windows of the flow the campaign runs."""

from __future__ import annotations

from datetime import datetime

from runtime.campaign.board import Board, StoredContact, build_board
from runtime.campaign.windows import closed_dates
from runtime.db.campaigns import get_campaign
from runtime.db.flows import load_flow
from runtime.db.types import Db

BOARD_LIMIT = 5_000
"""Contacts read for one board; a larger campaign shows its first ones (counts stay exact)."""


async def stored_contacts(db: Db, campaign: str, limit: int = BOARD_LIMIT) -> list[StoredContact]:
    records = await db.fetch(
        "SELECT c.id, c.name, c.timezone, c.status, c.outcome, c.attempts, c.next_attempt_at,"
        " a.status AS attempt_status FROM contacts c"
        " LEFT JOIN LATERAL (SELECT status FROM attempts"
        "   WHERE campaign = c.campaign AND contact = c.id ORDER BY number DESC LIMIT 1) a"
        " ON true WHERE c.campaign = $1 ORDER BY c.seq LIMIT $2",
        campaign,
        limit,
    )
    return [
        StoredContact(
            r["id"],
            r["name"],
            r["timezone"],
            r["status"],
            r["outcome"],
            r["attempts"],
            r["next_attempt_at"],
            r["attempt_status"],
        )  # fmt: skip
        for r in records
    ]


async def load_board(db: Db, campaign: str, now: datetime) -> Board | None:
    """The board of ``campaign`` at ``now``; None when there is no such campaign."""
    row = await get_campaign(db, campaign)
    if row is None:
        return None
    flow = await load_flow(db, row.flow_hash)
    windows, closed = (), ()
    if flow is not None and flow.campaign is not None:
        windows = flow.campaign.windows
        closed = closed_dates(flow.campaign.holidays, range(now.year, now.year + 2))
    return build_board(await stored_contacts(db, campaign), windows, closed, now)

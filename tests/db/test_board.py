"""A campaign's board read from PostgreSQL: the latest attempt tells dialling from in call,
and the campaign's flow gives the windows."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from dsl import load_flow
from runtime.campaign.board import Phase
from runtime.db import attempts
from runtime.db.board import load_board
from runtime.dev.demo import DEMO_FLOW, prepare_campaign

SATURDAY_EVENING_NY = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)


async def test_board_from_the_database(pg_pool: asyncpg.Pool) -> None:
    flow = load_flow(DEMO_FLOW)
    await prepare_campaign(pg_pool, flow, DEMO_FLOW, "board", limit=3)
    for number, (attempt, contact) in enumerate((("a1", "c001"), ("a2", "c002")), start=1):
        await attempts.start_attempt(
            pg_pool, attempt, campaign="board", contact=contact, number=number, phone="+1"
        )
    await attempts.mark_answered(pg_pool, "a2")

    board = await load_board(pg_pool, "board", SATURDAY_EVENING_NY)

    assert board is not None
    phases = {c.contact_id: c.phase for c in board.contacts}
    assert phases == {"c001": Phase.DIALLING, "c002": Phase.IN_CALL, "c003": Phase.WAITING_WINDOW}
    c003 = next(c for c in board.contacts if c.contact_id == "c003")
    # The reminder flow's Monday window in New York (Saturday's 10:00-13:00 has passed).
    assert c003.label == "waiting for window until Mon 7 Dec 09:00 EST"
    assert await load_board(pg_pool, "nope", SATURDAY_EVENING_NY) is None

"""``GET /campaigns/{name}`` carries the board: each contact's state in words, next dials as
instants and in the contact's local time with its zone, sorted by instant."""

from __future__ import annotations

from datetime import datetime

import httpx

from runtime.campaign.board import PHASE_ORDER
from tests.api.test_api import CSV, _create


async def test_status_has_the_board_sorted_by_instant_with_local_times(
    api: httpx.AsyncClient,
) -> None:
    await _create(api, "board")
    r = await api.post("/campaigns/board/contacts", files={"file": ("c.csv", CSV, "text/csv")})
    assert r.status_code == 200, r.text

    board = (await api.get("/campaigns/board")).json()["board"]

    assert list(board["counts"]) == [p.value for p in PHASE_ORDER]
    assert sum(board["counts"].values()) == 50
    assert board["counts"]["final"] == 0
    timed = [c for c in board["contacts"] if c["next_at"]]
    instants = [datetime.fromisoformat(c["next_at"]) for c in timed]
    assert instants == sorted(instants)
    for c in timed:
        assert c["next_local"] and c["next_local"] in c["label"]
        assert c["state"] == "waiting for window"
    if board["window"] is not None:  # depends on the hour the test runs at
        assert board["window"]["closed_for"] >= 1
        assert board["window"]["next_opening_local"] in board["window"]["text"]

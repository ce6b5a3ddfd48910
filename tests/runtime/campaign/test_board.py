"""Where each contact stands, in an operator's words, from stored rows and the windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console

from dsl.ir import CallingWindow
from runtime.campaign.board import Phase, StoredContact, build_board
from runtime.cli.board_view import board_renderable

WEEKDAYS = (CallingWindow((1, 2, 3, 4, 5), "09:00", "18:00"),)
SATURDAY_EVENING_NY = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)  # 18:00 EST, Sat 5 Dec
NY, PARIS, SYDNEY = "America/New_York", "Europe/Paris", "Australia/Sydney"


def contact(cid, tz, status, attempts=0, next_at=None, attempt_status=None, outcome=None):
    return StoredContact(cid, cid.title(), tz, status, outcome, attempts, next_at, attempt_status)


def test_each_stored_status_reads_as_the_operators_phase() -> None:
    monday_10_ny = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    stored = [
        contact("ann", NY, "pending"),
        contact("bob", NY, "scheduled", 1, monday_10_ny),
        contact("cy", NY, "dialing", 1, attempt_status="dialing"),
        contact("di", NY, "dialing", 1, attempt_status="answered"),
        contact("ed", NY, "final", 2, outcome="confirmed"),
        contact("flo", NY, "stopped", 1),
    ]
    board = build_board(stored, WEEKDAYS, (), SATURDAY_EVENING_NY)
    phases = {c.contact_id: c.phase for c in board.contacts}
    assert phases == {
        "ann": Phase.WAITING_WINDOW,
        "bob": Phase.SCHEDULED,
        "cy": Phase.DIALLING,
        "di": Phase.IN_CALL,
        "ed": Phase.FINAL,
        "flo": Phase.STOPPED,
    }
    ann = next(c for c in board.contacts if c.contact_id == "ann")
    assert ann.label == "waiting for window until Mon 7 Dec 09:00 EST"
    assert board.counts[Phase.WAITING_WINDOW] == 1 and board.counts[Phase.QUEUED] == 0


def test_a_contact_whose_window_is_open_waits_in_the_queue() -> None:
    sunday_night_utc = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # Mon 10:00 in Sydney
    board = build_board([contact("syd", SYDNEY, "pending")], WEEKDAYS, (), sunday_night_utc)
    assert board.contacts[0].phase is Phase.QUEUED
    assert board.window is None


def test_a_retry_due_in_a_closed_window_shows_the_opening_it_will_really_use() -> None:
    due_saturday = SATURDAY_EVENING_NY + timedelta(hours=1)
    board = build_board(
        [contact("bob", NY, "scheduled", 1, due_saturday)], WEEKDAYS, (), SATURDAY_EVENING_NY
    )
    assert board.contacts[0].label == "scheduled Mon 7 Dec 09:00 EST"


def test_contacts_are_sorted_by_instant_and_the_closed_window_is_explained() -> None:
    stored = [contact("ny", NY, "pending"), contact("paris", PARIS, "pending")]
    board = build_board(stored, WEEKDAYS, ("2026-12-07",), SATURDAY_EVENING_NY)
    # 7 Dec is closed (a holiday): Paris opens Tue 09:00 CET, before New York's 09:00 EST.
    assert [c.contact_id for c in board.contacts] == ["paris", "ny"]
    assert board.contacts[0].label == "waiting for window until Tue 8 Dec 09:00 CET"
    assert board.window is not None
    assert (board.window.closed_for, board.window.waiting) == (2, 2)
    assert board.window.next_opening == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert "Tue 8 Dec 09:00 CET (Europe/Paris)" in board.window.text
    assert not board.settled


def test_the_status_view_fits_80_columns() -> None:
    stored = [contact(f"c{i:03d}-maximiliana", NY, "pending") for i in range(30)]
    board = build_board(stored, WEEKDAYS, (), SATURDAY_EVENING_NY)
    console = Console(width=80, record=True)
    console.print(board_renderable("november_reminders", board, state="running"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "waiting for window until Mon 7 Dec 09:00 EST" in text
    assert "... and 10 more" in text

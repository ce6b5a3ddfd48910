"""``voxflow demo``'s window choice and its tables, without the stack (the run itself is in
tests/cli/test_campaign_commands.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console

from dsl import load_flow
from runtime.campaign.windows import is_open
from runtime.db.contacts import ContactRow
from runtime.dev.demo import DEMO_FLOW, demo_window, read_contacts

SATURDAY_NIGHT_UTC = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
SUNDAY_MORNING_UTC = datetime(2026, 12, 6, 3, 30, tzinfo=UTC)


def _demo_zones() -> list[str]:
    return [c.timezone for c in read_contacts(load_flow(DEMO_FLOW), DEMO_FLOW).contacts]


def test_demo_window_on_a_weekend_is_open_now_for_most_contacts_and_closed_for_some() -> None:
    zones = _demo_zones()
    for now in (SATURDAY_NIGHT_UTC, SUNDAY_MORNING_UTC):
        chosen = demo_window(now, zones)
        assert chosen.window.days == (1, 2, 3, 4, 5, 6, 7)
        inside = [z for z in zones if is_open(now, z, (chosen.window,))]
        assert len(inside) == chosen.open_now
        assert chosen.open_now > len(zones) / 2
        assert chosen.open_now < len(zones)  # the others show what a window does


def test_demo_window_is_the_best_of_every_start_hour() -> None:
    zones = _demo_zones()
    chosen = demo_window(SUNDAY_MORNING_UTC, zones)
    for start in range(24):
        for hours in (10,):
            end = (start + hours) % 24
            from dsl.ir import CallingWindow

            other = CallingWindow((1, 2, 3, 4, 5, 6, 7), f"{start:02d}:00", f"{end:02d}:00")
            count = sum(is_open(SUNDAY_MORNING_UTC, z, (other,)) for z in zones)
            assert count <= chosen.open_now


def test_demo_window_for_one_zone_is_open_for_everyone_at_any_hour() -> None:
    for hour in range(0, 24, 5):
        now = SUNDAY_MORNING_UTC.replace(hour=hour)
        assert demo_window(now, ["Asia/Kolkata"] * 3).open_now == 3


def _row(i: int, tz: str, status: str, next_at: datetime | None) -> ContactRow:
    return ContactRow(
        "demo", f"c{i:03d}", "+12125550100", tz, "Maximiliana", {}, {}, i, status,
        "wrong_person" if status == "final" else None, 2, next_at,
    )  # fmt: skip


def test_contacts_table_fits_80_columns_one_line_per_contact_sorted_by_instant() -> None:
    from runtime.dev.demo import contacts_table

    paris_9 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    ny_8 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 08:00 in New York, later instant
    rows = [
        _row(1, "America/Los_Angeles", "scheduled", ny_8 + timedelta(hours=1)),
        _row(2, "America/New_York", "scheduled", ny_8),
        _row(3, "Europe/Paris", "scheduled", paris_9),
        _row(4, "Australia/Sydney", "final", None),
    ]
    console = Console(width=80, record=True)
    console.print(contacts_table(rows, "campaign demo-20261206-033000"))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    body = [line for line in lines if line.startswith("c0")]
    assert [line[:4] for line in body] == ["c003", "c002", "c001", "c004"]
    assert "Mon 7 Dec 09:00 CET" in body[0]
    assert "Mon 7 Dec 08:00 EST" in body[1]

"""Times shown in the contact's local time with its zone, sorted by instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from runtime.campaign.localtime import by_instant, format_local, format_local_long, in_zone


def test_format_local_shows_the_contacts_wall_time_and_zone() -> None:
    at = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    assert format_local(at, "America/New_York") == "Mon 7 Dec 09:00 EST"
    assert format_local(at, "Asia/Kolkata") == "Mon 7 Dec 19:30 IST"
    assert format_local_long(at, "Europe/Paris") == "2026-12-07 15:00 +01:00 Europe/Paris"


def test_unknown_zone_falls_back_to_utc_rather_than_failing() -> None:
    at = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    assert in_zone(at, "Mars/Olympus").utcoffset() == timedelta(0)


def test_by_instant_orders_mixed_offsets_by_the_moment_not_the_text() -> None:
    plus_two = timezone(timedelta(hours=2))
    early = datetime(2026, 12, 7, 10, 0, tzinfo=plus_two)  # 08:00 UTC
    late = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    items = [("late", late), ("none", None), ("early", early)]
    assert [n for n, _ in by_instant(items, lambda i: i[1])] == ["early", "late", "none"]
    assert sorted(i[1].isoformat() for i in items if i[1])[0] == late.isoformat()

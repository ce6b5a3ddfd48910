from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dsl.ir import CallingWindow, Holidays
from runtime.campaign.windows import closed_dates, is_open, next_open, window_end

WEEKDAYS = (CallingWindow(days=(1, 2, 3, 4, 5), start="09:00", end="18:00"),)
NY = "America/New_York"


def test_open_instant_is_returned_unchanged() -> None:
    at = datetime(2026, 10, 29, 14, 0, tzinfo=UTC)  # Thu 10:00 EDT
    assert next_open(at, NY, WEEKDAYS) == at
    assert is_open(at, NY, WEEKDAYS)


def test_friday_evening_waits_for_monday_at_local_nine_across_fall_back() -> None:
    friday_evening = datetime(2026, 10, 30, 23, 0, tzinfo=UTC)  # 19:00 EDT
    opens = next_open(friday_evening, NY, WEEKDAYS)
    assert opens == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 EST (UTC-5)
    assert opens.astimezone(ZoneInfo(NY)).hour == 9


def test_spring_forward_keeps_wall_clock_nine() -> None:
    saturday = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
    assert next_open(saturday, NY, WEEKDAYS) == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)


def test_end_is_exclusive_and_window_end_reports_close() -> None:
    six_pm = datetime(2026, 11, 3, 18, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert not is_open(six_pm, "Europe/Paris", WEEKDAYS)
    noon = datetime(2026, 11, 3, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert window_end(noon, "Europe/Paris", WEEKDAYS) == six_pm.astimezone(UTC)
    assert window_end(six_pm, "Europe/Paris", WEEKDAYS) is None


def test_half_hour_zone_and_closed_date() -> None:
    monday = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 07:30 IST
    assert next_open(monday, "Asia/Kolkata", WEEKDAYS, {"2026-11-02"}) == datetime(
        2026, 11, 3, 3, 30, tzinfo=UTC
    )


def test_window_spanning_midnight_is_open_after_midnight() -> None:
    night = (CallingWindow(days=(5,), start="22:00", end="02:00"),)
    saturday_1am = datetime(2026, 11, 7, 1, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert is_open(saturday_1am, "Europe/Paris", night)


def test_never_open_gives_none_and_naive_is_refused() -> None:
    assert next_open(datetime(2026, 1, 1, tzinfo=UTC), NY, WEEKDAYS, {"x"} | set()) is not None
    assert next_open(datetime(2026, 1, 1, tzinfo=UTC), NY, ()) is None
    with pytest.raises(ValueError):
        next_open(datetime(2026, 1, 1), NY, WEEKDAYS)


def test_closed_dates_resolve_country_holidays_and_reject_unknown() -> None:
    dates = closed_dates(Holidays(countries=("US",), dates=("2026-12-24",)), [2026])
    assert {"2026-11-26", "2026-12-25", "2026-12-24"} <= set(dates)
    with pytest.raises(ValueError, match="ZZ"):
        closed_dates(Holidays(countries=("ZZ",)), [2026])


def test_window_ending_at_24_00_closes_at_local_midnight() -> None:
    all_day = (CallingWindow(days=(1, 2, 3, 4, 5), start="00:00", end="24:00"),)
    paris = ZoneInfo("Europe/Paris")
    friday_late = datetime(2026, 11, 6, 23, 59, tzinfo=paris)
    assert is_open(friday_late, "Europe/Paris", all_day)
    assert window_end(friday_late, "Europe/Paris", all_day) == datetime(
        2026, 11, 7, 0, 0, tzinfo=paris
    ).astimezone(UTC)
    saturday = datetime(2026, 11, 7, 0, 0, tzinfo=paris)
    assert next_open(saturday, "Europe/Paris", all_day) == datetime(
        2026, 11, 9, 0, 0, tzinfo=paris
    ).astimezone(UTC)

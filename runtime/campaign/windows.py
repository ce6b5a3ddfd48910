"""Calling windows in the contact's local time: is a moment open, and when does it next open.

Pure and deterministic (no clock, no I/O) so the workflows can use it with ``workflow.now()``
and the dial activity with the wall clock. Local times are resolved with ``zoneinfo``, so a
window written as ``09:00-18:00`` stays 09:00-18:00 on the wall across a DST change; a window
edge that falls in a spring-forward gap moves forward with the clock, and one in a fall-back
overlap means its first occurrence.

Holidays are resolved to explicit ``YYYY-MM-DD`` dates before a campaign starts
(:func:`closed_dates`), because the ``holidays`` package has no place inside a workflow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dsl.ir import CallingWindow, Holidays

HORIZON_DAYS = 400
"""How far ahead :func:`next_open` looks before deciding a window never opens."""


def _clock(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # Round-trip through UTC so a wall time inside a DST gap becomes a real instant.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _intervals(
    day: date, zone: ZoneInfo, windows: Sequence[CallingWindow], closed: Collection[str]
) -> list[tuple[datetime, datetime]]:
    """The open intervals (UTC) of windows that start on local ``day``."""
    if day.isoformat() in closed:
        return []
    out = []
    for window in windows:
        if day.isoweekday() not in window.days:
            continue
        start = _clock(window.start)
        if window.end == "24:00":  # midnight at the end of the day
            end, end_day = time(0), day + timedelta(days=1)
        else:
            end = _clock(window.end)
            end_day = day if end > start else day + timedelta(days=1)
        out.append((_at(day, start, zone), _at(end_day, end, zone)))
    return sorted(out)


def is_open(
    at: datetime, tz: str, windows: Sequence[CallingWindow], closed: Collection[str] = ()
) -> bool:
    """Whether the aware instant ``at`` lies inside a window in time zone ``tz``."""
    return next_open(at, tz, windows, closed) == at.astimezone(UTC)


def next_open(
    after: datetime, tz: str, windows: Sequence[CallingWindow], closed: Collection[str] = ()
) -> datetime | None:
    """The first instant at or after ``after`` inside a window, in UTC; None if none within
    :data:`HORIZON_DAYS`.

    Args:
        after: an aware datetime.
        tz: the contact's IANA time zone.
        windows: the campaign's windows (local days and ``HH:MM`` bounds, end exclusive).
        closed: local dates (``YYYY-MM-DD``) on which no window opens (holidays).
    """
    if after.tzinfo is None:
        raise ValueError("next_open needs an aware datetime")
    zone = ZoneInfo(tz)
    after = after.astimezone(UTC)
    local_day = after.astimezone(zone).date()
    # Start one day back: a window spanning midnight may still be open.
    for offset in range(-1, HORIZON_DAYS):
        for start, end in _intervals(local_day + timedelta(days=offset), zone, windows, closed):
            if end > after:
                return max(start, after)
    return None


def window_end(
    at: datetime, tz: str, windows: Sequence[CallingWindow], closed: Collection[str] = ()
) -> datetime | None:
    """When the window open at ``at`` closes (UTC), or None when ``at`` is outside every window."""
    zone = ZoneInfo(tz)
    at = at.astimezone(UTC)
    local_day = at.astimezone(zone).date()
    ends = [
        end
        for offset in (-1, 0)
        for start, end in _intervals(local_day + timedelta(days=offset), zone, windows, closed)
        if start <= at < end
    ]
    return max(ends) if ends else None


def closed_dates(holidays: Holidays, years: Iterable[int]) -> tuple[str, ...]:
    """Explicit dates plus the public holidays of ``holidays.countries`` over ``years``.

    Raises:
        ValueError: a country code the ``holidays`` package does not know.
    """
    import holidays as holidays_lib  # outside workflows only

    dates = set(holidays.dates)
    years = list(years)
    for country in holidays.countries:
        try:
            calendar = holidays_lib.country_holidays(country, years=years)
        except NotImplementedError as exc:
            raise ValueError(f"unknown holiday country {country!r}") from exc
        dates.update(day.isoformat() for day in calendar)
    return tuple(sorted(dates))

"""Times as a contact lives them: in the contact's own time zone, with that zone shown.

Every place that shows an attempt time to a person (CLI tables, the API's ``*_local``
fields, the studio) formats it here, so a callback at 10:00 in Paris never reads as a time in
the past for an operator in New York. Sorting is by the instant, never by the text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T")


def in_zone(at: datetime, tz: str) -> datetime:
    """``at`` (aware) in the IANA zone ``tz``; UTC when ``tz`` is not a known zone."""
    try:
        return at.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return at.astimezone(ZoneInfo("UTC"))


def format_local(at: datetime, tz: str) -> str:
    """Short local wall time with the zone's abbreviation: ``Mon 7 Dec 09:00 EST``."""
    local = in_zone(at, tz)
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


def format_local_long(at: datetime, tz: str) -> str:
    """Local wall time with offset and zone name: ``2026-12-07 09:00 -05:00 America/New_York``."""
    local = in_zone(at, tz)
    offset = local.isoformat()[-6:]
    return f"{local:%Y-%m-%d %H:%M} {offset} {tz}"


def zone_city(tz: str) -> str:
    """The last part of an IANA name, readable in a narrow column: ``New_York``."""
    return tz.rsplit("/", 1)[-1]


def by_instant(items: Iterable[T], at: Callable[[T], datetime | None]) -> list[T]:
    """``items`` sorted by the instant ``at`` gives (those without one last, stable)."""
    listed = list(items)
    timed = [i for i in listed if at(i) is not None]
    untimed = [i for i in listed if at(i) is None]
    return sorted(timed, key=lambda i: at(i).timestamp()) + untimed  # type: ignore[union-attr]

"""Slot values read from caller text by rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runtime.providers.local.slots import read_datetime, read_slot

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
TZ = "America/New_York"


@pytest.mark.parametrize(
    ("type_name", "text", "value"),
    [
        ("bool", "yes please", True),
        ("bool", "yeah sure", True),
        ("bool", "no I can't", False),
        ("bool", "maybe", None),
        ("int", "twenty five", 25),
        ("int", "I have 3 kids", 3),
        ("float", "about 2.5", 2.5),
        ("digits", "my pin is four five six seven", "4567"),
        ("digits", "555-12 34", "5551234"),
        ("digits", "no idea", None),
        ("money", "I can pay 12.50 dollars", "12.50"),
        ("money", "two hundred euros", "200.00"),
        ("money", "forty", "40.00"),
        ("email", "it's ann at example dot com", "ann@example.com"),
        ("email", "ann.lee@example.org", "ann.lee@example.org"),
        ("email", "no email", None),
        ("date", "next tuesday", "2026-11-24"),
        ("time", "at 3pm", "15:00"),
        ("datetime", "tomorrow at 3pm", "2026-11-24T15:00:00-05:00"),
        ("enum[card|cash]", "I'll pay by card", "card"),
        ("enum[card|cash]", "card or cash, whatever", None),
        ("str", "  Main Street  ", "Main Street"),
    ],
)
def test_read_slot(type_name, text, value):
    assert read_slot(type_name, text, tz=TZ, now=NOW) == value


def test_datetime_is_read_in_the_contacts_zone_and_prefers_the_future():
    at = read_datetime("monday at 10 am", tz="Europe/Paris", now=NOW)
    assert at is not None
    assert at.isoformat() == "2026-11-30T10:00:00+01:00"


def test_iso_without_offset_is_local_time():
    at = read_datetime("2026-11-25T09:30", tz=TZ, now=NOW)
    assert at.isoformat() == "2026-11-25T09:30:00-05:00"


def test_text_without_a_time_gives_none():
    assert read_datetime("whatever suits you", tz=TZ, now=NOW) is None

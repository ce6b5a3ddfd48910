from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dsl.templates import TemplateRenderError, render
from dsl.voice import (
    VoiceSettings,
    say_day,
    say_digits,
    say_duration,
    say_money,
    say_phone,
    say_time,
    say_when,
)

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
NY = VoiceSettings(tz="America/New_York", now=NOW)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (date(2026, 11, 24), "Tuesday, November 24th"),
        (date(2026, 12, 1), "Tuesday, December 1st"),
        (date(2026, 11, 22), "Sunday, November 22nd"),
        (date(2027, 1, 3), "Sunday, January 3rd, 2027"),
        ("2026-11-24", "Tuesday, November 24th"),
        # 02:00 UTC on the 25th is still the 24th in New York.
        (datetime(2026, 11, 25, 2, 0, tzinfo=UTC), "Tuesday, November 24th"),
    ],
)
def test_day_says_the_date_naturally_in_the_contact_zone(value, said):
    assert say_day(value, NY) == said


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (time(15, 0), "3 PM"),
        (time(9, 30), "9:30 AM"),
        (time(0, 5), "12:05 AM"),
        (time(12, 0), "12 PM"),
        ("09:30", "9:30 AM"),
        (datetime(2026, 11, 24, 20, 0, tzinfo=UTC), "3 PM"),
        ("2026-11-24T15:00", "3 PM"),  # naive: read in the contact's zone
    ],
)
def test_time_says_hours_and_minutes_with_am_pm(value, said):
    assert say_time(value, NY) == said


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (datetime(2026, 11, 23, 20, 0, tzinfo=UTC), "today at 3 PM"),
        (datetime(2026, 11, 24, 14, 30, tzinfo=UTC), "tomorrow at 9:30 AM"),
        (datetime(2026, 11, 22, 20, 0, tzinfo=UTC), "yesterday at 3 PM"),
        (datetime(2026, 11, 27, 20, 0, tzinfo=UTC), "Friday at 3 PM"),
        (datetime(2026, 12, 8, 20, 0, tzinfo=UTC), "Tuesday, December 8th at 3 PM"),
    ],
)
def test_when_is_relative_to_now_when_close_else_day_and_time(value, said):
    assert say_when(value, NY) == said


def test_digits_are_spelled_one_by_one():
    assert say_digits("4172") == "4 1 7 2"
    assert say_digits(905) == "9 0 5"
    assert say_digits("ab-12") == "A B 1 2"


def test_phone_numbers_are_said_in_national_groups():
    assert say_phone("+14155552671") == "4 1 5, 5 5 5, 2 6 7 1"
    assert say_phone("+33142685300") == "0 1, 4 2, 6 8, 5 3, 0 0"


@pytest.mark.parametrize(
    ("value", "currency", "said"),
    [
        (Decimal("12.50"), "USD", "12 dollars and 50 cents"),
        (1, "USD", "1 dollar"),
        (0.5, "USD", "50 cents"),
        (Decimal("1234.01"), "USD", "1,234 dollars and 1 cent"),
        (0, "USD", "0 dollars"),
        ("-3", "EUR", "minus 3 euro"),  # num2words uses the official EU plural
    ],
)
def test_money_says_units_and_cents(value, currency, said):
    assert say_money(value, currency) == said


def test_money_rejects_unknown_currencies():
    with pytest.raises(ValueError, match="currency"):
        say_money(1, "XYZ")


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(minutes=90), "1 hour and 30 minutes"),
        ("1d2h3s", "1 day, 2 hours and 3 seconds"),
        (timedelta(0), "0 seconds"),
    ],
)
def test_duration_says_units_in_words(value, said):
    assert say_duration(value) == said


def test_filters_read_the_zone_and_now_given_to_render():
    src = "{{ at | day }}, {{ at | time }}, {{ at | when }}"
    values = {"at": datetime(2026, 11, 24, 14, 30, tzinfo=UTC), "now": NOW}
    assert render(src, values, tz="Europe/Paris") == (
        "Tuesday, November 24th, 3:30 PM, tomorrow at 3:30 PM"
    )
    assert render(src, values, tz="Asia/Tokyo") == (
        "Tuesday, November 24th, 11:30 PM, today at 11:30 PM"
    )


def test_other_locales_fall_back_to_english():
    out = render("{{ d | day }}", {"d": date(2026, 11, 24), "now": NOW}, locale="fr-FR")
    assert out == "Tuesday, November 24th"


@pytest.mark.parametrize("filt", ["day", "time", "when", "money", "duration", "digits", "phone"])
def test_a_null_value_is_a_clear_render_error(filt):
    with pytest.raises(TemplateRenderError, match="null|nothing|needs"):
        render("{{ v | " + filt + " }}", {"v": None, "now": NOW})

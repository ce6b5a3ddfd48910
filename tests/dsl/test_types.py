from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dsl.types import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DIGITS,
    DURATION,
    EMAIL,
    FLOAT,
    INT,
    MONEY,
    PHONE,
    STR,
    TIME,
    TZ,
    EnumType,
    ListType,
    RecordType,
    Scope,
    assignable,
    coerce,
    parse_type,
)


@pytest.mark.parametrize(
    "text",
    ["str", "int", "float", "bool", "date", "time", "datetime", "duration", "tz", "phone"]
    + ["email", "money", "digits", "list[int]", "list[list[str]]", "enum[a|b|c]"],
)
def test_parse_type_round_trips_through_its_spelling(text):
    t = parse_type(text)
    assert str(t) == text
    assert parse_type(str(t)) == t


def test_parse_type_builds_structured_types():
    assert parse_type("list[phone]") == ListType(PHONE)
    assert parse_type("enum[yes | no]") == EnumType(("yes", "no"))
    assert parse_type(" Int ") == INT


@pytest.mark.parametrize("text", ["integer", "strr", "list[nope]", "enum[]", "enum[a|a]", ""])
def test_parse_type_rejects_unknown_names_with_a_message(text):
    with pytest.raises(ValueError, match="type"):
        parse_type(text)


def test_parse_type_suggests_the_closest_name():
    with pytest.raises(ValueError, match="did you mean 'datetime'"):
        parse_type("datetme")


@pytest.mark.parametrize(
    ("raw", "t", "expected"),
    [
        ("42", INT, 42),
        ("1,000", INT, 1000),
        ("3.0", INT, 3),
        (" 2.5 ", FLOAT, 2.5),
        ("yes", BOOL, True),
        ("0", BOOL, False),
        ("2026-11-22", DATE, date(2026, 11, 22)),
        ("9:30", TIME, time(9, 30)),
        ("15m", DURATION, timedelta(minutes=15)),
        ("1h30m", DURATION, timedelta(minutes=90)),
        (90, DURATION, timedelta(seconds=90)),
        ("Europe/Paris", TZ, "Europe/Paris"),
        ("+33 1 42 68 53 00", PHONE, "+33142685300"),
        ("Ann@Example.COM", EMAIL, "Ann@example.com"),
        ("$1,234.50", MONEY, Decimal("1234.50")),
        ("12,50 €", MONEY, Decimal("12.50")),
        ("1,5", FLOAT, 1.5),
        ("1,500", FLOAT, 1500.0),
        (12.5, MONEY, Decimal("12.5")),
        ("41-72", DIGITS, "4172"),
        ("a, b", ListType(STR), ["a", "b"]),
        ("[1, 2]", ListType(INT), [1, 2]),
        ("YES", EnumType(("yes", "no")), "yes"),
        ("", INT, None),
        (None, STR, None),
        ("", STR, ""),
    ],
)
def test_coerce_reads_raw_values_as_the_python_value_of_the_type(raw, t, expected):
    value = coerce(raw, t)
    assert value == expected
    assert type(value) is type(expected)


def test_coerce_reads_naive_datetimes_in_the_contact_zone():
    value = coerce("2026-11-22T09:30", DATETIME, tz="America/New_York")
    assert value == datetime(2026, 11, 22, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    assert value.utcoffset() == timedelta(hours=-5)


def test_coerce_converts_aware_datetimes_to_the_contact_zone():
    value = coerce("2026-11-22T14:00:00+00:00", DATETIME, tz="Europe/Paris")
    assert (value.hour, str(value.tzinfo)) == (15, "Europe/Paris")


def test_coerce_reads_national_phone_numbers_in_the_given_region():
    assert coerce("(415) 555-2671", PHONE, region="US") == "+14155552671"


def test_coerce_reads_records_field_by_field():
    t = RecordType((("age", INT), ("vip", BOOL)))
    assert coerce({"age": "30", "vip": "no"}, t) == {"age": 30, "vip": False}


@pytest.mark.parametrize(
    ("raw", "t"),
    [
        ("forty", INT),
        (True, INT),
        ("2.5", INT),
        ("maybe", BOOL),
        ("2026-13-01", DATE),
        ("25:00", TIME),
        ("15min", DURATION),
        ("Mars/Olympus", TZ),
        ("555", PHONE),
        ("not-an-email", EMAIL),
        ("twelve", MONEY),
        ("12a", DIGITS),
        ("c", EnumType(("a", "b"))),
        ("yesterday", DATETIME),
        (3, RecordType((("a", INT),))),
    ],
)
def test_coerce_raises_value_error_naming_the_type(raw, t):
    with pytest.raises(ValueError, match="cannot read|invalid duration"):
        coerce(raw, t)


def test_assignable_widens_numbers_and_text_but_not_across_families():
    assert assignable(INT, FLOAT)
    assert assignable(PHONE, STR)
    assert assignable(EnumType(("a",)), EnumType(("a", "b")))
    assert not assignable(STR, INT)
    assert not assignable(FLOAT, INT)
    assert assignable(ANY, DATE) and assignable(DATE, ANY)


SCOPE = Scope(
    {
        "contact": RecordType(
            (("first_name", STR), ("address", RecordType((("city", STR), ("zip", DIGITS)))))
        ),
        "vars.tries": INT,
        "lookup": ANY,
    }
)


def test_scope_looks_up_record_members_and_dotted_keys():
    assert SCOPE.lookup("contact.first_name") == STR
    assert SCOPE.lookup("contact.address.zip") == DIGITS
    assert SCOPE.lookup("vars.tries") == INT
    assert SCOPE.lookup("vars") == RecordType((("tries", INT),))
    assert SCOPE.lookup("lookup.anything.deeper") == ANY


def test_scope_returns_none_for_unknown_names():
    assert SCOPE.lookup("contact.last_name") is None
    assert SCOPE.lookup("contact.first_name.length") is None
    assert SCOPE.lookup("campaign") is None


def test_scope_names_expand_records():
    assert {"contact.address.city", "vars", "vars.tries", "lookup"} <= set(SCOPE.names())


def test_scope_suggests_the_closest_name():
    assert SCOPE.suggest("contact.firstname") == "contact.first_name"
    assert SCOPE.suggest("contact.adress.city") == "contact.address.city"
    assert SCOPE.suggest("zzzzzz") is None


def test_scope_child_adds_names_without_changing_the_parent():
    child = SCOPE.child(value=INT)
    assert child.lookup("value") == INT
    assert SCOPE.lookup("value") is None


def test_coercing_a_tz_database_folder_name_is_a_value_error():
    import pytest as _pytest

    from dsl.types import coerce as _coerce
    from dsl.types import parse_type as _parse_type

    with _pytest.raises(ValueError):
        _coerce("America", _parse_type("tz"))

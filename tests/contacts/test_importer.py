"""Contacts import: every row accounted for, E.164, time zones, duplicates, typed columns."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from dsl.ir import Field
from runtime.contacts import (
    ContactsFileError,
    ImportOptions,
    RejectCode,
    WarningCode,
    import_contacts,
)

REPO = Path(__file__).resolve().parents[2]


def _csv(tmp_path: Path, text: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _codes(report, row: int) -> list[str]:
    (rej,) = [r for r in report.rejected if r.row == row]
    return [i.code for i in rej.reasons]


def test_numbers_become_e164_with_the_default_region(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,phone\na,(212) 726-0181\nb,+44 20 7946 0958\nc,2125016613\n")
    report = import_contacts(path)
    assert [c.phone for c in report.contacts] == ["+12127260181", "+442079460958", "+12125016613"]
    assert [c.row for c in report.contacts] == [2, 3, 4]


def test_every_row_is_accounted_for_with_reasons_and_row_numbers(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "id,phone,timezone\n"
        "a,+12127260181,\n"  # 2 ok
        "b,not a number,\n"  # 3 invalid
        "c,,\n"  # 4 missing phone
        ",,\n"  # 5 blank row
        "d,+12127260181,\n"  # 6 duplicate of row 2
        "a,+12125016613,\n"  # 7 duplicate id of row 2
        "e,+12125016614,Mars/Olympus\n"  # 8 unknown zone
        "f,+1212555,\n",  # 9 too short: invalid
    )
    report = import_contacts(path)
    assert report.rows == 8
    assert report.accounted_for == report.rows
    assert [c.id for c in report.contacts] == ["a"]
    assert report.blank_rows == (5,)
    assert _codes(report, 3) == [RejectCode.INVALID_PHONE]
    assert _codes(report, 4) == [RejectCode.MISSING_PHONE]
    assert _codes(report, 6) == [RejectCode.DUPLICATE_PHONE]
    assert _codes(report, 7) == [RejectCode.DUPLICATE_ID]
    assert _codes(report, 8) == [RejectCode.UNKNOWN_TIMEZONE]
    assert _codes(report, 9) == [RejectCode.INVALID_PHONE]
    (dup,) = [r for r in report.rejected if r.row == 6]
    assert "row 2" in dup.reasons[0].message and dup.reasons[0].column == "phone"


def test_duplicate_written_differently_is_still_a_duplicate(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,phone\na,+1 212 726 0181\nb,(212) 726-0181\n")
    report = import_contacts(path)
    assert len(report.contacts) == 1
    assert _codes(report, 3) == [RejectCode.DUPLICATE_PHONE]


def test_time_zone_comes_from_the_column_else_from_the_number(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "id,phone,timezone\nny,+12127260181,Europe/Paris\nla,+13105550123,\nsyd,+61291234567,\n",
    )
    report = import_contacts(path)
    got = {c.id: (c.timezone, c.timezone_source) for c in report.contacts}
    assert got == {
        "ny": ("Europe/Paris", "column"),
        "la": ("America/Los_Angeles", "number"),
        "syd": ("Australia/Sydney", "number"),
    }


def test_ambiguous_zone_is_picked_deterministically_and_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,phone\nfree,+18005550100\nru,+79161234567\n")
    opts = ImportOptions(default_timezone="America/Chicago")
    report = import_contacts(path, opts)
    zones = {c.id: c.timezone for c in report.contacts}
    # Toll-free spans the flow's default zone: that one; otherwise the first alphabetically.
    assert zones == {"free": "America/Chicago", "ru": "Asia/Almaty"}
    assert [(row, w.code) for row, w in report.warnings] == [
        (2, WarningCode.TIMEZONE_AMBIGUOUS),
        (3, WarningCode.TIMEZONE_AMBIGUOUS),
    ]
    strict = import_contacts(path, ImportOptions(ambiguous_timezone="reject"))
    assert strict.contacts == ()
    assert _codes(strict, 2) == [RejectCode.AMBIGUOUS_TIMEZONE]


def test_context_columns_are_coerced_to_their_declared_types(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "id,phone,timezone,visits,appointment_at\n"
        "a,+12127260181,America/New_York,3,2026-11-29T15:00\n"
        "b,+12125016613,America/New_York,three,2026-11-29T15:00\n"
        "c,+12125016614,America/New_York,2,\n",
    )
    context = (
        Field("visits", "int"),
        Field("appointment_at", "datetime"),
    )
    report = import_contacts(path, ImportOptions(context=context))
    (a,) = report.contacts
    assert a.fields == {"visits": 3, "appointment_at": "2026-11-29T15:00:00-05:00"}
    assert _codes(report, 3) == [RejectCode.BAD_VALUE]
    assert _codes(report, 4) == [RejectCode.MISSING_VALUE]


def test_missing_required_columns_are_all_named_at_once(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,name\na,Ann\n")
    context = (Field("appointment_at", "datetime"), Field("clinic", "str"))
    with pytest.raises(ContactsFileError) as exc:
        import_contacts(path, ImportOptions(context=context))
    for column in ("phone", "appointment_at", "clinic"):
        assert column in str(exc.value)


def test_semicolon_csv_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("\ufeffid;phone\na;+33142685300\n".encode())
    (c,) = import_contacts(path).contacts
    assert (c.id, c.phone, c.timezone) == ("a", "+33142685300", "Europe/Paris")


def test_non_utf8_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,phone\na,\xff\xfe+33142685300\n")
    with pytest.raises(ContactsFileError, match="UTF-8"):
        import_contacts(path)


def test_xlsx_numbers_and_dates_are_read_like_text(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "phone", "timezone", "appointment_at"])
    sheet.append(["a", 12127260181, "America/New_York", datetime(2026, 11, 29, 15, 0)])
    sheet.append([None, None, None, None])
    sheet.append(["b", "+12125016613", None, datetime(2026, 12, 1, 9, 30)])
    path = tmp_path / "c.xlsx"
    book.save(path)
    report = import_contacts(path, ImportOptions(context=(Field("appointment_at", "datetime"),)))
    assert [(c.id, c.phone, c.row) for c in report.contacts] == [
        ("a", "+12127260181", 2),
        ("b", "+12125016613", 4),
    ]
    assert report.blank_rows == (3,)
    assert report.contacts[0].fields["appointment_at"] == "2026-11-29T15:00:00-05:00"


def test_corrupt_xlsx_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ContactsFileError, match="xlsx"):
        import_contacts(path)


def test_the_example_flow_contacts_import_cleanly() -> None:
    from dsl.compiler import load_flow

    flow = load_flow(REPO / "flows" / "reminder.flow")
    assert flow.campaign is not None
    opts = ImportOptions.for_source(
        flow.campaign.contacts, default_timezone=flow.agent.timezone, context=flow.agent.context
    )
    report = import_contacts(REPO / "flows" / "contacts" / "reminder.csv", opts)
    assert report.rejected == ()
    assert report.accounted_for == report.rows == len(report.contacts)
    assert len({c.timezone for c in report.contacts}) >= 3


def test_a_time_zone_naming_a_tz_database_folder_is_rejected_not_a_crash(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,phone,timezone\na,+12127260181,America\nb,+12125016613,\n")
    report = import_contacts(path)
    assert [c.id for c in report.contacts] == ["b"]
    assert _codes(report, 2) == [RejectCode.UNKNOWN_TIMEZONE]


def test_numbers_the_platform_does_not_dial_are_rejected_with_the_policy(tmp_path: Path) -> None:
    from runtime.destinations import DestinationPolicy

    path = _csv(tmp_path, "id,phone\na,+12127260181\nb,+19005550123\nc,+881612345678\n")
    options = ImportOptions(destinations=DestinationPolicy())
    report = import_contacts(path, options)
    assert [c.phone for c in report.contacts] == ["+12127260181"]
    assert _codes(report, 3) == _codes(report, 4) == [RejectCode.DESTINATION_REFUSED]
    assert len(import_contacts(path).contacts) == 3  # no policy given: the dial time decides


def test_a_nul_in_a_cell_makes_the_file_a_file_error_naming_row_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,phone\na,+12127260181\nb\x00,+12125016613\n")
    with pytest.raises(ContactsFileError, match="row 3, column 1"):
        import_contacts(path)

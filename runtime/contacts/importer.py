"""Contacts import: rows of a CSV/XLSX file to validated contacts, and a report of the rest.

Every row of the file ends up in exactly one place of the ``ImportReport``: ``contacts``,
``rejected`` (with row number and every reason) or ``blank_rows``. Nothing is dropped
silently, so ``report.accounted_for`` always equals the file's row count.

Per row:
- the phone number is parsed with ``phonenumbers`` (numbers without ``+`` in the source's
  ``default_region``) and stored as E.164; invalid numbers are rejected;
- the time zone is the time-zone column when it has a value (an unknown IANA name is
  rejected), otherwise it is derived from the number (``phonenumbers.timezone``). When the
  number maps to several zones (toll-free, mobile ranges of large countries) the pick is
  deterministic: the flow's default zone if it is one of them, else the first candidate in
  alphabetical order; the report carries a ``timezone_ambiguous`` warning for that row (or the
  row is rejected with ``ambiguous_timezone="reject"``). A number with no known zone gets the
  flow's default zone and a ``timezone_default`` warning;
- a phone number or id already seen in an earlier row is rejected as a duplicate naming that
  row;
- columns declared in the flow's ``context contact(...)`` are coerced to their declared types
  (``dsl.types.coerce``); a value that does not read as its type, or a required one that is
  blank, rejects the row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from dsl import types as vt
from dsl.ir import ContactsSource
from dsl.ir import Field as ContextField
from runtime.contacts.reader import ContactsFileError, read_table
from runtime.destinations import DestinationPolicy

_UNKNOWN_ZONE = "Etc/Unknown"


class RejectCode:
    MISSING_PHONE = "missing_phone"
    INVALID_PHONE = "invalid_phone"
    UNKNOWN_TIMEZONE = "unknown_timezone"
    AMBIGUOUS_TIMEZONE = "ambiguous_timezone"
    DUPLICATE_PHONE = "duplicate_phone"
    DUPLICATE_ID = "duplicate_id"
    MISSING_ID = "missing_id"
    MISSING_VALUE = "missing_value"
    BAD_VALUE = "bad_value"
    EXTRA_CELLS = "extra_cells"
    DESTINATION_REFUSED = "destination_refused"


class WarningCode:
    TIMEZONE_AMBIGUOUS = "timezone_ambiguous"
    TIMEZONE_DEFAULT = "timezone_default"


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    column: str | None = None


@dataclass(frozen=True)
class Contact:
    id: str
    """From the id column, else ``row<N>``; unique within the import."""
    phone: str
    """E.164."""
    timezone: str
    timezone_source: Literal["column", "number", "default"]
    name: str
    row: int
    columns: dict[str, str]
    """Every cell of the row, as text."""
    fields: dict[str, Any]
    """The flow's context columns, coerced and JSON-ready (datetimes ISO 8601, money text)."""
    warnings: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class RejectedRow:
    row: int
    reasons: tuple[Issue, ...]
    cells: dict[str, str]


@dataclass(frozen=True)
class ImportReport:
    source: str
    rows: int
    """Rows after the header."""
    contacts: tuple[Contact, ...]
    rejected: tuple[RejectedRow, ...]
    blank_rows: tuple[int, ...] = ()

    @property
    def accounted_for(self) -> int:
        return len(self.contacts) + len(self.rejected) + len(self.blank_rows)

    @property
    def warnings(self) -> list[tuple[int, Issue]]:
        return [(c.row, w) for c in self.contacts for w in c.warnings]

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "imported": len(self.contacts),
            "rejected": len(self.rejected),
            "blank": len(self.blank_rows),
        }


@dataclass(frozen=True)
class ImportOptions:
    phone_column: str = "phone"
    timezone_column: str | None = "timezone"
    id_column: str | None = "id"
    name_column: str | None = "first_name"
    default_region: str = "US"
    default_timezone: str = "UTC"
    context: tuple[ContextField, ...] = ()
    """The flow's ``Agent.context``: columns to coerce to their declared types."""
    ambiguous_timezone: Literal["pick", "reject"] = "pick"
    destinations: DestinationPolicy | None = None
    """When set, numbers the platform will not dial are rejected at import (the dial activity
    refuses them anyway; rejecting them here tells the operator now, row by row)."""

    @classmethod
    def for_source(
        cls,
        source: ContactsSource,
        *,
        default_timezone: str = "UTC",
        context: Sequence[ContextField] = (),
    ) -> ImportOptions:
        return cls(
            phone_column=source.phone_column,
            timezone_column=source.timezone_column,
            id_column=source.id_column,
            name_column=source.name_column,
            default_region=source.default_region,
            default_timezone=default_timezone,
            context=tuple(context),
        )


def import_contacts(
    path: Path | str, options: ImportOptions | None = None, *, data: bytes | None = None
) -> ImportReport:
    """Read and validate the contacts of a CSV or XLSX file.

    Args:
        path: the file (its suffix picks the format); with ``data``, only names it.
        data: the file's bytes, when they come from an upload rather than the disk.

    Raises:
        ContactsFileError: the file cannot be read, or required columns are missing (all of
            them are listed).
    """
    opts = options or ImportOptions()
    path = Path(path)
    table = read_table(path, data)
    _check_columns(path, table.columns, opts)
    types = {f.name: (f, vt.parse_type(f.type)) for f in opts.context}
    contacts: list[Contact] = []
    rejected: list[RejectedRow] = []
    blank: list[int] = []
    phones: dict[str, int] = {}
    ids: dict[str, int] = {}
    for number, cells in table.rows:
        if not cells:
            blank.append(number)
            continue
        result = _row(number, cells, opts, types, phones, ids)
        if isinstance(result, Contact):
            contacts.append(result)
            phones[result.phone] = number
            ids[result.id] = number
        else:
            rejected.append(result)
    return ImportReport(
        source=str(path),
        rows=len(table.rows),
        contacts=tuple(contacts),
        rejected=tuple(rejected),
        blank_rows=tuple(blank),
    )


def _check_columns(path: Path, columns: Sequence[str], opts: ImportOptions) -> None:
    missing = [opts.phone_column] if opts.phone_column not in columns else []
    missing += [
        f.name
        for f in opts.context
        if f.required and f.default is None and f.name not in columns and not _derived(f, opts)
    ]
    if missing:
        raise ContactsFileError(
            f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(columns)})"
        )


def _derived(f: ContextField, opts: ImportOptions) -> bool:
    """Context fields the importer fills itself when the file has no such column."""
    return f.name in (opts.timezone_column, opts.id_column, "timezone", "id")


def _row(
    number: int,
    cells: dict[str, str],
    opts: ImportOptions,
    types: dict[str, tuple[ContextField, vt.VoxType]],
    phones: dict[str, int],
    ids: dict[str, int],
) -> Contact | RejectedRow:
    reasons: list[Issue] = []
    warnings: list[Issue] = []
    extra = cells.pop("\x00extra", None)
    if extra is not None:
        reasons.append(Issue(RejectCode.EXTRA_CELLS, f"more cells than columns: {extra!r}"))

    phone = _phone(cells.get(opts.phone_column, ""), opts, reasons)
    if phone is not None and phone in phones:
        reasons.append(
            Issue(
                RejectCode.DUPLICATE_PHONE,
                f"{phone} is already the number of row {phones[phone]}",
                opts.phone_column,
            )
        )

    contact_id = cells.get(opts.id_column, "") if opts.id_column else ""
    if opts.id_column and opts.id_column in cells and not contact_id:
        reasons.append(Issue(RejectCode.MISSING_ID, "the id is blank", opts.id_column))
    contact_id = contact_id or f"row{number}"
    if contact_id in ids:
        reasons.append(
            Issue(
                RejectCode.DUPLICATE_ID,
                f"id {contact_id!r} is already used by row {ids[contact_id]}",
                opts.id_column,
            )
        )

    zone, zone_source = _zone(cells, phone, opts, reasons, warnings)

    fields: dict[str, Any] = {}
    for name, (decl, t) in types.items():
        raw = cells.get(name)
        if name == "timezone" and not raw and zone:
            raw = zone
        if name == "id" and not raw:
            raw = contact_id
        if name == opts.phone_column and phone is not None:
            raw = phone
        if raw is None or raw == "":
            if decl.required and decl.default is None:
                reasons.append(Issue(RejectCode.MISSING_VALUE, f"{name} is required", name))
            continue
        try:
            value = vt.coerce(raw, t, tz=zone or opts.default_timezone, region=opts.default_region)
        except ValueError as exc:
            reasons.append(Issue(RejectCode.BAD_VALUE, str(exc), name))
            continue
        fields[name] = _jsonable(value)

    if reasons or phone is None or zone is None:
        return RejectedRow(row=number, reasons=tuple(reasons), cells=dict(cells))
    name_value = cells.get(opts.name_column, "") if opts.name_column else ""
    return Contact(
        id=contact_id,
        phone=phone,
        timezone=zone,
        timezone_source=zone_source,
        name=name_value,
        row=number,
        columns=dict(cells),
        fields=fields,
        warnings=tuple(warnings),
    )


def _phone(raw: str, opts: ImportOptions, reasons: list[Issue]) -> str | None:
    col = opts.phone_column
    if not raw:
        reasons.append(Issue(RejectCode.MISSING_PHONE, "no phone number", col))
        return None
    try:
        number = phonenumbers.parse(raw, opts.default_region)
    except phonenumbers.NumberParseException as exc:
        reasons.append(
            Issue(RejectCode.INVALID_PHONE, f"{raw!r} is not a phone number: {exc}", col)
        )
        return None
    if not phonenumbers.is_valid_number(number):
        reasons.append(
            Issue(
                RejectCode.INVALID_PHONE,
                f"{raw!r} is not a valid number (read with default region {opts.default_region})",
                col,
            )
        )
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    refused = opts.destinations.refusal(e164) if opts.destinations is not None else None
    if refused is not None:
        reasons.append(Issue(RejectCode.DESTINATION_REFUSED, refused.message, col))
        return None
    return e164


def _zone(
    cells: dict[str, str],
    phone: str | None,
    opts: ImportOptions,
    reasons: list[Issue],
    warnings: list[Issue],
) -> tuple[str | None, Literal["column", "number", "default"]]:
    col = opts.timezone_column
    raw = cells.get(col, "") if col else ""
    if raw:
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            reasons.append(Issue(RejectCode.UNKNOWN_TIMEZONE, f"{raw!r} is not an IANA zone", col))
            return None, "column"
        return raw, "column"
    if phone is None:
        return None, "number"
    zones = sorted(z for z in _zones_of(phone) if z != _UNKNOWN_ZONE)
    if not zones:
        warnings.append(
            Issue(
                WarningCode.TIMEZONE_DEFAULT,
                f"no time zone known for {phone}; using {opts.default_timezone}",
                col,
            )
        )
        return opts.default_timezone, "default"
    if len(zones) == 1:
        return zones[0], "number"
    pick = opts.default_timezone if opts.default_timezone in zones else zones[0]
    listed = ", ".join(zones[:4]) + (", ..." if len(zones) > 4 else "")
    message = f"{phone} spans {len(zones)} time zones ({listed}); picked {pick}"
    if opts.ambiguous_timezone == "reject":
        reasons.append(
            Issue(RejectCode.AMBIGUOUS_TIMEZONE, message + "; give a timezone column value", col)
        )
        return None, "number"
    warnings.append(Issue(WarningCode.TIMEZONE_AMBIGUOUS, message, col))
    return pick, "number"


@functools.lru_cache(maxsize=4096)
def _zones_of(phone: str) -> tuple[str, ...]:
    return phone_timezone.time_zones_for_number(phonenumbers.parse(phone))


def _jsonable(value: object) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


__all__ = [
    "Contact",
    "ContactsFileError",
    "ImportOptions",
    "ImportReport",
    "Issue",
    "RejectCode",
    "RejectedRow",
    "WarningCode",
    "import_contacts",
]

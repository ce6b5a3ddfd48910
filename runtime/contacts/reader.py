"""Reading contact files (CSV, XLSX) into rows of text cells with their row numbers.

Row numbers are what a spreadsheet shows: the header is row 1, the first contact row 2. Cells
are text: XLSX numbers that are whole (phone numbers typed as numbers) lose their ``.0``, dates
become ISO 8601. Blank rows are returned too (as empty dicts) so the importer can account for
every row of the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path


class ContactsFileError(Exception):
    """The file as a whole cannot be imported (unreadable, no header, missing columns)."""


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]
    """(row number, cells by column) for every row after the header."""


def read_table(path: Path, data: bytes | None = None) -> Table:
    """Read ``path`` (or ``data`` named by ``path``) as CSV or XLSX, chosen by its suffix.

    Raises:
        ContactsFileError: unknown suffix, undecodable content, no header row, or duplicate
            column names.
    """
    suffix = path.suffix.lower()
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ContactsFileError(f"{path}: cannot read: {exc.strerror}") from None
    if suffix in (".csv", ".txt", ".tsv"):
        header, rows = _csv_rows(path, data)
    elif suffix in (".xlsx", ".xlsm"):
        header, rows = _xlsx_rows(path, data)
    else:
        raise ContactsFileError(f"{path}: unsupported file type {suffix!r}; use .csv or .xlsx")
    columns = tuple(h.strip() for h in header)
    if not any(columns):
        raise ContactsFileError(f"{path}: the first row must name the columns")
    dupes = sorted(c for c, n in Counter(columns).items() if c and n > 1)
    if dupes:
        raise ContactsFileError(f"{path}: column(s) named twice: {', '.join(dupes)}")
    _check_text(path, 1, header)
    table_rows = []
    for number, cells in rows:
        _check_text(path, number, cells)
        if not any(c.strip() for c in cells):
            table_rows.append((number, {}))
            continue
        extra = cells[len(columns) :]
        row = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(columns) if c}
        if any(x.strip() for x in extra):
            row["\x00extra"] = ",".join(extra)
        table_rows.append((number, row))
    return Table(columns=tuple(c for c in columns if c), rows=table_rows)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL and lone surrogates: text PostgreSQL cannot store (and no contact data needs)."""


def _check_text(path: Path, number: int, cells: list[str]) -> None:
    for i, cell in enumerate(cells, start=1):
        m = _UNSTORABLE.search(cell)
        if m is not None:
            what = "a NUL character" if m.group() == "\x00" else "an invalid character"
            raise ContactsFileError(
                f"{path}: row {number}, column {i} holds {what} (U+{ord(m.group()):04X});"
                " remove it and upload the file again"
            )


def _csv_rows(path: Path, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContactsFileError(
            f"{path}: not UTF-8 (byte {exc.start}); save the file as CSV UTF-8"
        ) from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ContactsFileError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise ContactsFileError(f"{path}: row 1: {exc}") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        while True:
            number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ContactsFileError(f"{path}: row {number}: {exc}") from None
            yield number, cells

    return header, rows()


def _xlsx_rows(path: Path, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ContactsFileError(f"{path}: not a readable .xlsx workbook: {exc}") from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    try:
        header = [_cell(v) for v in next(it)]
    except StopIteration:
        raise ContactsFileError(f"{path}: the first sheet is empty") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(it, start=2):
            yield number, [_cell(v) for v in values]
        book.close()

    return header, rows()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)

"""Tables as CSV or XLSX for every export (CLI reports and console downloads), safe to open in a spreadsheet.

A free-text cell (any `str`) that a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or
carriage return) is prefixed with `'` in CSV; XLSX writes every `str` as a string cell (never a formula) and
numbers as numbers. Numeric and date columns are passed as numbers and dates (int, float, Decimal, date,
datetime, bool), never as strings, so they are never prefixed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XLSX cannot hold
TYPED = (bool, int, float, Decimal, dt.date, dt.datetime)


def csv_cell(value: Any) -> Any:
    """The value as it goes into CSV: a dangerous free-text cell gets a leading `'`."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8, no BOM."""
    return csv_text(header, rows).encode("utf-8")


def sheet_title(name: str) -> str:
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "report"


def append_row(sheet: Any, row: Sequence[Any]) -> None:
    """Append `row` to an openpyxl worksheet: strings as string cells (never formulas), numbers as numbers."""
    values = [v if v is None or isinstance(v, TYPED) else _ILLEGAL_XLSX.sub("", str(v)) for v in row]
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def new_book() -> Any:
    from openpyxl import Workbook

    return Workbook()


def fill_sheet(sheet: Any, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    append_row(sheet, list(header))
    for row in rows:
        append_row(sheet, list(row))


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "report") -> bytes:
    book = new_book()
    ws = book.active
    ws.title = sheet_title(sheet)
    fill_sheet(ws, header, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

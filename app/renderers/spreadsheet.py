"""Cells for every CSV and XLSX export: safe against formula injection, typed values.

A donor can type any name or note. A spreadsheet program runs a CSV field, or an XLSX
cell stored as a formula, that starts with ``=``, ``+``, ``-``, ``@``, tab or CR
(OWASP "CSV Injection"): ``=HYPERLINK("http://x","y")`` becomes a live link, ``+1-2``
becomes ``-1``. Every export writes its cells through this module:

- CSV (:func:`csv_bytes`): such a *text* gets a leading apostrophe (``'=HYPERLINK(…``),
  which Excel and LibreOffice show as text. Numbers are written as numbers, so a
  reversal's ``-500000`` stays a number.
- XLSX (:func:`put` / :func:`write_row`): every text is a string cell (openpyxl would
  store a text starting with ``=`` as a formula), and a risky one is also marked
  "quote prefix", as Excel marks a cell typed with a leading apostrophe, so it stays text
  when someone edits it. The text itself is kept as it was.

Dates and times are real date cells in XLSX (``dd/mm/yyyy hh:mm``) and ``dd/mm/yyyy
HH:MM`` in CSV. Pass them as *naive local* (Asia/Ho_Chi_Minh) values: a spreadsheet cell
has no time zone, and an aware datetime is refused rather than silently shifted.

Plain values in, bytes or cells out; nothing here knows about Flask.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "CSV_DATE_FORMAT",
    "CSV_DATETIME_FORMAT",
    "FORMULA_PREFIXES",
    "XLSX_DATE_FORMAT",
    "XLSX_DATETIME_FORMAT",
    "csv_bytes",
    "csv_value",
    "is_formula_like",
    "put",
    "safe_text",
    "set_value",
    "write_row",
]

#: A text starting with one of these is run as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
CSV_DATE_FORMAT = "%d/%m/%Y"
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_DATE_FORMAT = "dd/mm/yyyy"


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program would read *text* as a formula."""
    return text.startswith(FORMULA_PREFIXES)


def safe_text(text: str) -> str:
    """*text*, with a leading apostrophe if a spreadsheet would run it as a formula."""
    return "'" + text if is_formula_like(text) else text


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        raise ValueError("spreadsheet times must be naive local times (Asia/Ho_Chi_Minh)")
    return moment


def csv_value(value: object) -> object:
    """One CSV field: texts made safe, numbers kept, dates formatted, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, datetime):
        return _naive(value).strftime(CSV_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(CSV_DATE_FORMAT)
    return value  # int (bool is not used), written as digits by the csv module


def csv_bytes(headings: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file as Excel opens it with Vietnamese intact: UTF-8 with BOM, CRLF line ends,
    every field through :func:`csv_value`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_value(heading) for heading in headings])
    writer.writerows([csv_value(value) for value in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def set_value(cell: Cell, value: object) -> Cell:
    """Store *value* in *cell*: a text never as a formula, a date as a date cell."""
    if isinstance(value, datetime):
        cell.value = _naive(value)
        cell.number_format = XLSX_DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = XLSX_DATE_FORMAT
    else:
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
            if is_formula_like(value):
                cell.quotePrefix = True
    return cell


def put(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    """``sheet.cell(row, column)`` holding *value*, through :func:`set_value`."""
    return set_value(sheet.cell(row=row, column=column), value)


def write_row(sheet: Worksheet, row: int, values: Sequence[object]) -> int:
    """Write *values* on row *row* from column A (``None`` leaves a cell empty); return *row*."""
    for column, value in enumerate(values, start=1):
        if value is not None:
            put(sheet, row, column, value)
    return row

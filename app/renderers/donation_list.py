"""The donation list as CSV (UTF-8 with BOM, so Excel opens Vietnamese correctly) and XLSX
(amounts as numeric cells, times as date cells, ready to print). Plain data in, bytes out;
no Flask. Every cell goes through :mod:`app.renderers.spreadsheet` (formula injection).

Rows are the values of ``EXPORT_HEADINGS`` (app/services/donations/queries.py): times as
naive local datetimes, amounts as signed ints (a reversal is negative).
"""
from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from app.renderers import spreadsheet

AMOUNT_FORMAT = "#,##0"
#: Labels of the two total rows under the list.
LISTED_TOTAL_LABEL = "Tổng cộng các dòng trên"
NET_TOTAL_LABEL = "Trong đó thực thu (khoản đã ghi nhận, trừ bút toán đảo)"
_WIDTHS = (8, 16, 34, 9, 13, 20, 15, 15, 9, 26, 28, 18, 18, 24, 30)


def to_csv(headings: Sequence[str], rows: Sequence[Sequence]) -> bytes:
    """One line per row; times ``dd/mm/yyyy HH:MM``, amounts as plain signed integers."""
    return spreadsheet.csv_bytes(headings, rows)


def to_xlsx(headings: Sequence[str], rows: Sequence[Sequence], *, amount_column: int,
            net_total: int, title: str) -> bytes:
    """One sheet: the heading row, the rows, then two totals.

    "Tổng cộng các dòng trên" is the sum of the amount column as listed (pending and failed
    rows included, reversals negative), so it adds up with what the reader sees;
    "Trong đó thực thu" is *net_total*, the part the fund really holds (counted rows only).
    Printed on A4 landscape, one page wide, the heading row repeated on every page.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Khoản ủng hộ"
    bold = Font(bold=True)
    spreadsheet.write_row(sheet, 1, list(headings))
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for index, row in enumerate(rows, start=2):
        spreadsheet.write_row(sheet, index, list(row))
    last = len(rows) + 1
    amount_col = amount_column + 1  # 1-based
    for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=amount_col, max_col=amount_col):
        cell.number_format = AMOUNT_FORMAT

    listed_total = sum(row[amount_column] for row in rows if isinstance(row[amount_column], int))
    for offset, (label, value) in enumerate(((LISTED_TOTAL_LABEL, listed_total),
                                             (NET_TOTAL_LABEL, net_total)), start=1):
        row = last + offset
        label_cell = spreadsheet.put(sheet, row, 1, label)
        label_cell.font = bold
        label_cell.alignment = Alignment(horizontal="right")
        if amount_col > 2:
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=amount_col - 1)
        total_cell = spreadsheet.put(sheet, row, amount_col, value)
        total_cell.font = bold
        total_cell.number_format = AMOUNT_FORMAT

    for index, width in enumerate(_WIDTHS[: len(headings)], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headings))}{last}"

    # Print: A4 landscape, all columns on one page width, the headings on every page.
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5
    sheet.oddFooter.center.text = "Trang &P/&N"
    workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

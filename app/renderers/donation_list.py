"""The donation list as CSV (UTF-8 with BOM, so Excel opens Vietnamese correctly) and XLSX
(amounts as numeric cells). Plain data in, bytes out; no Flask."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

AMOUNT_FORMAT = "#,##0"


def to_csv(headings: Sequence[str], rows: Sequence[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(headings: Sequence[str], rows: Sequence[Sequence], *, amount_column: int,
            net_total: int, title: str) -> bytes:
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = "Khoản ủng hộ"
    sheet.append(list(headings))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    last = len(rows) + 1
    total_row = [None] * len(headings)
    total_row[amount_column - 1 if amount_column else 0] = "Tổng thực thu"
    total_row[amount_column] = net_total
    sheet.append(total_row)
    letter = get_column_letter(amount_column + 1)
    for (cell,) in sheet.iter_rows(min_row=2, max_row=last + 1, min_col=amount_column + 1, max_col=amount_column + 1):
        cell.number_format = AMOUNT_FORMAT
    sheet[f"{letter}{last + 1}"].font = Font(bold=True)
    widths = {0: 8, 1: 17, 2: 36, 3: 10, 4: 15, 5: 22, 6: 16, 7: 16, 8: 10, 9: 28, 10: 32, 11: 20, 12: 20}
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

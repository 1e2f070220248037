"""The import template (CSV and XLSX): a header row and example rows. Plain data in, bytes
out; no Flask."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter


def template_csv(headings: Sequence[str], examples: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    writer.writerows(examples)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8


def template_xlsx(headings: Sequence[str], examples: Sequence[Sequence[str]],
                  notes: Sequence[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Khoản ủng hộ"
    sheet.append(list(headings))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in examples:
        sheet.append(list(row))
    for index, heading in enumerate(headings, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(heading) + 4)
        for cell in sheet[get_column_letter(index)]:
            cell.number_format = "@"  # text: keeps leading zeros of phones and MSTs
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet("Hướng dẫn")
    for line in notes:
        guide.append([line])
    guide.column_dimensions["A"].width = 120
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

"""A readable PDF of everything the fund holds about one donor (personal-data export).

Takes the same plain dict as the JSON export: {"title", "generated_at", "sections": [
{"heading", "rows": [[label, value], ...]} or {"heading", "table": {"columns", "rows"}}]}.
No Flask, no database.
"""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return str(value)


def render_export(document: dict) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(document["title"])
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, document["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, document.get("intro", ""), new_x="LMARGIN", new_y="NEXT")
    for section in document["sections"]:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 7, section["heading"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        if "rows" in section:
            for label, value in section["rows"]:
                pdf.set_font("DejaVu", "B", 9)
                pdf.cell(55, 5, _text(label))
                pdf.set_font("DejaVu", "", 9)
                pdf.multi_cell(0, 5, _text(value), new_x="LMARGIN", new_y="NEXT")
        else:
            table = section["table"]
            if not table["rows"]:
                pdf.multi_cell(0, 5, "(không có)", new_x="LMARGIN", new_y="NEXT")
                continue
            with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True) as grid:
                head = grid.row()
                for column in table["columns"]:
                    head.cell(column)
                for values in table["rows"]:
                    row = grid.row()
                    for value in values:
                        row.cell(_text(value))
    return bytes(pdf.output())

"""What every official document of the fund shares (Decree 30/2020/NĐ-CP layout): the
letterhead — the parent agency and the issuing body on the left, the national motto on the
right, each with its short rule — then the number and the place and date line.

Used by the commendation list and by the reports (app/renderers/reports.py). No Flask."""
from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

NATIONAL_MOTTO_1 = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
PDF_FONT = "NotoSerif"


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text) if text else ""


def add_fonts(pdf: FPDF) -> None:
    """Noto Serif in its four faces, embedded so that Vietnamese text extracts exactly."""
    for style, suffix in (("", "Regular"), ("B", "Bold"), ("I", "Italic"), ("BI", "BoldItalic")):
        pdf.add_font(PDF_FONT, style, str(FONT_DIR / f"NotoSerif-{suffix}.ttf"))


def date_line(place: str, day: date) -> str:
    """"Hải Phòng, ngày 05 tháng 02 năm 2024".

    Decree 30/2020/NĐ-CP (document format): a day below 10 and the months 1 and 2 take a
    leading zero; other months do not ("tháng 3", "tháng 12").
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{nfc(place)}, ngày {day.day:02d} tháng {month} năm {day.year}"


def centered_rule(pdf: FPDF, x: float, width: float, length: float) -> None:
    start = x + (width - length) / 2
    pdf.line(start, pdf.get_y() + 0.6, start + length, pdf.get_y() + 0.6)


def _one_line_size(pdf: FPDF, text: str, width: float, size: float, smallest: float = 10) -> float:
    """The largest bold size, from `size` down by half points, at which `text` fits on one
    line of `width` (the national motto must not break: on a portrait A4 page it needs 11.5)."""
    while size > smallest:
        pdf.set_font(PDF_FONT, "B", size)
        if pdf.get_string_width(text) + 2 * pdf.c_margin <= width:
            break
        size -= 0.5
    return size


def draw_letterhead(pdf: FPDF, *, parent_agency: str, issuing_body: str, number_text: str,
                    date_text: str, left_w: float, margin_left: float, page_width: float) -> float:
    """Draw the letterhead from the current y; returns the y of the number/date line."""
    right_x = margin_left + left_w
    right_w = page_width - left_w
    x0 = margin_left
    top = pdf.get_y()

    # Left: parent agency, issuing body (bold), short rule.
    pdf.set_font(PDF_FONT, "", 12)
    pdf.multi_cell(left_w, 5.6, nfc(parent_agency), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(PDF_FONT, "B", 12)
    pdf.multi_cell(left_w, 5.6, nfc(issuing_body), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    centered_rule(pdf, x0, left_w, 35)
    left_bottom = pdf.get_y()

    # Right: the national motto and its rule.
    pdf.set_xy(right_x, top)
    pdf.set_font(PDF_FONT, "B", _one_line_size(pdf, NATIONAL_MOTTO_1, right_w, 12))
    pdf.multi_cell(right_w, 5.6, NATIONAL_MOTTO_1, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(PDF_FONT, "B", 13)
    pdf.multi_cell(right_w, 6, NATIONAL_MOTTO_2, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    centered_rule(pdf, right_x, right_w, pdf.get_string_width(NATIONAL_MOTTO_2))
    right_bottom = pdf.get_y()

    # Number (left) and place and date (right).
    line_y = max(left_bottom, right_bottom) + 3
    pdf.set_xy(x0, line_y)
    pdf.set_font(PDF_FONT, "", 12)
    pdf.cell(left_w, 6, number_text, align="C")
    pdf.set_xy(right_x, line_y)
    pdf.set_font(PDF_FONT, "I", 12)
    pdf.cell(right_w, 6, date_text, align="C")
    return line_y

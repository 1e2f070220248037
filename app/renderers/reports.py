"""Reports as official documents: PDF (A4, the administrative layout of Decree 30/2020,
letterhead shared with the commendation list), XLSX and CSV, all from one plain
:class:`ReportDocument` built by app/services/reports/layout.py. No Flask, no database.

A document is a letterhead, a title, then sections of paragraphs, tables and charts, then
the signature block. Amounts are ints (whole đồng): numeric cells in XLSX, "1.234.567" in
the PDF, plain integers in CSV. Child counts arrive as text when masked ("< 5").
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from typing import Literal, Union

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from app.renderers import charts
from app.renderers import spreadsheet  # the shared spreadsheet-safety rule
from app.renderers.official import PDF_FONT, add_fonts, date_line, draw_letterhead, nfc
from app.vnd import format_vnd

Kind = Literal["text", "money", "count", "center"]


@dataclass(frozen=True)
class Column:
    label: str
    width: float = 30  # relative; the PDF scales the widths to the page
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    total: tuple | None = None  # printed bold as the last row
    title: str | None = None
    empty_text: str = "Không có số liệu."


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = ""  # "", "B", "I"


@dataclass(frozen=True)
class Chart:
    spec: charts.ChartSpec


Block = Union[Paragraph, Table, Chart]


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class ReportDocument:
    slug: str  # file name stem, e.g. "cong-khai-2025"
    parent_agency: str
    issuing_body: str
    place: str
    document_date: "datetime.date"
    title_lines: tuple[str, ...]
    subtitle: str
    sections: tuple[Section, ...]
    signatory_title: str
    signatory_name: str
    number: str | None = None  # "Số: …" for a frozen report; None for a draft
    recipients: tuple[str, ...] = field(default_factory=tuple)  # "Nơi nhận"

    @property
    def title(self) -> str:
        return " ".join(self.title_lines)

    @property
    def orientation(self) -> str:
        """Landscape when a table is too wide for portrait A4 (more than six columns)."""
        return "L" if any(len(t.columns) > 6 for _s, t in self.tables()) else "P"

    def tables(self):
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, Table):
                    yield section, block


def cell_text(value, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return format_vnd(value, symbol=False)
    return nfc(str(value))


# --------------------------------------------------------------------------- PDF

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 25, 15, 15, 18
ALIGN = {"text": "LEFT", "money": "RIGHT", "count": "CENTER", "center": "CENTER"}


class _ReportPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(PDF_FONT, "I", 9)
        self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="C")


def render_pdf(doc: ReportDocument) -> bytes:
    pdf = _ReportPDF(orientation=doc.orientation, unit="mm", format="A4")
    add_fonts(pdf)
    pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)
    pdf.set_title(nfc(doc.title))
    pdf.set_author(nfc(doc.issuing_body))
    pdf.set_creator("Quỹ Bảo trợ trẻ em")
    # The document's own date as creation date: the same data gives the same bytes, so a
    # frozen report's hash can be checked by rendering it again.
    pdf.set_creation_date(datetime.combine(doc.document_date, time(0, 0), tzinfo=timezone.utc))
    pdf.add_page()
    width = pdf.w - MARGIN_LEFT - MARGIN_RIGHT
    left_w = 112.0 if doc.orientation == "L" else 78.0
    line_y = draw_letterhead(pdf, parent_agency=doc.parent_agency, issuing_body=doc.issuing_body,
                             number_text=f"Số: {nfc(doc.number)}" if doc.number else "",
                             date_text=date_line(doc.place, doc.document_date), left_w=left_w,
                             margin_left=MARGIN_LEFT, page_width=width)
    pdf.set_xy(MARGIN_LEFT, line_y + 12)
    first, *rest = doc.title_lines
    pdf.set_font(PDF_FONT, "B", 14)
    pdf.multi_cell(width, 7, nfc(first), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(PDF_FONT, "B", 12.5)
    for text in rest:
        pdf.multi_cell(width, 6.2, nfc(text), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.subtitle:
        pdf.set_font(PDF_FONT, "I", 12)
        pdf.multi_cell(width, 6.2, nfc(doc.subtitle), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    for section in doc.sections:
        # Keep the heading with what follows it: a table's title, headings and first rows.
        first = section.blocks[0] if section.blocks else None
        if pdf.will_page_break(8 + (_table_start_height(pdf, first, width) if isinstance(first, Table) else 22)):
            pdf.add_page()
        pdf.set_font(PDF_FONT, "B", 12.5)
        pdf.multi_cell(width, 6.4, nfc(section.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                pdf.set_font(PDF_FONT, block.style, 11.5)
                pdf.multi_cell(width, 5.8, nfc(block.text), align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(1)
            elif isinstance(block, Table):
                _pdf_table(pdf, block, width)
            elif isinstance(block, Chart) and not block.spec.is_empty:
                image = charts.png(block.spec)
                chart_w = min(width, 170)
                height = chart_w * _png_ratio(image)
                if pdf.will_page_break(height):
                    pdf.add_page()
                pdf.image(io.BytesIO(image), x=MARGIN_LEFT + (width - chart_w) / 2, w=chart_w)
                pdf.ln(2)
        pdf.ln(2)

    _pdf_signature(pdf, doc, width, left_w)
    return bytes(pdf.output())


def _png_ratio(data: bytes) -> float:
    w = int.from_bytes(data[16:20], "big")
    h = int.from_bytes(data[20:24], "big")
    return h / w if w else 0.5


def _table_rows(table: Table, width: float, first: int | None = None):
    """Column widths, the headings row and the body rows (the first `first` only, if given)."""
    widths = [c.width * width / sum(c.width for c in table.columns) for c in table.columns]
    heading = (tuple(nfc(c.label) for c in table.columns), ["CENTER"] * len(widths), "B")
    aligns = [ALIGN[c.kind] for c in table.columns]
    body = [(tuple(cell_text(v, c.kind) for c, v in zip(table.columns, values)), aligns, "") for values in table.rows[:first]]
    if table.total is not None and (first is None or len(body) < first):
        body.append((tuple(cell_text(v, c.kind) for c, v in zip(table.columns, table.total)), aligns, "B"))
    return widths, heading, body


def _table_start_height(pdf: FPDF, table: Table, width: float) -> float:
    """The height of a table's title, column headings and first two rows: what must fit on
    the page for the table (and the heading above it) to start there."""
    height = 5.6 if table.title else 0
    if not table.rows:
        return height + 8
    widths, heading, body = _table_rows(table, width, 2)
    return height + sum(_row_height(pdf, widths, texts, style) for texts, _aligns, style in [heading, *body[:2]])


def _pdf_table(pdf: FPDF, table: Table, width: float) -> None:
    if pdf.will_page_break(_table_start_height(pdf, table, width)):
        pdf.add_page()  # the title stays with the headings and the first rows
    if table.title:
        pdf.set_font(PDF_FONT, "I", 11)
        pdf.multi_cell(width, 5.6, nfc(table.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not table.rows:
        pdf.set_font(PDF_FONT, "I", 11)
        pdf.multi_cell(width, 5.6, nfc(table.empty_text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        return
    widths, heading, body = _table_rows(table, width)
    _pdf_row(pdf, widths, *heading)
    for row in body:
        layout = _row_layout(pdf, widths, row[0], row[2])
        if pdf.will_page_break(layout[0]):
            pdf.add_page()
            _pdf_row(pdf, widths, *heading)  # the headings repeat on each page
            layout = _row_layout(pdf, widths, row[0], row[2])  # the font again
        _pdf_row(pdf, widths, *row, layout=layout)
    pdf.ln(3)


ROW_LINE, ROW_PAD_X, ROW_PAD_Y = 4.8, 1.4, 1.1


def _row_layout(pdf: FPDF, widths: list[float], texts: tuple[str, ...], style: str):
    """A row's lines per cell and its height: one line when the text fits its column (the
    common case, measured with get_string_width), otherwise multi_cell's line breaking.
    Returns (height, [(lines, width of the single line or None)])."""
    pdf.set_font(PDF_FONT, style, 10)
    cells = []
    for w, text in zip(widths, texts):
        inner = w - 2 * ROW_PAD_X
        width = pdf.get_string_width(text) if text else 0.0
        if width > inner:
            cells.append((pdf.multi_cell(inner, ROW_LINE, text, dry_run=True, output="LINES"), None))
        else:
            cells.append(([text], width))
    lines = max(len(c[0]) for c in cells) if cells else 1
    return lines * ROW_LINE + 2 * ROW_PAD_Y, cells


def _row_height(pdf: FPDF, widths: list[float], texts: tuple[str, ...], style: str) -> float:
    return _row_layout(pdf, widths, texts, style)[0]


def _pdf_row(pdf: FPDF, widths: list[float], texts: tuple[str, ...], aligns: list[str], style: str,
             layout=None) -> None:
    """One bordered table row, cells centred vertically. (fpdf2's table() lays out every
    cell through multi_cell, about 1.5 ms a cell: a disclosure naming thousands of donors
    took tens of seconds. A text that fits its cell is placed with text() at the position
    cell() would give it, measured once; only a text that must wrap goes through cell().)"""
    height, cells = layout or _row_layout(pdf, widths, texts, style)
    x, y = pdf.l_margin, pdf.get_y()
    baseline = 0.5 * ROW_LINE + 0.3 * pdf.font_size
    for w, (lines, single), align in zip(widths, cells, aligns):
        pdf.rect(x, y, w, height)
        inner = w - 2 * ROW_PAD_X
        top = y + (height - len(lines) * ROW_LINE) / 2
        if single is not None:
            if lines[0]:
                left = x + ROW_PAD_X
                if align[0] == "R":
                    left += inner - pdf.c_margin - single
                elif align[0] == "C":
                    left += (inner - single) / 2
                else:
                    left += pdf.c_margin
                pdf.text(left, top + baseline, lines[0])
        else:
            for i, line in enumerate(lines):
                pdf.set_xy(x + ROW_PAD_X, top + i * ROW_LINE)
                pdf.cell(inner, ROW_LINE, line, align=align[0])
        x += w
    pdf.set_xy(pdf.l_margin, y + height)


def _pdf_signature(pdf: FPDF, doc: ReportDocument, width: float, left_w: float) -> None:
    sig_lines = [line.strip() for line in nfc(doc.signatory_title).splitlines() if line.strip()]
    block = 6.4 * len(sig_lines) + 26 + 6.4 + 4
    if pdf.will_page_break(block):
        pdf.add_page()
    top = pdf.get_y() + 2
    right_x, right_w = MARGIN_LEFT + left_w, width - left_w
    if doc.recipients:
        pdf.set_xy(MARGIN_LEFT, top)
        pdf.set_font(PDF_FONT, "BI", 11)
        pdf.cell(left_w, 5.6, "Nơi nhận:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(PDF_FONT, "", 10)
        for text in doc.recipients:
            pdf.set_x(MARGIN_LEFT)
            pdf.multi_cell(left_w - 4, 5, f"- {nfc(text)};", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(right_x, top)
    pdf.set_font(PDF_FONT, "B", 12.5)
    for text in sig_lines:
        pdf.set_x(right_x)
        pdf.cell(right_w, 6.4, text.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(PDF_FONT, "I", 10)
    pdf.set_x(right_x)
    pdf.cell(right_w, 5, "(Ký, ghi rõ họ tên và đóng dấu)", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(22)
    pdf.set_font(PDF_FONT, "B", 12.5)
    pdf.set_x(right_x)
    pdf.cell(right_w, 6.4, nfc(doc.signatory_name), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# --------------------------------------------------------------------------- XLSX

XLSX_FONT = "Times New Roman"
XLSX_PAGE_WIDTH = 110  # characters across A4 portrait at 11 pt
XLSX_MIN_COLUMN = 14  # an amount of billions, 2.219.600.000, still fits
AMOUNT_FORMAT = "#,##0"


def render_xlsx(doc: ReportDocument) -> bytes:
    """One sheet laid out like the document (letterhead, title, sections, tables with
    numeric amount cells), ready to print on A4; texts are stored as text, never formulas."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    wb.properties.title = nfc(doc.title)
    wb.properties.creator = nfc(doc.issuing_body)
    ncols = max([len(t.columns) for _s, t in doc.tables()] + [4])
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    right = Alignment(horizontal="right", vertical="center")

    def font(bold=False, italic=False, size=12):
        return Font(name=XLSX_FONT, bold=bold, italic=italic, size=size)

    def put(row, col, value, *, fnt=None, align=None, fmt=None):
        cell = spreadsheet.set_value(ws.cell(row=row, column=col),
                                     nfc(value) if isinstance(value, str) else value)
        cell.font = fnt or font()
        if align is not None:
            cell.alignment = align
        if fmt:
            cell.number_format = fmt
        return cell

    def line(row, text, *, fnt, align=wrap, first=1, last=ncols):
        put(row, first, text, fnt=fnt, align=align)
        if last > first:
            ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)

    half = max(1, ncols // 2)
    line(1, nfc(doc.parent_agency), fnt=font(), align=center, last=half)
    line(1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", fnt=font(bold=True), align=center, first=half + 1)
    line(2, nfc(doc.issuing_body), fnt=font(bold=True), align=center, last=half)
    line(2, "Độc lập - Tự do - Hạnh phúc", fnt=font(bold=True), align=center, first=half + 1)
    line(3, f"Số: {doc.number}" if doc.number else "", fnt=font(), align=center, last=half)
    line(3, date_line(doc.place, doc.document_date), fnt=font(italic=True), align=center, first=half + 1)
    for r in (1, 2):
        ws.row_dimensions[r].height = 34
    row = 5
    for index, text in enumerate(doc.title_lines):
        line(row, text, fnt=font(bold=True, size=14 if index == 0 else 12), align=center)
        ws.row_dimensions[row].height = 20 if index == 0 else 32
        row += 1
    if doc.subtitle:
        line(row, doc.subtitle, fnt=font(italic=True), align=center)
        row += 1
    row += 1
    # Columns are shared by every table of the sheet: each as wide as its widest use, then
    # scaled to an A4 page (about 110 characters): taken as they are, LibreOffice and Excel
    # shrank a wide report to a third of its size to fit the page.
    widths = [8.0] * ncols
    for _section, table in doc.tables():
        for col, column in enumerate(table.columns):
            widths[col] = max(widths[col], min(50.0, column.width * 0.9))
    shrink = min(1.0, XLSX_PAGE_WIDTH / sum(widths))
    widths = [round(max(XLSX_MIN_COLUMN, w * shrink), 1) for w in widths]
    for section in doc.sections:
        line(row, section.title, fnt=font(bold=True))
        row += 1
        for block in section.blocks:
            if isinstance(block, Paragraph):
                line(row, block.text, fnt=font(bold="B" in block.style, italic="I" in block.style))
                ws.row_dimensions[row].height = 16 * max(1, len(block.text) // 110 + 1)
                row += 1
            elif isinstance(block, Chart):
                continue  # the figures are in the table beside it
            elif isinstance(block, Table):
                if block.title:
                    line(row, block.title, fnt=font(italic=True))
                    row += 1
                for col, column in enumerate(block.columns, start=1):
                    put(row, col, column.label, fnt=font(bold=True, size=11), align=center).border = border
                ws.row_dimensions[row].height = 32
                row += 1
                if not block.rows:
                    line(row, block.empty_text, fnt=font(italic=True, size=11))
                    row += 1
                for values, is_total in [(v, False) for v in block.rows] + (
                        [(block.total, True)] if block.total is not None and block.rows else []):
                    for col, (column, value) in enumerate(zip(block.columns, values), start=1):
                        numeric = isinstance(value, int) and not isinstance(value, bool)
                        cell = put(row, col, value if numeric or value is None else str(value),
                                   fnt=font(bold=is_total, size=11),
                                   align=right if numeric else (center if column.kind != "text" else wrap),
                                   fmt=AMOUNT_FORMAT if numeric and column.kind == "money" else None)
                        cell.border = border
                    # Spreadsheets do not grow a row for wrapped text they did not lay out:
                    # give it the lines its longest text needs.
                    lines = max(math.ceil(len(str(v or "")) / (w * 1.1)) for v, w in zip(values, widths))
                    if lines > 1:
                        ws.row_dimensions[row].height = 15 * lines
                    row += 1
                row += 1
        row += 1
    sig_col = half + 1
    for text in [t for t in nfc(doc.signatory_title).splitlines() if t.strip()]:
        line(row, text.strip().upper(), fnt=font(bold=True), align=center, first=sig_col)
        row += 1
    row += 3
    line(row, nfc(doc.signatory_name), fnt=font(bold=True), align=center, first=sig_col)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.page_setup.orientation = "landscape" if doc.orientation == "L" else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.sheet_view.showGridLines = False
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- CSV

def render_csv(doc: ReportDocument) -> bytes:
    """Every table of the report, one after the other: a line naming the section (and the
    table), the column headings, the rows, the total; a blank line between tables. UTF-8
    with BOM, CRLF; amounts as plain integers; texts made formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet.safe_text(nfc(doc.title))])
    for section, table in doc.tables():
        writer.writerow([])
        writer.writerow([spreadsheet.safe_text(nfc(section.title + (f" — {table.title}" if table.title else "")))])
        writer.writerow([spreadsheet.safe_text(nfc(c.label)) for c in table.columns])
        for values in list(table.rows) + ([table.total] if table.total is not None and table.rows else []):
            writer.writerow([_csv_value(v) for v in values])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value) -> object:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return spreadsheet.safe_text(nfc(str(value)))


RENDERERS = {
    "pdf": (render_pdf, "application/pdf"),
    "xlsx": (render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": (render_csv, "text/csv; charset=utf-8"),
}


def render(doc: ReportDocument, fmt: str) -> bytes:
    return RENDERERS[fmt][0](doc)


__all__ = ["Chart", "Column", "Paragraph", "RENDERERS", "ReportDocument", "Section", "Table",
           "render", "render_csv", "render_pdf", "render_xlsx", "Sequence"]


# --------------------------------------------------------------------------- stored form

def to_json(doc: ReportDocument) -> str:
    """The document as JSON (a frozen report keeps it, to print XLSX/CSV again exactly)."""
    import dataclasses
    import json

    def encode(value):
        if isinstance(value, (Paragraph, Table, Chart, Section, Column, charts.ChartSpec)):
            data = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
            data["_type"] = type(value).__name__
            return data
        if isinstance(value, (tuple, list)):
            return [encode(v) for v in value]
        return value

    data = {f.name: encode(getattr(doc, f.name)) for f in dataclasses.fields(doc)}
    data["document_date"] = doc.document_date.isoformat()
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> ReportDocument:
    import json
    from datetime import date as _date

    types = {"Paragraph": Paragraph, "Table": Table, "Chart": Chart, "Section": Section,
             "Column": Column, "ChartSpec": charts.ChartSpec}

    def decode(value):
        if isinstance(value, dict) and "_type" in value:
            cls = types[value.pop("_type")]
            return cls(**{k: decode(v) for k, v in value.items()})
        if isinstance(value, list):
            return tuple(decode(v) for v in value)
        return value

    data = json.loads(text)
    data["document_date"] = _date.fromisoformat(data["document_date"])
    return ReportDocument(**{k: decode(v) for k, v in data.items()})

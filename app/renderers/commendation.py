"""The yearly commendation list sent to the city's Emulation and Commendation Board.

"Danh sách đề nghị Chủ tịch Ủy ban nhân dân thành phố tặng Bằng khen" for the organizations
(tập thể) and individuals (cá nhân) whose donations to the fund in one calendar year reached
the threshold (50 million đồng by default; plan 2024, section III.6.2).

The Board receives the list as Excel and as PDF; a CSV carries the same rows for machines.
All three are rendered here from one plain :class:`CommendationDocument` and return bytes; this
module imports nothing from Flask, so the web download and a CLI batch share it.

What the caller is responsible for (nothing here queries or re-orders anything):

* choosing the rows (totals per donor for the year, at or above ``threshold``) and their order:
  rows are printed in the order given, numbered 1..n per section;
* the exact printed text of every name, address, title and tax code;
* the letterhead, place, signatory and date, which are settings data, never constants.

Every text is NFC-normalised before output, so a name typed with combining accents prints and
extracts identically to the precomposed form; no other change is made to it.

The table content (section rows, numbering, subtotals, grand total) is computed once in
:func:`table_lines` and drawn by both the XLSX and the PDF renderer, so the two cannot disagree.
"""
from __future__ import annotations

import dataclasses
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Literal

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, VAlign, XPos, YPos
from fpdf.fonts import FontFace
from fpdf.table import Table
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from app.renderers import spreadsheet
from app.renderers.official import (
    FONT_DIR, NATIONAL_MOTTO_1, NATIONAL_MOTTO_2, PDF_FONT, add_fonts, draw_letterhead,
)
from app.renderers.official import date_line as official_date_line
from app.vnd import amount_in_words, format_vnd

DEFAULT_THRESHOLD = 50_000_000
DEFAULT_COMMENDATION_FORM = "Bằng khen của Chủ tịch UBND thành phố"


COLUMN_HEADINGS = (
    "STT",
    "Tên tập thể/cá nhân",
    "Địa chỉ",
    "Mã số thuế",
    "Số tiền ủng hộ (VNĐ)",
    "Hình thức đề nghị khen thưởng",
)
CSV_HEADINGS = (
    "STT",
    "Nhóm",
    "Tên",
    "Địa chỉ",
    "Mã số thuế",
    "Số tiền (VNĐ)",
    "Hình thức khen thưởng",
)
GROUP_ORGANIZATION = "Tập thể"
GROUP_INDIVIDUAL = "Cá nhân"
SECTION_ORGANIZATIONS = "I. TẬP THỂ"
SECTION_INDIVIDUALS = "II. CÁ NHÂN"
SUBTOTAL_ORGANIZATIONS = "Cộng I"
SUBTOTAL_INDIVIDUALS = "Cộng II"
GRAND_TOTAL = "TỔNG CỘNG (I + II)"
EMPTY_SECTION = "Không có"



# --------------------------------------------------------------------------- plain data


def _require_int(value: object, field: str) -> None:
    # bool is an int subclass and float/Decimal are never money here (VND has no minor unit).
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{field} must be an int, got {type(value).__name__}")


@dataclass(frozen=True, kw_only=True)
class CommendationRow:
    """One proposed organization or individual, with every text exactly as it is to be printed.

    ``title`` (e.g. "Ông", "Bà", or a position) is printed before the name, separated by one
    space: ``title="Bà", name="Trần Thị Bình"`` prints "Bà Trần Thị Bình" (see
    :func:`printed_name`). ``donation_count`` is informative only; the list does not print it.
    """

    name: str
    amount: int
    donation_count: int
    address: str | None = None
    tax_code: str | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a commendation row needs a name")
        _require_int(self.amount, "amount")
        _require_int(self.donation_count, "donation_count")
        if self.amount < 0:
            raise ValueError(f"amount must not be negative: {self.amount}")
        title = _nfc(self.title).strip()
        if title and _nfc(self.name).strip().lower().startswith(title.lower() + " "):
            # "Ông" + "Ông Nguyễn Văn An" would print "Ông Ông Nguyễn Văn An".
            raise ValueError(f"the name {self.name!r} already starts with its title {self.title!r}")


@dataclass(frozen=True, kw_only=True)
class CommendationDocument:
    """Everything printed on the list. Rows are printed in the order given (never re-sorted).

    ``year`` is the year of the donations (the list is sent early the next year, so
    ``document_date.year`` is usually ``year + 1``). ``submission_number`` is printed as
    "Số: …" under the proposing body; pass it for a frozen list, ``None`` for a draft (the line
    is then left out). Every row must have reached ``threshold``: the subtitle says so.
    """

    year: int
    parent_agency: str
    proposing_body: str
    city: str
    organizations: Sequence[CommendationRow]
    individuals: Sequence[CommendationRow]
    signatory_title: str
    signatory_name: str
    document_date: date
    threshold: int = DEFAULT_THRESHOLD
    commendation_form: str = DEFAULT_COMMENDATION_FORM
    submission_number: str | None = None

    def __post_init__(self) -> None:
        # Stored as tuples, so the rows validated here are the rows printed.
        object.__setattr__(self, "organizations", tuple(self.organizations))
        object.__setattr__(self, "individuals", tuple(self.individuals))
        _require_int(self.year, "year")
        _require_int(self.threshold, "threshold")
        if self.threshold <= 0:
            raise ValueError("threshold must be positive")
        if not isinstance(self.document_date, date):
            raise TypeError("document_date must be a date")
        for group, rows in (("organizations", self.organizations), ("individuals", self.individuals)):
            for row in rows:
                if not isinstance(row, CommendationRow):
                    raise TypeError(f"{group} must hold CommendationRow, got {type(row).__name__}")
                if row.amount < self.threshold:
                    raise ValueError(
                        f"{row.name!r} gave {row.amount} đồng, below the threshold {self.threshold}"
                    )

    @property
    def organizations_total(self) -> int:
        return sum(row.amount for row in self.organizations)

    @property
    def individuals_total(self) -> int:
        return sum(row.amount for row in self.individuals)

    @property
    def grand_total(self) -> int:
        return self.organizations_total + self.individuals_total

    @property
    def is_draft(self) -> bool:
        """The live list, not a frozen submission: it has no submission number yet."""
        return self.submission_number is None


# --------------------------------------------------------------------------- shared text


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text) if text else ""


def printed_name(row: CommendationRow) -> str:
    """The name as it appears in every format: "<title> <name>", or just the name."""
    name = _nfc(row.name).strip()
    title = _nfc(row.title).strip()
    return f"{title} {name}" if title else name


def title_lines(doc: CommendationDocument) -> tuple[str, str, str]:
    """The title as printed: "DANH SÁCH" on its own line, then the rest in two lines broken
    at the phrase boundary (so "TẬP THỂ" is never split across lines)."""
    return (
        "DANH SÁCH",
        "ĐỀ NGHỊ CHỦ TỊCH ỦY BAN NHÂN DÂN THÀNH PHỐ TẶNG BẰNG KHEN CHO CÁC TẬP THỂ, CÁ NHÂN",
        f"CÓ THÀNH TÍCH ĐÓNG GÓP, ỦNG HỘ QUỸ BẢO TRỢ TRẺ EM THÀNH PHỐ NĂM {doc.year}",
    )


def title_for(doc: CommendationDocument) -> str:
    """The title on one line, for the file name, document properties and e-mail subjects."""
    return " ".join(title_lines(doc))


def subtitle_for(doc: CommendationDocument) -> str:
    return f"(Tổng giá trị ủng hộ từ {format_vnd(doc.threshold, symbol=False)} đồng trở lên)"


def date_line(doc: CommendationDocument) -> str:
    """"Hải Phòng, ngày 05 tháng 02 năm 2024".

    Decree 30/2020/NĐ-CP (document format): a day below 10 and the months 1 and 2 take a
    leading zero; other months do not ("tháng 3", "tháng 12").
    """
    return official_date_line(doc.city, doc.document_date)


def number_line(doc: CommendationDocument) -> str:
    return f"Số: {_nfc(doc.submission_number)}" if doc.submission_number else ""


def summary_line(doc: CommendationDocument) -> str:
    return (
        f"Tổng số: {len(doc.organizations)} tập thể, {len(doc.individuals)} cá nhân; "
        f"tổng số tiền ủng hộ: {format_vnd(doc.grand_total, symbol=False)} đồng."
    )


def words_line(doc: CommendationDocument) -> str:
    return f"(Bằng chữ: {amount_in_words(doc.grand_total)})"


def _signatory_title_lines(doc: CommendationDocument) -> list[str]:
    # "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC" is two lines; keep the lines the settings give.
    return [line.strip() for line in _nfc(doc.signatory_title).splitlines() if line.strip()]


@dataclass(frozen=True)
class TableLine:
    """One printed line of the table, shared by the XLSX and PDF renderers."""

    kind: Literal["section", "row", "empty", "subtotal", "total"]
    stt: int | None = None
    name: str = ""
    address: str = ""
    tax_code: str = ""
    amount: int | None = None
    form: str = ""


def table_lines(doc: CommendationDocument) -> list[TableLine]:
    """Section heading, rows numbered from 1, "Không có" when empty, subtotal; then the total."""
    lines: list[TableLine] = []
    form = _nfc(doc.commendation_form)
    for heading, rows, subtotal_label in (
        (SECTION_ORGANIZATIONS, doc.organizations, SUBTOTAL_ORGANIZATIONS),
        (SECTION_INDIVIDUALS, doc.individuals, SUBTOTAL_INDIVIDUALS),
    ):
        lines.append(TableLine("section", name=heading))
        for stt, row in enumerate(rows, start=1):
            lines.append(
                TableLine(
                    "row",
                    stt=stt,
                    name=printed_name(row),
                    address=_nfc(row.address).strip(),
                    tax_code=_nfc(row.tax_code).strip(),
                    amount=row.amount,
                    form=form,
                )
            )
        if not rows:
            lines.append(TableLine("empty", name=EMPTY_SECTION))
        lines.append(
            TableLine("subtotal", name=subtotal_label, amount=sum(r.amount for r in rows))
        )
    lines.append(TableLine("total", name=GRAND_TOTAL, amount=doc.grand_total))
    return lines


# --------------------------------------------------------------------------- CSV

def render_csv(doc: CommendationDocument) -> bytes:
    """UTF-8 with BOM (so Excel shows the diacritics), CRLF line ends, one line per donor.

    Columns: STT (restarting at 1 per group), Nhóm ("Tập thể" / "Cá nhân"), Tên (as printed,
    title included), Địa chỉ, Mã số thuế, Số tiền (VNĐ) as a plain integer without separators,
    Hình thức khen thưởng. No section, subtotal or total lines: this file is for machines.
    (Excel opening it directly drops a tax code's leading zero; people get the XLSX, which
    stores tax codes as text.)
    Texts starting with = + - @ carry a leading apostrophe (:mod:`app.renderers.spreadsheet`).
    """
    form = _nfc(doc.commendation_form)
    rows = [
        [stt, group, printed_name(row), _nfc(row.address).strip(), _nfc(row.tax_code).strip(),
         row.amount, form]
        for group, members in ((GROUP_ORGANIZATION, doc.organizations), (GROUP_INDIVIDUAL, doc.individuals))
        for stt, row in enumerate(members, start=1)
    ]
    return spreadsheet.csv_bytes(CSV_HEADINGS, rows)


# --------------------------------------------------------------------------- XLSX

XLSX_FONT = "Times New Roman"
XLSX_COLUMN_WIDTHS = (6, 38, 38, 16, 18, 26)
XLSX_AMOUNT_FORMAT = "#,##0"
_LINE_HEIGHT_PT = 16.5


def _estimate_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs. Excel and LibreOffice do not grow rows for merged or
    explicitly-sized cells, so heights are set here, erring on the generous side."""
    chars_per_line = max(1.0, width * 1.05)
    total = 0
    for part in (text or "").split("\n"):
        words = part.split(" ")
        lines, current = 1, 0
        for word in words:
            needed = len(word) if current == 0 else current + 1 + len(word)
            if needed <= chars_per_line:
                current = needed
            else:
                lines += 1
                current = len(word)
                while current > chars_per_line:  # a word longer than the column
                    lines += 1
                    current -= int(chars_per_line)
        total += lines
    return total


def render_xlsx(doc: CommendationDocument) -> bytes:
    """One sheet "Danh sách {year}", ready to print on A4 landscape.

    Amounts are int cells formatted "#,##0" (the viewer shows its own thousands separator);
    subtotals and the grand total are plain ints computed here, not formulas, so every viewer
    shows them without recalculating.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = f"Danh sách {doc.year}"
    title = title_for(doc)
    wb.properties.title = title
    wb.properties.creator = _nfc(doc.proposing_body)

    ncols = len(COLUMN_HEADINGS)
    last_col = get_column_letter(ncols)
    for index, width in enumerate(XLSX_COLUMN_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    total_width = sum(XLSX_COLUMN_WIDTHS)
    left_width = sum(XLSX_COLUMN_WIDTHS[:3])
    right_width = total_width - left_width

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    right = Alignment(horizontal="right", vertical="center", wrap_text=True, indent=1)

    def font(bold: bool = False, italic: bool = False, size: float = 12, underline=None) -> Font:
        return Font(name=XLSX_FONT, size=size, bold=bold, italic=italic, underline=underline)

    def put(row: int, col: int, value, *, fnt: Font | None = None, align=None, fmt=None):
        cell = spreadsheet.put(ws, row, col, value)  # a text is never a formula
        cell.font = fnt or font()
        if align is not None:
            cell.alignment = align
        if fmt is not None:
            cell.number_format = fmt
        return cell

    def merged(row: int, first: int, last: int, value: str, *, fnt: Font, align=center) -> None:
        put(row, first, value, fnt=fnt, align=align)
        if last > first:
            ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)

    # Letterhead: agency and proposing body on the left, national motto on the right.
    parent, body = _nfc(doc.parent_agency), _nfc(doc.proposing_body)
    merged(1, 1, 3, parent, fnt=font(size=12))
    merged(1, 4, ncols, NATIONAL_MOTTO_1, fnt=font(bold=True, size=12))
    merged(2, 1, 3, body, fnt=font(bold=True, size=12))
    merged(2, 4, ncols, NATIONAL_MOTTO_2, fnt=font(bold=True, size=13, underline="single"))
    ws.row_dimensions[1].height = _LINE_HEIGHT_PT * max(
        _estimate_lines(parent, left_width), _estimate_lines(NATIONAL_MOTTO_1, right_width)
    )
    ws.row_dimensions[2].height = _LINE_HEIGHT_PT * _estimate_lines(body, left_width) + 2
    merged(3, 1, 3, number_line(doc), fnt=font(size=12))
    merged(3, 4, ncols, date_line(doc), fnt=font(italic=True, size=12))
    ws.row_dimensions[3].height = 24

    merged(5, 1, ncols, "\n".join(title_lines(doc)), fnt=font(bold=True, size=13))
    ws.row_dimensions[5].height = 20 * len(title_lines(doc)) + 4
    merged(6, 1, ncols, subtitle_for(doc), fnt=font(italic=True, size=12))
    ws.row_dimensions[6].height = 20

    header_row = 8
    for col, heading in enumerate(COLUMN_HEADINGS, start=1):
        put(header_row, col, heading, fnt=font(bold=True), align=center).border = border
    ws.row_dimensions[header_row].height = _LINE_HEIGHT_PT * 2 + 4

    row_index = header_row
    for line in table_lines(doc):
        row_index += 1
        bold = line.kind in ("section", "subtotal", "total")
        if line.kind == "section":
            put(row_index, 1, line.name, fnt=font(bold=True), align=left)
            for col in range(1, ncols + 1):
                ws.cell(row=row_index, column=col).border = border
            ws.merge_cells(start_row=row_index, start_column=1, end_row=row_index, end_column=ncols)
            ws.row_dimensions[row_index].height = _LINE_HEIGHT_PT + 4
            continue
        values = (line.stt, line.name, line.address, line.tax_code, line.amount, line.form)
        aligns = (center, left, left, center, right, left)
        for col, (value, align) in enumerate(zip(values, aligns), start=1):
            if value == "" or value is None:
                value = None
            cell = put(
                row_index,
                col,
                value,
                fnt=font(bold=bold, italic=line.kind == "empty"),
                align=align,
                fmt=XLSX_AMOUNT_FORMAT if col == 5 else None,
            )
            cell.border = border
        lines_needed = max(
            _estimate_lines(str(value or ""), width)
            for value, width in zip(values, XLSX_COLUMN_WIDTHS)
        )
        ws.row_dimensions[row_index].height = _LINE_HEIGHT_PT * lines_needed + 4

    # Summary, amount in words, then the signature block under the right-hand columns.
    row_index += 2
    merged(row_index, 1, ncols, summary_line(doc), fnt=font(size=12), align=left)
    ws.row_dimensions[row_index].height = _LINE_HEIGHT_PT + 2
    row_index += 1
    words = words_line(doc)
    merged(row_index, 1, ncols, words, fnt=font(italic=True, size=12), align=left)
    ws.row_dimensions[row_index].height = _LINE_HEIGHT_PT * _estimate_lines(words, total_width) + 2
    row_index += 2
    for line in _signatory_title_lines(doc):
        merged(row_index, 4, ncols, line, fnt=font(bold=True, size=13))
        ws.row_dimensions[row_index].height = _LINE_HEIGHT_PT + 2
        row_index += 1
    # Room for the signature and the seal.
    for _ in range(3):
        ws.row_dimensions[row_index].height = _LINE_HEIGHT_PT + 2
        row_index += 1
    merged(row_index, 4, ncols, _nfc(doc.signatory_name), fnt=font(bold=True, size=13))
    ws.row_dimensions[row_index].height = _LINE_HEIGHT_PT + 2

    # Freeze under the column headings; print on A4 landscape, one page wide, headings repeated.
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{last_col}{row_index}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = 0.6
    ws.page_margins.right = 0.4
    ws.page_margins.top = 0.6
    ws.page_margins.bottom = 0.75
    ws.page_margins.footer = 0.35
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.font = f"{XLSX_FONT},Italic"
    ws.oddFooter.center.size = 10
    ws.sheet_view.showGridLines = False

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- PDF

PDF_COLUMN_WIDTHS = (12, 68, 64, 34, 34, 50)  # mm, 262 in all = A4 landscape minus margins
PDF_MARGIN_LEFT = 20
PDF_MARGIN_RIGHT = 15
PDF_MARGIN_TOP = 15
PDF_MARGIN_BOTTOM = 15


DRAFT_STAMP = "DỰ THẢO"
DRAFT_NOTE = "Bản dự thảo: danh sách chưa chốt, không dùng để trình."
DRAFT_RED = (190, 20, 20)


class _CommendationPDF(FPDF):
    """Page number at the foot; on a draft, a "DỰ THẢO" stamp at the head of every page."""

    draft = False

    def header(self) -> None:
        if not self.draft:
            return
        # In the top margin, right-aligned: never over the letterhead or the table.
        # (fpdf2 restores the font, colours and line width after header().)
        right = self.w - PDF_MARGIN_RIGHT
        self.set_font(PDF_FONT, "B", 13)
        stamp_w = self.get_string_width(DRAFT_STAMP) + 8
        self.set_draw_color(*DRAFT_RED)
        self.set_text_color(*DRAFT_RED)
        self.set_line_width(0.6)
        self.set_xy(right - stamp_w, 4.5)
        self.cell(stamp_w, 8, DRAFT_STAMP, border=1, align="C")
        self.set_font(PDF_FONT, "I", 9)
        note_w = self.get_string_width(DRAFT_NOTE) + 2
        self.set_xy(right - stamp_w - 3 - note_w, 6.5)
        self.cell(note_w, 5, DRAFT_NOTE, align="R")
        self.set_text_color(0, 0, 0)
        self.set_xy(PDF_MARGIN_LEFT, PDF_MARGIN_TOP)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(PDF_FONT, "I", 9)
        self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="C")


class _KeepTogetherTable(Table):
    """A table that never leaves a section heading alone at the foot of a page, nor a
    subtotal or the grand total alone at the top of the next one.

    fpdf2 already keeps the rows of a rowspan together by giving the first row the height of
    the whole span for its page-break test; rows listed in ``keep_with_next`` get the same
    treatment, extended to the following row. ``tail_height`` is room the last row wants
    below it (the summary and signature block), so the final rows move to the next page with
    the signature rather than leaving it alone there. (Relies on fpdf2's private
    ``_compute_rows_info``, pinned at 2.8.9; if a later version renames it, the table still
    renders, just without this refinement.)
    """

    def __init__(
        self,
        *args,
        keep_with_next: frozenset[int] = frozenset(),
        tail_height: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._keep_with_next = keep_with_next
        self._tail_height = tail_height

    def _compute_rows_info(self):
        infos = list(super()._compute_rows_info())
        if infos and self._tail_height:
            infos[-1] = dataclasses.replace(
                infos[-1], pagebreak_height=infos[-1].pagebreak_height + self._tail_height
            )
        for i in range(len(infos) - 2, -1, -1):
            if i in self._keep_with_next:
                infos[i] = dataclasses.replace(
                    infos[i],
                    pagebreak_height=infos[i].pagebreak_height
                    + self._gutter_height
                    + infos[i + 1].pagebreak_height,
                )
        return infos


def _keep_with_next(lines: list[TableLine]) -> frozenset[int]:
    """Table row indices (0 is the heading row) that must stay on the page of the next row."""
    keep = set()
    for index, line in enumerate(lines):
        row = index + 1
        following = lines[index + 1].kind if index + 1 < len(lines) else None
        if line.kind == "section" or following in ("subtotal", "total"):
            keep.add(row)
    return frozenset(keep)


def render_pdf(doc: CommendationDocument) -> bytes:
    """A4 landscape with Noto Serif embedded, so the Vietnamese text extracts exactly.

    Same header, title, table and signature block as :func:`render_xlsx`; the table headings
    repeat on every page and long names and addresses wrap inside their cells.
    """
    pdf = _CommendationPDF(orientation="L", unit="mm", format="A4")
    pdf.draft = doc.is_draft
    add_fonts(pdf)
    pdf.set_margins(PDF_MARGIN_LEFT, PDF_MARGIN_TOP, PDF_MARGIN_RIGHT)
    pdf.set_auto_page_break(True, margin=PDF_MARGIN_BOTTOM + 3)
    title = title_for(doc)
    pdf.set_title(title)
    pdf.set_author(_nfc(doc.proposing_body))
    pdf.set_creator("Quỹ Bảo trợ trẻ em")
    # A fixed creation date (the document's own) makes the bytes reproducible for a frozen list.
    pdf.set_creation_date(
        datetime.combine(doc.document_date, time(0, 0), tzinfo=timezone.utc)
    )
    pdf.add_page()

    page_width = pdf.w - PDF_MARGIN_LEFT - PDF_MARGIN_RIGHT
    left_w = 112.0
    right_x = PDF_MARGIN_LEFT + left_w
    right_w = page_width - left_w
    x0 = PDF_MARGIN_LEFT
    line_y = draw_letterhead(pdf, parent_agency=doc.parent_agency, issuing_body=doc.proposing_body,
                             number_text=number_line(doc), date_text=date_line(doc), left_w=left_w,
                             margin_left=PDF_MARGIN_LEFT, page_width=page_width)

    # Title and subtitle.
    pdf.set_xy(x0, line_y + 12)
    first, *rest = title_lines(doc)
    pdf.set_font(PDF_FONT, "B", 14)
    pdf.multi_cell(page_width, 7, first, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(PDF_FONT, "B", 13)
    for text in rest:
        pdf.multi_cell(page_width, 6.4, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(PDF_FONT, "I", 12)
    pdf.multi_cell(page_width, 6.4, subtitle_for(doc), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    # Summary, amount in words and the signature block stay together, and with the last rows
    # of the table: a signature alone on a page, with nothing it signs, is not acceptable on
    # an official document. Their height is measured before the table is drawn.
    sig_lines = _signatory_title_lines(doc)
    pdf.set_font(PDF_FONT, "", 12)
    summary_height = pdf.multi_cell(page_width, 6, summary_line(doc), dry_run=True, output="HEIGHT")
    pdf.set_font(PDF_FONT, "I", 12)
    words_height = pdf.multi_cell(page_width, 6, words_line(doc), dry_run=True, output="HEIGHT")
    block_height = 3 + summary_height + words_height + 4 + 6.4 * len(sig_lines) + 26 + 6.4

    # The table.
    pdf.set_font(PDF_FONT, "", 11)
    bold = FontFace(emphasis="B")
    italic = FontFace(emphasis="I")
    lines = table_lines(doc)
    table = _KeepTogetherTable(
        pdf,
        keep_with_next=_keep_with_next(lines),
        tail_height=block_height,
        col_widths=PDF_COLUMN_WIDTHS,
        width=page_width,
        text_align=("CENTER", "LEFT", "LEFT", "CENTER", "RIGHT", "LEFT"),
        v_align=VAlign.M,
        line_height=5.4,
        padding=(1.4, 1.6),
        headings_style=bold,
        borders_layout=TableBordersLayout.ALL,
        repeat_headings=1,
        first_row_as_headings=True,
    )
    heading = table.row()
    for text in COLUMN_HEADINGS:
        heading.cell(text, align="CENTER")
    for line in lines:
        row = table.row()
        if line.kind == "section":
            row.cell(line.name, colspan=len(COLUMN_HEADINGS), align="LEFT", style=bold)
            continue
        style = bold if line.kind in ("subtotal", "total") else italic if line.kind == "empty" else None
        amount = format_vnd(line.amount, symbol=False) if line.amount is not None else ""
        row.cell("" if line.stt is None else str(line.stt), style=style)
        row.cell(line.name, style=style)
        row.cell(line.address, style=style)
        row.cell(line.tax_code, style=style)
        row.cell(amount, style=style)
        row.cell(line.form, style=style)
    table.render()

    if pdf.will_page_break(block_height):  # only if the table could not make room above
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(PDF_FONT, "", 12)
    pdf.multi_cell(page_width, 6, summary_line(doc), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(PDF_FONT, "I", 12)
    pdf.multi_cell(page_width, 6, words_line(doc), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    # Centred under the national motto and the date line, as on the Center's letters.
    sig_w, sig_x = right_w, right_x
    pdf.set_font(PDF_FONT, "B", 13)
    for text in sig_lines:
        pdf.set_x(sig_x)
        pdf.cell(sig_w, 6.4, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(26)
    pdf.set_x(sig_x)
    pdf.cell(sig_w, 6.4, _nfc(doc.signatory_name), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    return bytes(pdf.output())

"""Donation receipts (giấy chứng nhận ủng hộ) and annual donor statements as PDF.

Plain data in, ``bytes`` out: nothing here knows about Flask or the database, so the
web download, the e-mail sender and a CLI batch all share this module::

    renderer = ReceiptRenderer(fund)              # once per process: parses the fonts
    pdf_bytes = renderer.render_receipt(receipt)  # then a few ms per document
    pdf_bytes = renderer.render_statement(statement)

Output is deterministic: the same data gives the same bytes (the PDF creation date is
the issue date), whatever was rendered before.

This module is the layout, top to bottom: the data a document shows, the renderer,
the receipt (:func:`draw_receipt`), the annual statement (:func:`draw_statement`), the
parts they share (letterhead, title, fields, signature block, void stamp), then the
text writer and the QR code. Wording, sizes and positions are changed here.

Fonts are :mod:`app.renderers.pdf_fonts`'s business: a :class:`~app.renderers.pdf_fonts.FontLibrary`
parses the faces once and gives every document copies that share font programs, which
makes a receipt ~50 times faster than ``FPDF.add_font`` per document. The drawing code
is the same either way. ``ReceiptRenderer(fund, reuse_fonts=False)`` is the plain fpdf2
path; the tests and ``bench/receipts.py`` render the same documents both ways and compare
the text (pdftotext) and the pixels. The fast path is only used with the fpdf2 versions
in :data:`FAST_PATH_FPDF_VERSIONS`; with another the renderer logs a warning and uses the
plain path.

For speed the drawing avoids fpdf2 calls that are slow for what they do here:
``multi_cell`` and ``get_string_width`` (:class:`_Writer` wraps and measures text itself,
with caches), ``FPDF.text`` (:func:`~app.renderers.pdf_fonts.text_emitter` writes the same
bytes) and ~400 ``rect`` calls per QR code (one path written at once; the symbol is
encoded by zxing-cpp, in C++).
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal, NamedTuple

import fpdf
import zxingcpp
from fpdf import FPDF
from fpdf.drawing_primitives import DeviceRGB
from fpdf.enums import PathPaintRule, RenderStyle
from fpdf.fonts import TTFFont

from app.renderers import pdf_fonts
from app.renderers.pdf_fonts import FAST_PATH_FPDF_VERSIONS, FontLibrary
from app.vnd import amount_in_words, format_vnd

__all__ = [
    "FAST_PATH_FPDF_VERSIONS",
    "FundInfo",
    "ReceiptData",
    "ReceiptRenderer",
    "ReceiptTranslation",
    "StatementData",
    "StatementLine",
    "draw_receipt",
    "draw_statement",
    "render_receipt",
    "render_statement",
    "vietnamese_date_line",
]

LOGGER = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT_FAMILY = "NotoSerif"
#: (style, file) of the faces a receipt uses. Bold-italic is not used, so not embedded.
FONT_FACES = (
    ("", "NotoSerif-Regular.ttf"),
    ("B", "NotoSerif-Bold.ttf"),
    ("I", "NotoSerif-Italic.ttf"),
)
_FACE_PATHS = tuple((style, FONT_DIR / filename) for style, filename in FONT_FACES)

DonorKind = Literal["individual", "organization"]
_DONOR_KINDS = ("individual", "organization")


# ---------------------------------------------------------------------------
# Plain data
# ---------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class FundInfo:
    """Who issues the document: letterhead and signature. Staff-editable data, not constants."""

    fund_name: str  # "Quỹ Bảo trợ trẻ em thành phố Hải Phòng"
    parent_agency: str  # "Sở Lao động - Thương binh và Xã hội thành phố Hải Phòng"
    address: str
    phone: str
    signatory_name: str
    signatory_title: str  # "Giám đốc"; one line each: "KT. Giám đốc\nPhó Giám đốc"
    email: str | None = None
    city: str = "Hải Phòng"  # for "Hải Phòng, ngày 05 tháng 6 năm 2024"


@dataclass(frozen=True, kw_only=True)
class ReceiptTranslation:
    """The facts of a receipt in English, for its courtesy translation page (a donor whose
    language is English). Already resolved by the caller: the label texts in English, the
    date and the amount written the English way. Names, addresses and descriptions are the
    donor's own and stay as typed."""

    issued_on: str  # "5 June 2024"
    amount: str  # "50,000,000 ₫"
    channel_label: str  # "Bank transfer"
    purpose: str  # "General fund, no designated purpose"


@dataclass(frozen=True, kw_only=True)
class ReceiptData:
    """One receipt, already resolved to display values (local time, Vietnamese labels)."""

    number: str  # "BTTE-2024-000123"
    issued_at_local: datetime  # already in Asia/Ho_Chi_Minh
    donor_name: str
    donor_kind: DonorKind
    amount: int  # whole đồng (for in-kind gifts: their assessed value)
    channel_label: str  # "Chuyển khoản ngân hàng"
    purpose: str
    verify_url: str
    tax_code: str | None = None  # organizations only (MST)
    donor_address: str | None = None
    void: bool = False
    void_reason: str | None = None
    replaces_number: str | None = None  # printed "Thay thế giấy chứng nhận số …"
    in_kind_description: str | None = None
    #: When set, a second page: an English courtesy translation of the Vietnamese receipt,
    #: which alone is the official document (the first page is the same either way).
    translation: ReceiptTranslation | None = None

    def __post_init__(self) -> None:
        _check_donor_kind(self.donor_kind)
        _check_amount(self.amount, "amount", allow_negative=False)


class StatementLine(NamedTuple):
    """One row of an annual statement; a reversal or refund has a negative amount."""

    received_at_local: datetime | date
    receipt_number: str | None
    description: str
    amount: int


@dataclass(frozen=True, kw_only=True)
class StatementData:
    """A donor's annual statement (bảng tổng hợp ủng hộ năm ...)."""

    year: int
    donor_name: str
    donor_kind: DonorKind
    lines: Sequence[StatementLine]  # plain 4-tuples are accepted and converted
    net_total: int
    issued_on: date  # local date
    tax_code: str | None = None
    donor_address: str | None = None
    statement_number: str | None = None
    verify_url: str | None = None

    def __post_init__(self) -> None:
        _check_donor_kind(self.donor_kind)
        lines = tuple(StatementLine(*line) for line in self.lines)
        object.__setattr__(self, "lines", lines)
        for line in lines:
            _check_amount(line.amount, "line amount", allow_negative=True)
        _check_amount(self.net_total, "net_total", allow_negative=True)
        total = sum(line.amount for line in lines)
        if total != self.net_total:
            raise ValueError(
                f"net_total {self.net_total} does not match the sum of the lines ({total})"
            )


def _check_donor_kind(kind: str) -> None:
    if kind not in _DONOR_KINDS:
        raise ValueError(f"donor_kind must be one of {_DONOR_KINDS}, not {kind!r}")


def _check_amount(value: object, name: str, *, allow_negative: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of đồng, not {type(value).__name__}")
    if value < 0 and not allow_negative:
        raise ValueError(f"{name} must not be negative")


# ---------------------------------------------------------------------------
# The renderer
# ---------------------------------------------------------------------------

class ReceiptRenderer:
    """Renders receipts and statements for one fund. Create once, reuse for every document.

    ``reuse_fonts=True`` (default) parses the fonts once and gives every document copies
    that share font programs (:class:`app.renderers.pdf_fonts.FontLibrary`); ``False``
    adds the fonts to every document with ``FPDF.add_font`` (the reference the fast path
    is compared against). The fast path is only used with the fpdf2 versions it was
    checked against (:data:`FAST_PATH_FPDF_VERSIONS`); ``self.fast`` tells which path is
    in use.

    Safe to share between threads: per-document state lives in the document.
    """

    def __init__(self, fund: FundInfo, *, reuse_fonts: bool = True) -> None:
        self.fund = fund
        self.fast = reuse_fonts and pdf_fonts.fast_path_supported()
        if reuse_fonts and not self.fast:
            LOGGER.warning(
                "fpdf2 %s is not one of %s: receipts use the slow font path",
                fpdf.FPDF_VERSION, sorted(FAST_PATH_FPDF_VERSIONS),
            )
        self._fonts = FontLibrary(FONT_FAMILY, _FACE_PATHS) if self.fast else None

    def _document(self) -> FPDF:
        if self._fonts is not None:
            pdf = self._fonts.new_document()
        else:
            pdf = pdf_fonts.plain_document(FONT_FAMILY, _FACE_PATHS)
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN_L, MARGIN_T, MARGIN_R)
        pdf.set_creator("Quỹ Bảo trợ trẻ em - hệ thống quản lý ủng hộ")
        return pdf

    def render_receipt(self, data: ReceiptData) -> bytes:
        """One receipt as PDF bytes."""
        pdf = self._document()
        draw_receipt(pdf, self.fund, data)
        return pdf_fonts.document_bytes(pdf)

    def render_statement(self, data: StatementData) -> bytes:
        """One donor's annual statement as PDF bytes."""
        pdf = self._document()
        draw_statement(pdf, self.fund, data)
        return pdf_fonts.document_bytes(pdf)


_RENDERERS: dict[FundInfo, ReceiptRenderer] = {}


def _renderer_for(fund: FundInfo) -> ReceiptRenderer:
    renderer = _RENDERERS.get(fund)
    if renderer is None:
        if len(_RENDERERS) > 8:  # fund details are edited rarely; keep the cache small
            _RENDERERS.clear()
        renderer = _RENDERERS[fund] = ReceiptRenderer(fund)
    return renderer


def render_receipt(fund: FundInfo, data: ReceiptData) -> bytes:
    """Convenience: ``ReceiptRenderer(fund).render_receipt(data)``, with the renderer cached."""
    return _renderer_for(fund).render_receipt(data)


def render_statement(fund: FundInfo, data: StatementData) -> bytes:
    """Convenience: ``ReceiptRenderer(fund).render_statement(data)``, with the renderer cached."""
    return _renderer_for(fund).render_statement(data)


# ---------------------------------------------------------------------------
# Page geometry
# ---------------------------------------------------------------------------

PT = 25.4 / 72  # one point in mm
BLACK = (0, 0, 0)
GREY = (85, 85, 85)
RED = (190, 20, 20)
RULE_GREY = (150, 150, 150)
FILL_GREY = (236, 236, 236)

FRAME_COLOR = (60, 60, 60)

PAGE_W, PAGE_H = 210.0, 297.0
FRAME_INSET = 10.0
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 22.0, 22.0, 20.0, 18.0
CONTENT_W = PAGE_W - MARGIN_L - MARGIN_R

BODY_SIZE = 13.0
BODY_LEADING = 1.5
SIGNATURE_ROOM = 28.0  # between the signatory's title and name: signature and seal


# ---------------------------------------------------------------------------
# The receipt
# ---------------------------------------------------------------------------

VIETNAM_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def _document_date(moment: datetime) -> datetime:
    """The PDF's CreationDate: when the document was issued, not when it was rendered,
    so that rendering the same receipt twice gives the same bytes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM_TZ)


def draw_receipt(pdf: FPDF, fund: FundInfo, data: ReceiptData) -> None:
    """Draw one receipt on *pdf*, whose fonts are already registered."""
    pdf.set_creation_date(_document_date(data.issued_at_local))
    pdf.set_title(f"Giấy chứng nhận ủng hộ số {_clean(data.number)}")
    pdf.set_author(_clean(fund.fund_name))
    pdf.set_lang("vi")
    _new_page(pdf)
    w = _Writer(pdf)
    y = _letterhead(w, fund, f"Số: {_clean(data.number)}", data.issued_at_local.date())
    subtitle = (
        f"(Thay thế giấy chứng nhận số {_clean(data.replaces_number)})"
        if data.replaces_number
        else None
    )
    y = _title(w, y + 9, "GIẤY CHỨNG NHẬN ỦNG HỘ", subtitle)
    if data.void:
        y = _void_notice(w, data.void_reason, y + 4)

    y = _paragraph(w, y + 7, f"{_clean(fund.fund_name)} trân trọng chứng nhận:") + 1.5
    organization = data.donor_kind == "organization"
    y = _field(w, y, "Tên đơn vị:" if organization else "Họ và tên:", _clean(data.donor_name), style="B")
    if organization and data.tax_code:
        y = _field(w, y, "Mã số thuế:", _clean(data.tax_code))
    if data.donor_address:
        y = _field(w, y, "Địa chỉ:", _clean(data.donor_address))
    y = _paragraph(w, y + 2.5, "Đã ủng hộ Quỹ:") + 0.5
    if data.in_kind_description:
        y = _field(w, y, "Hiện vật:", _clean(data.in_kind_description))
        y = _field(w, y, "Trị giá:", _money(data.amount), style="B")
    else:
        y = _field(w, y, "Số tiền:", _money(data.amount), style="B")
    y = _field(w, y, "Bằng chữ:", _words_sentence(data.amount), style="I")
    y = _field(w, y, "Hình thức:", _clean(data.channel_label))
    y = _field(w, y, "Mục đích:", _clean(data.purpose))

    thanks = (
        f"{_clean(fund.fund_name)} trân trọng cảm ơn tấm lòng vàng của Quý vị "
        "đối với trẻ em có hoàn cảnh đặc biệt."
    )
    y = _paragraph(w, y + 8, thanks, style="I", align="C", indent=8)
    # The signature follows the text, on a second page if an extraordinarily long text
    # leaves no room for it.
    top = y + 10
    if top + _signature_height(w, fund) > PAGE_H - MARGIN_B:
        _new_page(pdf)
        top = MARGIN_T
    _signature(w, top, fund, _clean(data.verify_url), "Quét mã để kiểm tra tính xác thực")
    if data.void:
        _void_stamp(w)
    if data.translation is not None:
        draw_courtesy_translation(pdf, fund, data, data.translation)


#: The courtesy page's notice: the law's document is the Vietnamese one.
COURTESY_NOTICE = "Courtesy translation — the Vietnamese receipt above is the official document"


def draw_courtesy_translation(pdf: FPDF, fund: FundInfo, data: ReceiptData, en: ReceiptTranslation) -> None:
    """A page after the receipt with the same facts in English, clearly marked as a
    courtesy translation. It has no signature, seal or QR code of its own: it is not a
    receipt, and points to the Vietnamese page, which is."""
    _new_page(pdf)
    w = _Writer(pdf)
    y = MARGIN_T
    w.font("B", 14)
    y = w.block(MARGIN_L, y, CONTENT_W, _clean(fund.fund_name).upper(), align="C", factor=1.3)
    # The notice, in a grey box across the page.
    w.font("B", 12)
    lines = w.wrap(COURTESY_NOTICE, CONTENT_W - 10)
    box_h = w.leading(1.35) * len(lines) + 6.0
    box_top = y + 5.0
    pdf.set_fill_color(*FILL_GREY)
    pdf.set_draw_color(*RULE_GREY)
    pdf.set_line_width(0.3)
    pdf.rect(MARGIN_L, box_top, CONTENT_W, box_h, style="DF")
    w.block(MARGIN_L + 5, box_top + 3.0, CONTENT_W - 10, "", align="C", factor=1.35, lines=lines)
    y = box_top + box_h
    w.font("I", 10.5, GREY)
    y = _paragraph_sized(w, y + 3.0, "This page is provided for the donor's convenience only. "
                         "It is not a receipt: in case of any difference, the Vietnamese text prevails.",
                         size=10.5, style="I", color=GREY, align="C")
    subtitle = (f"(Replaces receipt No. {_clean(data.replaces_number)})" if data.replaces_number else None)
    y = _title(w, y + 7, "DONATION RECEIPT", subtitle)
    w.font("", 12.5)
    y = w.block(MARGIN_L, y + 1.0, CONTENT_W, f"No. {_clean(data.number)} · issued on {_clean(en.issued_on)}",
                align="C", factor=1.4)
    if data.void:
        w.font("B", 13, RED)
        detail = f"VOID — this receipt is no longer valid. Reason: {_clean(data.void_reason)}" \
            if data.void_reason else "VOID — this receipt is no longer valid."
        y = w.block(MARGIN_L, y + 3.0, CONTENT_W, detail, align="C", factor=1.4)
    y = _paragraph(w, y + 7, f"{_clean(fund.fund_name)} hereby certifies that:") + 1.5
    organization = data.donor_kind == "organization"
    y = _field(w, y, "Organisation:" if organization else "Full name:", _clean(data.donor_name), style="B")
    if organization and data.tax_code:
        y = _field(w, y, "Tax code:", _clean(data.tax_code))
    if data.donor_address:
        y = _field(w, y, "Address:", _clean(data.donor_address))
    y = _paragraph(w, y + 2.5, "has donated to the Fund:") + 0.5
    if data.in_kind_description:
        y = _field(w, y, "In kind:", _clean(data.in_kind_description))
        y = _field(w, y, "Value:", _clean(en.amount), style="B")
    else:
        y = _field(w, y, "Amount:", _clean(en.amount), style="B")
    y = _field(w, y, "Method:", _clean(en.channel_label))
    y = _field(w, y, "Purpose:", _clean(en.purpose))
    y = _field(w, y, "Fund:", _clean(fund.fund_name))
    thanks = (f"{_clean(fund.fund_name)} sincerely thanks you for your generosity "
              "towards children in special circumstances.")
    y = _paragraph(w, y + 8, thanks, style="I", align="C", indent=8)
    signed = ", ".join(_clean(line) for line in fund.signatory_title.splitlines() if line.strip())
    y = _paragraph(w, y + 8, f"Signed and sealed on the Vietnamese original by {_clean(fund.signatory_name)}"
                   + (f" ({signed})" if signed else "") + ".")
    w.font("", 10.5)
    y = w.block(MARGIN_L, y + 4.0, CONTENT_W, "Check that this receipt is genuine at:", factor=1.35)
    _verify_url_line(w, y + 0.5, _clean(data.verify_url))


def _paragraph_sized(w: _Writer, top: float, text: str, *, size: float, style: str = "",
                     color: tuple[int, int, int] = BLACK, align: str = "L") -> float:
    w.font(style, size, color)
    lines = w.wrap(text, CONTENT_W)
    return w.block(MARGIN_L, top, CONTENT_W, "", align=align, factor=1.35, lines=lines)


# ---------------------------------------------------------------------------
# The annual statement
# ---------------------------------------------------------------------------

def draw_statement(pdf: FPDF, fund: FundInfo, data: StatementData) -> None:
    """Draw an annual statement, on as many pages as its lines need."""
    pdf.set_creation_date(_document_date(datetime.combine(data.issued_on, datetime.min.time())))
    pdf.set_title(f"Bảng tổng hợp ủng hộ năm {data.year} - {_clean(data.donor_name)}")
    pdf.set_author(_clean(fund.fund_name))
    pdf.set_lang("vi")
    _new_page(pdf)
    w = _Writer(pdf)
    number = f"Số: {_clean(data.statement_number)}" if data.statement_number else None
    y = _letterhead(w, fund, number, data.issued_on)
    y = _title(w, y + 9, f"BẢNG TỔNG HỢP ỦNG HỘ NĂM {data.year}")
    y = _paragraph(w, y + 6, f"{_clean(fund.fund_name)} xác nhận:") + 1.5
    organization = data.donor_kind == "organization"
    y = _field(w, y, "Tên đơn vị:" if organization else "Họ và tên:", _clean(data.donor_name), style="B")
    if organization and data.tax_code:
        y = _field(w, y, "Mã số thuế:", _clean(data.tax_code))
    if data.donor_address:
        y = _field(w, y, "Địa chỉ:", _clean(data.donor_address))
    y = _paragraph(w, y + 2.5, f"đã ủng hộ Quỹ trong năm {data.year} các khoản sau:") + 2

    # What follows the table: the total, its words, the thanks and the signature block.
    # They stay together, and the last table rows stay with them, so that a page never
    # holds only a signature (see _KEEP_WITH_CLOSING).
    bottom_limit = PAGE_H - MARGIN_B
    thanks = (
        f"{_clean(fund.fund_name)} trân trọng cảm ơn tấm lòng vàng của Quý vị "
        "đối với trẻ em có hoàn cảnh đặc biệt."
    )
    total_h = 8.5
    w.font("I", BODY_SIZE)
    words_h = w.leading(BODY_LEADING) * 2 if data.net_total >= 0 else 0.0
    closing_h = (6 + _block_height(w, thanks, CONTENT_W - 16, BODY_LEADING) + 10
                 + _signature_height(w, fund, with_url=bool(_clean(data.verify_url))))
    rows = [(line, _row_lines(w, line)) for line in data.lines]
    heights = [_row_height(w, desc_lines) for _line, desc_lines in rows]
    kept_from = max(0, len(rows) - _KEEP_WITH_CLOSING)
    kept_h = sum(heights[kept_from:]) + total_h + 3 + words_h + closing_h
    if kept_h > bottom_limit - MARGIN_T - _TABLE_HEADER_H:  # more than a page: no keeping
        kept_from = len(rows)

    table_top = y
    y = _table_header(w, y)
    row_bottoms = [y]
    for index, (line, desc_lines) in enumerate(rows, start=1):
        overflows = y + heights[index - 1] > bottom_limit
        keep = index - 1 == kept_from and y + kept_h > bottom_limit and len(row_bottoms) > 1
        if overflows or keep:
            _table_grid(pdf, table_top, row_bottoms)
            _new_page(pdf)
            table_top = MARGIN_T
            y = _table_header(w, table_top)
            row_bottoms = [y]
        y = _table_row(w, y, index, line, desc_lines)
        row_bottoms.append(y)
    if not data.lines:
        w.font("I", _TABLE_SIZE)
        w.line(MARGIN_L, y + 5.4, "Không có khoản ủng hộ nào trong năm.", "C", CONTENT_W)
        y += 8.0
        row_bottoms.append(y)
    _table_grid(pdf, table_top, row_bottoms)

    if y + total_h + 3 + words_h > bottom_limit:  # the total and its words go together
        _new_page(pdf)
        y = _table_header(w, MARGIN_T)
        _table_grid(pdf, MARGIN_T, [y])
    pdf.set_fill_color(*FILL_GREY)
    pdf.set_draw_color(*RULE_GREY)
    pdf.set_line_width(0.2)
    amount_w = _COLUMNS[-1][1]
    pdf.rect(MARGIN_L, y, CONTENT_W - amount_w, total_h, style="DF")
    pdf.rect(MARGIN_L + CONTENT_W - amount_w, y, amount_w, total_h, style="DF")
    w.font("B", 11)
    w.line(MARGIN_L + _CELL_PAD, y + 5.8, "Tổng cộng", "L")
    w.line(
        MARGIN_L + CONTENT_W - amount_w + _CELL_PAD, y + 5.8,
        _money(data.net_total), "R", amount_w - 2 * _CELL_PAD,
    )
    y += total_h + 3

    if data.net_total >= 0:  # the total in words stays with the total
        y = _field(w, y, "Bằng chữ:", _words_sentence(data.net_total), style="I")
    if y + closing_h > bottom_limit:
        _new_page(pdf)
        y = MARGIN_T
    y = _paragraph(w, y + 6, thanks, style="I", align="C", indent=8)
    _signature(w, y + 10, fund, _clean(data.verify_url) or None, "Quét mã để kiểm tra tính xác thực")
    number = f"Số: {_clean(data.statement_number)}" if data.statement_number else None
    running = " · ".join(filter(None, (f"Bảng tổng hợp ủng hộ năm {data.year}", number, _clean(data.donor_name))))
    _page_numbers(w, running)


# Statement table columns: (title, width, align)
_COLUMNS = (
    ("STT", 10.0, "C"),
    ("Ngày", 22.0, "C"),
    ("Số giấy CN", 33.0, "C"),
    ("Nội dung", 69.0, "L"),
    ("Số tiền", 32.0, "R"),
)
_CELL_PAD = 1.6
_TABLE_SIZE = 10.0
_TABLE_HEADER_H = 8.0
#: Table rows that go to the next page with the total and the signature block rather than
#: leave them alone on it.
_KEEP_WITH_CLOSING = 2


def _table_header(w: _Writer, top: float) -> float:
    """The shaded header row (its rules are drawn by _table_grid); returns its bottom."""
    pdf = w.pdf
    height = _TABLE_HEADER_H
    pdf.set_fill_color(*FILL_GREY)
    pdf.rect(MARGIN_L, top, CONTENT_W, height, style=RenderStyle.F)
    x = MARGIN_L
    w.font("B", _TABLE_SIZE)
    for title, width, _align in _COLUMNS:
        w.line(x, top + 5.4, title, "C", width)
        x += width
    return top + height


def _table_grid(pdf: FPDF, top: float, row_bottoms: list[float]) -> None:
    """Rules of one page's part of the table: a line under each row, and the columns.

    (Lines rather than a rectangle per cell: five times fewer drawing calls.)
    """
    pdf.set_draw_color(*RULE_GREY)
    pdf.set_line_width(0.2)
    right = MARGIN_L + CONTENT_W
    for y in (top, *row_bottoms):
        pdf.line(MARGIN_L, y, right, y)
    bottom = row_bottoms[-1]
    x = MARGIN_L
    pdf.line(x, top, x, bottom)
    for _title, width, _align in _COLUMNS:
        x += width
        pdf.line(x, top, x, bottom)


def _row_lines(w: _Writer, line: StatementLine) -> list[str]:
    w.font("", _TABLE_SIZE)
    return w.wrap(_clean(line.description), _COLUMNS[3][1] - 2 * _CELL_PAD)


def _row_height(w: _Writer, desc_lines: list[str]) -> float:
    return _TABLE_SIZE * PT * 1.3 * len(desc_lines) + 2.6


def _table_row(w: _Writer, top: float, index: int, line: StatementLine, desc_lines: list[str]) -> float:
    pdf = w.pdf
    w.font("", _TABLE_SIZE)
    step = w.leading(1.3)
    height = _row_height(w, desc_lines)
    received = line.received_at_local
    day = received.date() if isinstance(received, datetime) else received
    cells = (
        [str(index)],
        [f"{day.day:02d}/{day.month:02d}/{day.year}"],
        [_clean(line.receipt_number) or "—"],
        desc_lines,
        [_money(line.amount)],
    )
    x = MARGIN_L
    for (_title_, width, align), texts in zip(_COLUMNS, cells):
        baseline = top + 1.3 + _TABLE_SIZE * PT * 0.95
        for text in texts:
            w.line(x + _CELL_PAD, baseline, text, align, width - 2 * _CELL_PAD)
            baseline += step
        x += width
    return top + height


def _page_numbers(w: _Writer, running_header: str | None = None) -> None:
    """"Trang x/y" at the foot of every page of a document of two pages or more, and
    *running_header* (what the document is, and whose) at the top of every page but the
    first, which has the letterhead."""
    pdf = w.pdf
    total = pdf.pages_count
    if total < 2:
        return
    for page in range(1, total + 1):
        pdf.page = page  # back to an earlier page, as fpdf2 allows
        # fpdf2 remembers that the font was selected on the page it left, not this one.
        pdf.current_font_is_set_on_page = False
        w.font("", 9, GREY)
        w.line(MARGIN_L, PAGE_H - FRAME_INSET - 4.5, f"Trang {page}/{total}", "C", CONTENT_W)
        if running_header and page > 1:
            header = running_header
            if w.width(header) > CONTENT_W:  # a very long donor name: one line, cut short
                header = w.wrap(header, CONTENT_W - w.width("…"))[0] + "…"
            w.line(MARGIN_L, MARGIN_T - 4.0, header, "C", CONTENT_W)
    pdf.page = total


# ---------------------------------------------------------------------------
# Parts both documents use
# ---------------------------------------------------------------------------

def _frame(pdf: FPDF) -> None:
    """A thin double border, as on printed certificates."""
    pdf.set_draw_color(*FRAME_COLOR)
    pdf.set_line_width(0.7)
    pdf.rect(FRAME_INSET, FRAME_INSET, PAGE_W - 2 * FRAME_INSET, PAGE_H - 2 * FRAME_INSET)
    pdf.set_line_width(0.25)
    inner = FRAME_INSET + 1.4
    pdf.rect(inner, inner, PAGE_W - 2 * inner, PAGE_H - 2 * inner)


def _new_page(pdf: FPDF) -> None:
    pdf.add_page()
    _frame(pdf)


def _letterhead(w: _Writer, fund: FundInfo, number_label: str | None, day: date) -> float:
    """Parent agency, fund (bold), contact details, a rule; then "Số: …" and the dateline.

    Returns the y below the dateline.
    """
    pdf = w.pdf
    y = MARGIN_T
    w.font("", 12)
    y = w.block(MARGIN_L, y, CONTENT_W, _clean(fund.parent_agency).upper(), align="C", factor=1.3)
    w.font("B", 14)
    y = w.block(MARGIN_L, y, CONTENT_W, _clean(fund.fund_name).upper(), align="C", factor=1.3)
    w.font("", 9.5, GREY)
    contact = f"Địa chỉ: {_clean(fund.address)}"
    y = w.block(MARGIN_L, y + 0.8, CONTENT_W, contact, align="C", factor=1.35)
    reach = [f"Điện thoại: {_clean(fund.phone)}"]
    if fund.email:
        reach.append(f"Email: {_clean(fund.email)}")
    y = w.block(MARGIN_L, y, CONTENT_W, "   ·   ".join(reach), align="C", factor=1.35)
    y += 2.0
    pdf.set_draw_color(*BLACK)
    pdf.set_line_width(0.5)
    pdf.line(MARGIN_L, y, MARGIN_L + CONTENT_W, y)
    pdf.set_line_width(0.2)
    pdf.line(MARGIN_L, y + 0.9, MARGIN_L + CONTENT_W, y + 0.9)

    baseline = y + 8.5
    if number_label:
        w.font("", 12.5)
        w.line(MARGIN_L, baseline, number_label)
    w.font("I", 12.5)
    w.line(MARGIN_L, baseline, vietnamese_date_line(_clean(fund.city), day), "R", CONTENT_W)
    return baseline + 3.0


def _title(w: _Writer, top: float, title: str, subtitle: str | None = None) -> float:
    w.font("B", 20)
    y = w.block(MARGIN_L, top, CONTENT_W, title, align="C", factor=1.3)
    if subtitle:
        w.font("I", 12)
        y = w.block(MARGIN_L, y, CONTENT_W, subtitle, align="C", factor=1.4)
    return y


def _room(w: _Writer, top: float, height: float) -> float:
    """*top*, or the top of a new page if *height* does not fit above the bottom margin."""
    fits_on_a_page = height <= PAGE_H - MARGIN_B - MARGIN_T
    if top + height > PAGE_H - MARGIN_B and top > MARGIN_T and fits_on_a_page:
        _new_page(w.pdf)
        return MARGIN_T
    return top


def _field(
    w: _Writer,
    top: float,
    label: str,
    value: str,
    *,
    style: str = "",
    size: float = BODY_SIZE,
    color: tuple[int, int, int] = BLACK,
) -> float:
    """``Label: value`` on one line; a long value wraps under itself (hanging indent).

    Label and value are one line of text, so text extraction reads "Số tiền: 50.000.000 ₫".
    """
    label_text = f"{label} "
    label_w = w.width_in("", BODY_SIZE, label_text)
    w.font(style, size, color)
    lines = w.wrap(value, CONTENT_W - label_w)
    top = _room(w, top, w.leading(BODY_LEADING) * len(lines))
    w.font("", BODY_SIZE)
    w.line(MARGIN_L, top + BODY_SIZE * PT * (0.5 * (BODY_LEADING - 1) + 0.8), label_text)
    w.font(style, size, color)
    return w.block(MARGIN_L + label_w, top, CONTENT_W - label_w, "", factor=BODY_LEADING, lines=lines)


def _paragraph(w: _Writer, top: float, text: str, style: str = "", align: str = "L", indent: float = 0.0) -> float:
    w.font(style, BODY_SIZE)
    lines = w.wrap(text, CONTENT_W - 2 * indent)
    top = _room(w, top, w.leading(BODY_LEADING) * len(lines))
    return w.block(MARGIN_L + indent, top, CONTENT_W - 2 * indent, "", align=align, factor=BODY_LEADING, lines=lines)


URL_SIZE = 7.5  # the verification URL under the signature block; smaller if it is long
URL_MIN_SIZE = 5.0


def _signature_height(w: _Writer, fund: FundInfo, *, with_url: bool = True) -> float:
    """Height of the block _signature draws (the QR code side is ~41 mm), and of the
    verification URL line under it."""
    title_lines = len(fund.signatory_title.splitlines()) or 1
    height = max(BODY_SIZE * PT * 1.35 * (title_lines + 1) + SIGNATURE_ROOM, 41.0) + 1.0
    return height + (1.0 + URL_SIZE * PT * 1.3 if with_url else 0.0)


def _signature(
    w: _Writer, top: float, fund: FundInfo, verify_url: str | None, qr_caption: str
) -> float:
    """Signatory on the right (title, room to sign and stamp, name); QR code on the left;
    under both, the verification URL on one line (see _verify_url_line)."""
    pdf = w.pdf
    col_w = 84.0
    col_x = MARGIN_L + CONTENT_W - col_w
    w.font("B", BODY_SIZE)
    y = top
    for title_line in fund.signatory_title.splitlines():
        y = w.block(col_x, y, col_w, _clean(title_line).upper(), align="C", factor=1.35)
    name_top = y + SIGNATURE_ROOM
    bottom = w.block(col_x, name_top, col_w, _clean(fund.signatory_name), align="C", factor=1.35)

    if verify_url:
        qr_side = 27.0
        x0, y0 = MARGIN_L + 2.0, top + 1.0
        _draw_qr(pdf, verify_url, x0, y0, qr_side)
        pdf.link(x0, y0, qr_side, qr_side, verify_url)
        caption_w = 70.0
        w.font("I", 9, GREY)
        cy = w.block(MARGIN_L, y0 + qr_side + 1.5, caption_w, qr_caption, factor=1.3)
        bottom = _verify_url_line(w, max(bottom, cy) + 1.0, verify_url)
    return bottom


def _verify_url_line(w: _Writer, top: float, url: str) -> float:
    """The verification URL on one line across the page, as a link: text extraction and
    copy-paste then give the whole URL (a URL wrapped over lines came out broken). The
    font shrinks for a long URL; one too long even at URL_MIN_SIZE wraps after all."""
    pdf = w.pdf
    width = w.width_in("", URL_SIZE, url)
    size = URL_SIZE if width <= CONTENT_W else max(URL_MIN_SIZE, URL_SIZE * CONTENT_W / width * 0.995)
    w.font("", size, GREY)
    lines = w.wrap(url, CONTENT_W)
    bottom = w.block(MARGIN_L, top, CONTENT_W, "", factor=1.3, lines=lines)
    line_w = max(w.width(line) for line in lines)
    pdf.link(MARGIN_L, top, line_w, bottom - top, url)
    return bottom


def _void_notice(w: _Writer, reason: str | None, top: float) -> float:
    """A red box under the title: the receipt is void, and why."""
    pdf = w.pdf
    detail = f"Lý do: {_clean(reason)}" if reason else "Giấy chứng nhận này không còn giá trị."
    box_x, box_w = MARGIN_L + 10, CONTENT_W - 20
    w.font("", 11.5, RED)
    detail_lines = w.wrap(detail, box_w - 10)
    box_h = 11.0 + w.leading(1.35) * len(detail_lines) + 2.0
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.6)
    pdf.rect(box_x, top, box_w, box_h)
    w.font("B", 15, RED)
    w.line(box_x, top + 7.6, "ĐÃ HỦY — giấy chứng nhận không còn giá trị", "C", box_w)
    w.font("", 11.5, RED)
    w.block(box_x + 5, top + 10.2, box_w - 10, "", align="C", factor=1.35, lines=detail_lines)
    return top + box_h


def _void_stamp(w: _Writer) -> None:
    """A large, translucent, diagonal "ĐÃ HỦY" in a box across the page.

    The letters are drawn as outlines, not text, so that text extraction reads the
    notice under the title once rather than stray rotated letters across the body.
    The outline is computed once and written as one string (see _draw_qr).
    """
    pdf = w.pdf
    size = 88.0
    text = "ĐÃ HỦY"
    font = pdf.fonts[f"{FONT_FAMILY.lower()}B"]
    assert isinstance(font, TTFFont)
    advance, ops = pdf_fonts.text_outline(font, text)
    scale = size * PT / font.ttfont["head"].unitsPerEm
    text_w = advance * scale
    cx, cy = PAGE_W / 2, PAGE_H / 2
    x0, baseline = cx - text_w / 2, cy + size * PT * 0.36
    box_w, box_h = text_w + 16, size * PT * 1.25
    with pdf.rotation(32, cx, cy):
        with pdf.local_context(stroke_opacity=0.35):
            pdf.set_draw_color(*RED)
            pdf.set_line_width(2.0)
            pdf.rect(cx - box_w / 2, cy - box_h / 2, box_w, box_h)
        out = getattr(pdf, "_out", None)
        if out is not None:
            with pdf.local_context(fill_opacity=0.22):
                pdf.set_fill_color(*RED)
                out(pdf_fonts.text_outline_path(font, text, size, x0, baseline, pdf))
            return
        with pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:  # the public way
            path.style.fill_color = DeviceRGB(*(c / 255 for c in RED))
            path.style.fill_opacity = 0.22

            def point(i: int, pts: tuple[float, ...]) -> tuple[float, float]:
                return x0 + pts[i] * scale, baseline - pts[i + 1] * scale

            for op, pts in ops:
                if op == "M":
                    path.move_to(*point(0, pts))
                elif op == "L":
                    path.line_to(*point(0, pts))
                elif op == "Q":
                    path.quadratic_curve_to(*point(0, pts), *point(2, pts))
                elif op == "C":
                    path.curve_to(*point(0, pts), *point(2, pts), *point(4, pts))
                else:
                    path.close()


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

def vietnamese_date_line(city: str, day: date) -> str:
    """``"Hải Phòng, ngày 05 tháng 6 năm 2024"``, the dateline of an administrative document.

    Decree 30/2020/NĐ-CP (Appendix I, I.5): a day below 10 and the months 1 and 2 are
    written with a leading zero ("ngày 05 tháng 02"), other months without ("tháng 6").
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{city}, ngày {day.day:02d} tháng {month} năm {day.year}"


# Characters the font lacks but that people paste in, and what to print instead.
_REPLACEMENTS = str.maketrans({"\u2212": "-", "\u00ad": None, "\u200b": None, "\ufeff": None})
_SPACES = re.compile(r"[ \t\r\n\u00a0\u2007\u202f]+")


@functools.lru_cache(maxsize=4096)
def _clean(text: str | None) -> str:
    """NFC-normalise (decomposed Vietnamese from some keyboards), fold whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).translate(_REPLACEMENTS)
    return _SPACES.sub(" ", text).strip()


def _money(amount: int) -> str:
    return format_vnd(amount, space=" ")  # the PDF's own line breaking keeps it whole


def _words_sentence(amount: int) -> str:
    words = amount_in_words(amount)
    return words if words.endswith(".") else words + "."


#: (font key, text) -> advance width in 1/1000 em. Words repeat across documents.
_WIDTH_CACHE: dict[tuple[str, str], float] = {}
#: (font key, size, width, text) -> wrapped lines. Fund texts repeat across documents.
_WRAP_CACHE: dict[tuple[str, float, float, str], tuple[str, ...]] = {}


class _Writer:
    """Positioned text on an FPDF page, with greedy word wrapping.

    Only ``FPDF.text()`` (no ``cell``/``multi_cell``): fpdf2's line breaker re-measures
    the whole line for every character, which costs milliseconds per paragraph. Here a
    word is measured once.
    """

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self._font: tuple[str, float] | None = None
        self._color: tuple[int, int, int] | None = None
        self._text = pdf_fonts.text_emitter(pdf)

    def font(self, style: str = "", size: float = 12.0, color: tuple[int, int, int] = BLACK) -> None:
        if self._font != (style, size):
            self.pdf.set_font(FONT_FAMILY, style, size)
            self._font = (style, size)
        if self._color != color:
            self.pdf.set_text_color(*color)
            self._color = color

    @property
    def size(self) -> float:
        assert self._font is not None
        return self._font[1]

    def width_in(self, style: str, size: float, text: str) -> float:
        """Width of *text* in mm in another style and size, without selecting that font."""
        font = self.pdf.fonts[f"{FONT_FAMILY.lower()}{style}"]
        key = (font.fontkey, text)
        units = _WIDTH_CACHE.get(key)
        if units is None:
            widths = font.cw
            units = _WIDTH_CACHE[key] = sum([widths[ord(char)] for char in text])
        return units * size * 0.001 / self.pdf.k

    def width(self, text: str) -> float:
        """Width of *text* in mm, as FPDF.get_string_width() computes it for a TTF font.

        Computed directly from the font's advance widths: get_string_width() prepares
        markdown and bidirectional text on every call, and was 80 % of the drawing time.
        """
        font = self.pdf.current_font
        assert isinstance(font, TTFFont)
        key = (font.fontkey, text)
        units = _WIDTH_CACHE.get(key)
        if units is None:
            widths = font.cw
            units = sum([widths[ord(char)] for char in text])
            if len(_WIDTH_CACHE) >= 100_000:
                _WIDTH_CACHE.clear()
            _WIDTH_CACHE[key] = units
        return units * self.pdf.font_size_pt * 0.001 / self.pdf.k

    def wrap(self, text: str, width: float) -> list[str]:
        """Split *text* into lines no wider than *width* (words longer than that are cut)."""
        font = self.pdf.current_font
        assert isinstance(font, TTFFont)
        key = (font.fontkey, self.pdf.font_size_pt, width, text)
        lines = _WRAP_CACHE.get(key)
        if lines is None:
            lines = self._wrap(text, width)
            if len(_WRAP_CACHE) >= 20_000:
                _WRAP_CACHE.clear()
            _WRAP_CACHE[key] = lines
        return list(lines)

    def _wrap(self, text: str, width: float) -> tuple[str, ...]:
        space = self.width(" ")
        lines: list[str] = []
        current: list[str] = []
        current_w = 0.0
        for word in text.split(" "):
            if not word:
                continue
            word_w = self.width(word)
            if word_w > width:  # a URL, an account number...: cut it
                if current:
                    lines.append(" ".join(current))
                piece, piece_w = "", 0.0
                for char in word:
                    char_w = self.width(char)
                    if piece and piece_w + char_w > width:
                        # A line ending in "-" reads as a hyphenated word to text
                        # extraction, which then drops the "-": carry it over.
                        carry = "-" if piece.endswith("-") and len(piece) > 1 else ""
                        lines.append(piece[: len(piece) - len(carry)])
                        piece, piece_w = carry, self.width(carry) if carry else 0.0
                    piece += char
                    piece_w += char_w
                current, current_w = [piece], piece_w
                continue
            needed = word_w if not current else current_w + space + word_w
            if current and needed > width:
                lines.append(" ".join(current))
                current, current_w = [word], word_w
            else:
                current.append(word)
                current_w = needed
        if current:
            lines.append(" ".join(current))
        return tuple(lines) or ("",)

    def line(self, x: float, baseline: float, text: str, align: str = "L", width: float = 0.0) -> None:
        if not text:
            return
        if align != "L":
            text_w = self.width(text)
            x = x + (width - text_w) / (2 if align == "C" else 1)
        self._text(x, baseline, text)

    def leading(self, factor: float = 1.4) -> float:
        return self.size * PT * factor

    def block(
        self,
        x: float,
        top: float,
        width: float,
        text: str,
        *,
        align: str = "L",
        factor: float = 1.4,
        lines: list[str] | None = None,
    ) -> float:
        """Write wrapped *text* whose first line box starts at *top*; return the y below it.

        A line that would cross the bottom margin goes to the top of a new page.
        """
        if lines is None:
            lines = self.wrap(text, width)
        step = self.leading(factor)
        to_baseline = self.size * PT * (0.5 * (factor - 1) + 0.8)
        for text_line in lines:
            if top + step > PAGE_H - MARGIN_B and top > MARGIN_T:
                _new_page(self.pdf)
                top = MARGIN_T
            self.line(x, top + to_baseline, text_line, align, width)
            top += step
        return top


def _block_height(w: _Writer, text: str, width: float, factor: float = 1.4) -> float:
    return w.leading(factor) * len(w.wrap(text, width))


# ---------------------------------------------------------------------------
# QR code as vector rectangles
# ---------------------------------------------------------------------------

_DARK_RUN = re.compile(rb"\x00+")  # zxing-cpp images: 0x00 dark, 0xFF light


def _qr_path(url: str) -> tuple[int, str]:
    """(modules per side, PDF path of the dark modules in module units, y down).

    One rectangle per run of dark modules in a row: ``col row length 1 re``. The symbol
    is encoded by zxing-cpp (C++, error correction level M, best mask, the most compact
    mix of modes): ~0.3 ms for a verification URL, where pure-Python segno took ~2 ms.
    """
    symbol = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = symbol.to_image(scale=1, add_quiet_zones=False)
    size = image.shape[0]
    pixels = bytes(image)
    stride = size + 1  # rows joined with a light separator module
    joined = b"\xff".join([pixels[start : start + size] for start in range(0, len(pixels), size)])
    spans = [match.span() for match in _DARK_RUN.finditer(joined)]
    return size, " ".join([f"{s % stride} {s // stride} {e - s} 1 re" for s, e in spans])


def _draw_qr(pdf: FPDF, url: str, x: float, y: float, side: float) -> None:
    """Draw the QR code of *url* as filled rectangles, top-left at (x, y), *side* mm wide.

    All rectangles form one path in a coordinate system of one unit per module, filled
    once: integer coordinates (short to write), and no hairline seams between adjacent
    rectangles in anti-aliasing viewers. Written with one call to FPDF._out: ~300
    calls to FPDF.rect() were a quarter of the time to draw a receipt. (No image
    detour: fpdf2 would encode, or parse, an image on every receipt.)
    """
    size, path = _qr_path(url)
    module = side / size
    k = pdf.k
    # Module units: x to the right, y down from the top-left corner of the symbol.
    matrix = f"{module * k:.4f} 0 0 {-module * k:.4f} {x * k:.2f} {(pdf.h - y) * k:.2f} cm"
    out = getattr(pdf, "_out", None)
    if out is not None:
        out(f"q 0 g {matrix}\n{path} f Q")
        return
    # Not fpdf2 as we know it: the public, slower way.
    numbers = path.split()
    for index in range(0, len(numbers), 5):
        col, row, length = (int(n) for n in numbers[index : index + 3])
        pdf.rect(x + col * module, y + row * module, length * module, module, style=RenderStyle.F)

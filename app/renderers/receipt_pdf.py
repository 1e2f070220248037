"""Donation receipts (giấy chứng nhận ủng hộ) and annual donor statements as PDF.

Plain data in, ``bytes`` out: nothing here knows about Flask or the database, so the
web download, the e-mail sender and a CLI batch all share this module::

    renderer = ReceiptRenderer(fund)              # once per process: parses the fonts
    pdf_bytes = renderer.render_receipt(receipt)  # then a few ms per document
    pdf_bytes = renderer.render_statement(statement)

Output is deterministic: the same data gives the same bytes (the PDF creation date is
the issue date), whatever was rendered before.

Why a renderer object, and what the fast path does
--------------------------------------------------
With ``FPDF.add_font`` + ``FPDF.output`` for every document, fontTools parses Noto
Serif (3 000+ glyphs) and then subsets and re-serialises it, three faces per receipt:
~95 % of the ~180 ms a receipt took. ``ReceiptRenderer`` instead

1. parses each face once (``FPDF.add_font`` on a scratch document) and gives every new
   document light copies of those ``TTFFont`` objects, sharing the parsed font and
   metrics but with their own used-glyph map (:class:`_DocumentGlyphs`), so documents
   never see each other's glyphs;
2. fixes the code of each Latin/Vietnamese character once per face
   (:class:`_GlyphPlan`), so that a glyph's outline, width and ToUnicode entry are
   the same bytes in every document and can be prepared, and compressed, once;
3. writes the embedded fonts itself (:class:`_SharedFontOutputProducer`). Every
   document embeds the glyphs of ASCII, the Vietnamese alphabet and common
   punctuation (:data:`_CORE`), used or not, so nearly every document has the same
   font programs, built and compressed once per face (~22 kB each). A character
   outside that set is added, for the documents that show it, from deflate pieces
   compressed once, plus ~1 kB of per-document tables.

It also avoids fpdf2 calls that are slow for what they do here: ``multi_cell`` and
``get_string_width`` (we wrap and measure text ourselves, with caches), ``FPDF.text``
(:func:`_shared_font_text` writes the same bytes), and ~400 ``rect`` calls per QR
code (one path written at once; the symbol is encoded by zxing-cpp, in C++).

Step 3 plugs in through ``FPDF.output(output_producer_class=...)``, fpdf2's own
extension point, but builds on fpdf2 internals (``OutputProducer._add_fonts``,
``SubsetMap``, ``PDFObject``, ``FPDF._out``), so the fast path is only used with the
fpdf2 versions in :data:`FAST_PATH_FPDF_VERSIONS`, which ``tests/test_receipt_pdf.py``
checks. With another version the renderer logs a warning and uses the plain path.

``ReceiptRenderer(fund, reuse_fonts=False)`` is the plain path: ``add_font`` on every
document and fpdf2's own font embedding. The tests and ``bench/receipts.py`` render
the same documents both ways and compare the text (pdftotext) and the pixels.
"""

from __future__ import annotations

import copy
import functools
import itertools
import logging
import re
import struct
import threading
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal, NamedTuple

import fpdf
import zxingcpp
from fpdf import FPDF
from fpdf.drawing_primitives import DeviceRGB
from fpdf.enums import PathPaintRule, RenderStyle, TextMode
from fpdf.fonts import CoreFont, Glyph, SubsetMap, TTFFont
from fpdf.output import OutputProducer, PDFFont, _build_cmap_blocks
from fpdf.syntax import Name, PDFContentStream, PDFObject, Raw
from fontTools.pens.basePen import BasePen

from app.vnd import amount_in_words, format_vnd

__all__ = [
    "FAST_PATH_FPDF_VERSIONS",
    "FundInfo",
    "ReceiptData",
    "ReceiptRenderer",
    "StatementData",
    "StatementLine",
    "render_receipt",
    "render_statement",
    "vietnamese_date_line",
]

LOGGER = logging.getLogger(__name__)

#: fpdf2 versions whose internals the fast font path has been checked against.
FAST_PATH_FPDF_VERSIONS = frozenset({"2.8.9"})

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT_FAMILY = "NotoSerif"
#: (style, file) of the faces a receipt uses. Bold-italic is not used, so not embedded.
FONT_FACES = (
    ("", "NotoSerif-Regular.ttf"),
    ("B", "NotoSerif-Bold.ttf"),
    ("I", "NotoSerif-Italic.ttf"),
)

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
# Text helpers
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
    return format_vnd(amount)


def _words_sentence(amount: int) -> str:
    words = amount_in_words(amount)
    return words if words.endswith(".") else words + "."


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


# ---------------------------------------------------------------------------
# Layout
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
        fast = isinstance(pdf, _SharedFontPDF)
        self._text = functools.partial(_shared_font_text, pdf) if fast else pdf.text

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


def _shared_font_text(pdf: FPDF, x: float, y: float, text: str) -> None:
    """What ``FPDF.text(x, y, text)`` writes (the same bytes, which a test checks) for
    what these documents use: a TTF font, fill mode, no underline, strike-through or
    tagged-PDF quad points; anything else goes to ``FPDF.text``.

    ``FPDF.text`` spends most of its time in decorators and checks for features that
    are off here; a statement writes ~100 lines of text. The plain path uses ``FPDF.text``.
    """
    if pdf.underline or pdf.strikethrough or pdf.text_mode != TextMode.FILL or pdf._record_text_quad_points:
        pdf.text(x, y, text)
        return
    font = pdf.current_font
    if not pdf.current_font_is_set_on_page:
        pdf._out(pdf._set_font_for_page(font, pdf.font_size_pt))
    k = pdf.k
    operators = f"BT {x * k:.2f} {(pdf.h - y) * k:.2f} Td {font.encode_text(text)} ET"
    if pdf.fill_color != pdf.text_color:
        operators = f"q {pdf.text_color.serialize().lower()} {operators} Q"
    pdf._out(operators)


def _block_height(w: _Writer, text: str, width: float, factor: float = 1.4) -> float:
    return w.leading(factor) * len(w.wrap(text, width))


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


BODY_SIZE = 13.0
BODY_LEADING = 1.5


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


SIGNATURE_ROOM = 28.0  # between the signatory's title and name: signature and seal


def _signature_height(w: _Writer, fund: FundInfo) -> float:
    """Height of the block _signature draws (the QR code side is ~41 mm)."""
    title_lines = len(fund.signatory_title.splitlines()) or 1
    return max(BODY_SIZE * PT * 1.35 * (title_lines + 1) + SIGNATURE_ROOM, 41.0) + 1.0


def _signature(
    w: _Writer, top: float, fund: FundInfo, verify_url: str | None, qr_caption: str
) -> float:
    """Signatory on the right (title, room to sign and stamp, name); QR code on the left."""
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
        caption_w = 70.0
        w.font("I", 9, GREY)
        cy = w.block(MARGIN_L, y0 + qr_side + 1.5, caption_w, qr_caption, factor=1.3)
        w.font("", 7.5, GREY)
        cy = w.block(MARGIN_L, cy, caption_w, verify_url, factor=1.3)
        bottom = max(bottom, cy)
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


class _OutlinePen(BasePen):
    """Records a glyph outline as path operations, in font units, y up."""

    def __init__(self, glyph_set: object) -> None:
        super().__init__(glyph_set)
        self.ops: list[tuple[str, tuple[float, ...]]] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(("M", pt))

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(("L", pt))

    def _qCurveToOne(self, pt1: tuple[float, float], pt2: tuple[float, float]) -> None:
        self.ops.append(("Q", (*pt1, *pt2)))

    def _curveToOne(self, pt1: tuple[float, float], pt2: tuple[float, float], pt3: tuple[float, float]) -> None:
        self.ops.append(("C", (*pt1, *pt2, *pt3)))

    def _closePath(self) -> None:
        self.ops.append(("Z", ()))


_OUTLINES: dict[tuple[str, str], tuple[float, list[tuple[str, tuple[float, ...]]]]] = {}
_OUTLINES_LOCK = threading.Lock()


def _text_outline(font: TTFFont, text: str) -> tuple[float, list[tuple[str, tuple[float, ...]]]]:
    """(advance, path ops) of *text* in font units: text drawn as shapes, not as characters.

    Cached per font file, and computed under a lock because the parsed font may be shared
    by documents rendered in other threads.
    """
    key = (str(font.ttffile), text)
    with _OUTLINES_LOCK:
        cached = _OUTLINES.get(key)
        if cached is None:
            glyph_set = font.ttfont.getGlyphSet()
            cmap = font.cmap
            ops: list[tuple[str, tuple[float, ...]]] = []
            x = 0.0
            for char in text:
                name = cmap.get(ord(char))
                if name is None:
                    continue
                pen = _OutlinePen(glyph_set)
                glyph_set[name].draw(pen)
                for op, pts in pen.ops:
                    ops.append((op, tuple(v + (x if i % 2 == 0 else 0) for i, v in enumerate(pts))))
                x += glyph_set[name].width
            cached = _OUTLINES[key] = (x, ops)
    return cached


_STAMP_PATHS: dict[tuple[str, str, float, float, float], str] = {}


def _outline_path(font: TTFFont, text: str, size: float, x: float, baseline: float, pdf: FPDF) -> str:
    """PDF path operators (page coordinates) drawing *text* at (x, baseline), cached."""
    key = (str(font.ttffile), text, size, x, baseline)
    path = _STAMP_PATHS.get(key)
    if path is None:
        _advance, ops = _text_outline(font, text)
        scale = size * PT / font.ttfont["head"].unitsPerEm
        k, page_h = pdf.k, pdf.h

        def point(fx: float, fy: float) -> tuple[float, float]:
            return (x + fx * scale) * k, (page_h - baseline + fy * scale) * k

        parts: list[str] = []
        current = (0.0, 0.0)
        for op, pts in ops:
            if op == "M" or op == "L":
                current = point(*pts)
                parts.append(f"{current[0]:.2f} {current[1]:.2f} {'m' if op == 'M' else 'l'}")
            elif op == "Q":  # quadratic -> cubic Bézier
                (cx, cy), end = point(pts[0], pts[1]), point(pts[2], pts[3])
                c1 = (current[0] + 2 / 3 * (cx - current[0]), current[1] + 2 / 3 * (cy - current[1]))
                c2 = (end[0] + 2 / 3 * (cx - end[0]), end[1] + 2 / 3 * (cy - end[1]))
                parts.append(
                    f"{c1[0]:.2f} {c1[1]:.2f} {c2[0]:.2f} {c2[1]:.2f} {end[0]:.2f} {end[1]:.2f} c"
                )
                current = end
            elif op == "C":
                c1, c2, end = point(*pts[0:2]), point(*pts[2:4]), point(*pts[4:6])
                parts.append(
                    f"{c1[0]:.2f} {c1[1]:.2f} {c2[0]:.2f} {c2[1]:.2f} {end[0]:.2f} {end[1]:.2f} c"
                )
                current = end
            else:
                parts.append("h")
        path = _STAMP_PATHS[key] = "\n".join(parts) + "\nf"
    return path


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
    advance, ops = _text_outline(font, text)
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
                out(_outline_path(font, text, size, x0, baseline, pdf))
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


def _table_header(w: _Writer, top: float) -> float:
    """The shaded header row (its rules are drawn by _table_grid); returns its bottom."""
    pdf = w.pdf
    height = 8.0
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


def _page_numbers(w: _Writer) -> None:
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
    pdf.page = total


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

    bottom_limit = PAGE_H - MARGIN_B
    table_top = y
    y = _table_header(w, y)
    row_bottoms = [y]
    for index, line in enumerate(data.lines, start=1):
        desc_lines = _row_lines(w, line)
        if y + _row_height(w, desc_lines) > bottom_limit:
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

    total_h = 8.5
    w.font("I", BODY_SIZE)
    words_h = w.leading(BODY_LEADING) * 2 if data.net_total >= 0 else 0.0
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
    thanks = (
        f"{_clean(fund.fund_name)} trân trọng cảm ơn tấm lòng vàng của Quý vị "
        "đối với trẻ em có hoàn cảnh đặc biệt."
    )
    w.font("I", BODY_SIZE)
    closing_h = 6 + _block_height(w, thanks, CONTENT_W - 16, BODY_LEADING) + 10 + _signature_height(w, fund)
    if y + closing_h > bottom_limit:
        _new_page(pdf)
        y = MARGIN_T
    y = _paragraph(w, y + 6, thanks, style="I", align="C", indent=8)
    _signature(w, y + 10, fund, _clean(data.verify_url) or None, "Quét mã để kiểm tra tính xác thực")
    _page_numbers(w)


# ---------------------------------------------------------------------------
# Fonts: parse once, embed fast
# ---------------------------------------------------------------------------
#
# Every document gets light copies of pre-parsed TTFFont objects whose used-glyph map
# is a _DocumentGlyphs: the character -> glyph code assignment is planned once per face
# (a _GlyphPlan over the Latin and Vietnamese repertoire) instead of in order of first
# use, so that code == glyph index in the embedded font (CIDToGIDMap /Identity), and the
# glyph outlines, widths and ToUnicode entries of a code are the same in every document.
# A document embeds only the glyphs it uses (plus composite components), assembled
# from deflate pieces compressed once: see _GlyphPlan.font_program.

#: Characters given fixed codes: Latin-1, Latin Extended-A, Ơ ơ Ư ư, the Vietnamese
#: block, general punctuation, ₫ € №. Others get per-document codes (still embedded).
_REPERTOIRE = (
    (0x20, 0x7E), (0xA0, 0x17F), (0x1A0, 0x1A1), (0x1AF, 0x1B0), (0x1EA0, 0x1EF9),
    (0x2010, 0x2027), (0x2030, 0x203A), (0x20AB, 0x20AC), (0x2116, 0x2116),
)
#: Characters whose glyphs every document embeds, used or not: ASCII, the Vietnamese
#: alphabet and the punctuation the fund's texts use. A document written in them (nearly
#: all) then has the same font program as every other, built once per face and reused;
#: other characters are added to the subset only for the documents that show them.
_CORE = frozenset(
    [chr(c) for c in range(0x20, 0x7F)]
    + list("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúýĂăĐđĨĩŨũƠơƯư")
    + [chr(c) for c in range(0x1EA0, 0x1EFA)]
    + list("\u00a0–—‘’“”…·₫№")
)
_BLOCK = 32  # glyphs per pre-compressed piece
_BLOCK_MASK = (1 << _BLOCK) - 1
_BLOCK_CACHE_LIMIT = 4096
_PROGRAM_CACHE_LIMIT = 128  # per face; a font program is 10-20 kB


def _deflate_piece(data: bytes, level: int = 9) -> bytes:
    """Raw deflate of *data*, flushed to a byte boundary: pieces concatenate into one stream."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


_DEFLATE_END = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # empty final block


def _deflate_block(data: bytes) -> bytes:
    """_deflate_piece for a block of glyphs (a few kB): an 8 kB window is plenty, and
    zlib sets up a small window much faster than its default 32 kB one."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -13, 5)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _deflate_stored(data: bytes) -> bytes:
    """*data* as uncompressed deflate blocks (for a few hundred bytes not worth compressing)."""
    blocks = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        blocks.append(struct.pack("<BHH", 0, len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(blocks)


def _zlib_stream(pieces: Sequence[bytes], raw: Iterable[bytes]) -> bytes:
    """A zlib stream (as FlateDecode wants) from deflate *pieces* of the data *raw*."""
    adler = 1
    for chunk in raw:
        adler = zlib.adler32(chunk, adler)
    return b"".join([b"\x78\x9c", *pieces, _DEFLATE_END, struct.pack(">I", adler)])


def _checksum(data: bytes) -> int:
    """OpenType table checksum (*data* padded to a multiple of 4 bytes)."""
    if len(data) % 4:
        data = data + b"\0" * (4 - len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _components(data: bytes) -> list[tuple[int, int]]:
    """(offset of the glyph index, glyph index) of each component of a composite glyph."""
    if len(data) < 10 or struct.unpack_from(">h", data, 0)[0] >= 0:
        return []
    found = []
    pos = 10
    while True:
        flags, component = struct.unpack_from(">HH", data, pos)
        found.append((pos + 2, component))
        pos += 4 + (4 if flags & 0x0001 else 2)
        if flags & 0x0008:
            pos += 2
        elif flags & 0x0040:
            pos += 4
        elif flags & 0x0080:
            pos += 8
        if not flags & 0x0020:
            return found


class _TrueType:
    """The tables of a TrueType (glyf) font file, split per glyph."""

    CONSTANT_TABLES = ("OS/2", "cvt ", "fpgm", "gasp", "name", "prep")

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        sfnt_version, num_tables = struct.unpack_from(">IH", data, 0)
        if sfnt_version not in (0x00010000, 0x74727565):
            raise ValueError(f"{path.name} is not a TrueType (glyf) font")
        tables: dict[str, bytes] = {}
        for index in range(num_tables):
            tag, _sum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
            tables[tag.decode("latin-1")] = data[offset : offset + length]
        missing = {"head", "hhea", "maxp", "hmtx", "loca", "glyf", "post"} - tables.keys()
        if missing:
            raise ValueError(f"{path.name} lacks tables {sorted(missing)}")
        self.head, self.hhea, self.maxp = tables["head"], tables["hhea"], tables["maxp"]
        self.post3 = struct.pack(">I", 0x00030000) + tables["post"][4:32]  # no glyph names
        self.constant = {tag: tables[tag] for tag in self.CONSTANT_TABLES if tag in tables}
        num_glyphs = struct.unpack_from(">H", self.maxp, 4)[0]
        long_loca = struct.unpack_from(">h", self.head, 50)[0] == 1
        loca = struct.unpack_from(f">{num_glyphs + 1}{'I' if long_loca else 'H'}", tables["loca"])
        offsets = loca if long_loca else tuple(2 * o for o in loca)
        num_metrics = struct.unpack_from(">H", self.hhea, 34)[0]
        hmtx, glyf = tables["hmtx"], tables["glyf"]
        self.glyphs: list[bytes] = []
        self.metrics: list[tuple[int, int]] = []
        advance = 0
        for gid in range(num_glyphs):
            if gid < num_metrics:
                advance, lsb = struct.unpack_from(">Hh", hmtx, 4 * gid)
            else:
                (lsb,) = struct.unpack_from(">h", hmtx, 4 * num_metrics + 2 * (gid - num_metrics))
            self.glyphs.append(glyf[offsets[gid] : offsets[gid + 1]])
            self.metrics.append((advance, lsb))


class _Block(NamedTuple):
    piece: bytes  # raw deflate, b"" if no glyph of the block is used
    raw: bytes
    checksum: int
    halves: tuple[int, ...]  # length of each glyph / 2
    widths: str  # entries of the CIDFont /W array for the block's characters


class _FontProgram(NamedTuple):
    stream: bytes  # zlib (FlateDecode) stream of the TrueType font program
    length: int  # uncompressed size (/Length1)
    widths: str  # the CIDFont /W array


class _GlyphPlan:
    """One face's fixed code assignment and everything that can be computed from it once.

    New glyph indices: 0 is .notdef, 1..n the repertoire characters in code point order
    (glyph index == character code), then the glyphs only used as components of
    composite glyphs. Codes for characters outside the repertoire are handed out per
    document after those (see _DocumentGlyphs) and their glyphs built per document.
    """

    def __init__(self, font: TTFFont, truetype: _TrueType) -> None:
        self.truetype = truetype
        self.gid_by_name = {name: gid for gid, name in enumerate(font.ttfont.getGlyphOrder())}
        cmap = font.cmap
        self.code_of: dict[int, int] = {}
        self.glyph_of_code: list[Glyph | None] = [None]
        originals = [0]  # original glyph index of each new glyph index
        for first, last in _REPERTOIRE:
            for codepoint in range(first, last + 1):
                name = cmap.get(codepoint)
                if name is None:
                    continue
                self.code_of[codepoint] = len(originals)
                self.glyph_of_code.append(
                    Glyph(self.gid_by_name[name], (codepoint,), name, int(font.cw[codepoint]))
                )
                originals.append(self.gid_by_name[name])
        # Component-only glyphs, then rewrite components to new indices.
        new_of_original: dict[int, int] = {}
        for new, original in enumerate(originals):
            new_of_original.setdefault(original, new)
        index = 0
        while index < len(originals):
            for _pos, component in _components(truetype.glyphs[originals[index]]):
                if component not in new_of_original:
                    new_of_original[component] = len(originals)
                    originals.append(component)
            index += 1
        self.new_of_original = new_of_original
        self.core = 1  # bit set of .notdef and the _CORE glyphs, components added below
        self.count = len(originals)
        self.data: list[bytes] = []
        self.parts: list[tuple[int, ...]] = []  # direct components, new indices
        for original in originals:
            data = bytearray(truetype.glyphs[original])
            parts = []
            for pos, component in _components(truetype.glyphs[original]):
                struct.pack_into(">H", data, pos, new_of_original[component])
                parts.append(new_of_original[component])
            self.data.append(_pad4(bytes(data)))
            self.parts.append(tuple(parts))
        # bits[gid]: the glyph and all its components, as a bit set (an int).
        self.bits: list[int] = []
        for gid in range(self.count):
            mask = 1 << gid
            for part in self._closure(gid):
                mask |= 1 << part
            self.bits.append(mask)
        for char in _CORE:
            code = self.code_of.get(ord(char))
            if code is not None:
                self.core |= self.bits[code]
        self.block_count = (self.count + _BLOCK - 1) // _BLOCK
        self.hmtx = b"".join(struct.pack(">Hh", *truetype.metrics[o]) for o in originals)
        self.hmtx_piece = _deflate_piece(self.hmtx)
        self.hmtx_checksum = _checksum(self.hmtx)

        constant = [(tag, _pad4(table)) for tag, table in truetype.constant.items()]
        constant.append(("post", truetype.post3))
        self.tags = sorted([tag for tag, _ in constant] + ["glyf", "head", "hhea", "hmtx", "loca", "maxp"])
        offset = 12 + 16 * len(self.tags)
        self.constant_layout: dict[str, tuple[int, int, int]] = {}
        for tag, table in constant:
            length = len(truetype.post3) if tag == "post" else len(truetype.constant[tag])
            self.constant_layout[tag] = (offset, length, _checksum(table))
            offset += len(table)
        self.glyf_offset = offset
        self.constant_raw = b"".join(table for _, table in constant)
        self.constant_piece = _deflate_piece(self.constant_raw)
        self._blocks: dict[tuple[int, int], _Block] = {}
        self._programs: dict[int, _FontProgram] = {}  # by the set of glyphs, as an int
        self.checksums = [_checksum(data) for data in self.data]

        # The font descriptor fpdf2 writes for this face, without its /FontFile2.
        descriptor = copy.copy(font.desc)
        descriptor.font_name = Name(f"MPDFAA+{font.name}")
        descriptor.id = 0  # build_obj_dict reads it (for string encryption, unused here)
        self.descriptor = descriptor._build_obj_dict()
        self.table = {cp: chr(code) for cp, code in self.code_of.items()}  # for str.translate
        self.chars = frozenset(chr(cp) for cp in self.code_of)
        self.width_text = [str(g.glyph_width) if g else "0" for g in self.glyph_of_code]

        self.to_unicode_lines = [
            f"<{code:04X}> <{_utf16_hex(glyph.unicode[0])}>\n"
            for code, glyph in enumerate(self.glyph_of_code)
            if glyph is not None
        ]
        self.to_unicode = _PrecompressedStream.compress(_to_unicode_cmap(self.to_unicode_lines))

        # The program of a document in _CORE characters, compressed as one stream: 15 %
        # smaller than one stitched from per-block pieces, and built once.
        stitched = self._build_program(self.core, ())
        self.core_program = stitched._replace(stream=zlib.compress(zlib.decompress(stitched.stream), 9))

    def _closure(self, gid: int) -> tuple[int, ...]:
        found: list[int] = []
        stack = list(self.parts[gid])
        while stack:
            part = stack.pop()
            if part not in found:
                found.append(part)
                stack.extend(self.parts[part])
        return tuple(found)

    def _block(self, index: int, mask: int) -> _Block:
        """Glyphs *mask* of block *index*: data, deflate piece, checksum, lengths, widths.

        Cached: most combinations recur (the fund's own texts use the same letters in
        every document); a new one, from a donor's rarer letters, costs ~50 µs.
        """
        key = (index, mask)
        block = self._blocks.get(key)
        if block is not None:
            return block
        first = index * _BLOCK
        members = range(first, min(first + _BLOCK, self.count))
        datas = [self.data[gid] if mask >> (gid - first) & 1 else b"" for gid in members]
        raw = b"".join(datas)
        runs: list[list[int]] = []
        characters = len(self.glyph_of_code)  # component-only glyphs come after these
        for gid in members:
            if gid < characters and mask >> (gid - first) & 1 and self.glyph_of_code[gid] is not None:
                if runs and runs[-1][-1] == gid - 1:
                    runs[-1].append(gid)
                else:
                    runs.append([gid])
        block = _Block(
            _deflate_block(raw) if raw else b"",
            raw,
            sum(self.checksums[gid] for gid in members if datas[gid - first]) & 0xFFFFFFFF,
            tuple(len(data) >> 1 for data in datas),
            " ".join(f"{run[0]} [{' '.join(self.width_text[gid] for gid in run)}]" for run in runs),
        )
        if len(self._blocks) >= _BLOCK_CACHE_LIMIT:
            self._blocks.clear()
        self._blocks[key] = block
        return block

    def font_program(self, used: Iterable[int], extras: Sequence[Glyph]) -> _FontProgram:
        """The embedded font program of one document (zlib stream, size, /W widths).

        *used*: planned codes the document shows; *extras*: glyphs of its other
        characters, whose codes are ``self.count``, ``self.count + 1``, ...
        """
        bits = self.bits
        needed = self.core  # .notdef and the _CORE characters
        for gid in used:
            needed |= bits[gid]
        if extras:
            return self._build_program(needed, extras)
        if needed == self.core:  # nearly every document
            return self.core_program
        program = self._programs.get(needed)
        if program is None:
            if len(self._programs) >= _PROGRAM_CACHE_LIMIT:
                self._programs.clear()
            program = self._programs[needed] = self._build_program(needed, extras)
        return program

    def _build_program(self, needed: int, extras: Sequence[Glyph]) -> _FontProgram:
        """The font program of the glyphs *needed* (a bit set) and *extras*."""
        bits = self.bits
        # Characters outside the plan: glyphs (and components not in the plan) appended.
        extra_data: list[bytes] = []
        extra_metrics: list[tuple[int, int]] = []
        if extras:
            truetype = self.truetype
            originals = [glyph.glyph_id for glyph in extras]
            new_of = dict(self.new_of_original)
            local: dict[int, int] = {}
            for index, original in enumerate(originals):
                local.setdefault(original, self.count + index)
            index = 0
            while index < len(originals):
                for _pos, component in _components(truetype.glyphs[originals[index]]):
                    if component in new_of:
                        needed |= bits[new_of[component]]
                    elif component not in local:
                        local[component] = self.count + len(originals)
                        originals.append(component)
                index += 1
            new_of.update(local)
            for original in originals:
                data = bytearray(truetype.glyphs[original])
                for pos, component in _components(truetype.glyphs[original]):
                    struct.pack_into(">H", data, pos, new_of[component])
                extra_data.append(_pad4(bytes(data)))
                extra_metrics.append(truetype.metrics[original])
        num_glyphs = self.count + len(extra_data)
        blocks = [
            self._block(index, needed >> (index * _BLOCK) & _BLOCK_MASK)
            for index in range(self.block_count)
        ]

        # Glyph lengths in 2-byte units (every glyph is padded to 4 bytes).
        halves = list(itertools.chain.from_iterable(block.halves for block in blocks))
        halves += [len(data) >> 1 for data in extra_data]
        offsets = list(itertools.accumulate(halves, initial=0))
        glyf_length = 2 * offsets[-1]
        long_loca = glyf_length >= 0x20000
        if long_loca:
            loca = struct.pack(f">{num_glyphs + 1}I", *[2 * offset for offset in offsets])
        else:  # the short format stores offset / 2
            loca = struct.pack(f">{num_glyphs + 1}H", *offsets)
        glyf_checksum = sum(block.checksum for block in blocks) + sum(_checksum(d) for d in extra_data)
        hmtx_extra = b"".join(struct.pack(">Hh", *metric) for metric in extra_metrics)

        head = bytearray(self.truetype.head)
        struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set below
        struct.pack_into(">h", head, 50, 1 if long_loca else 0)  # indexToLocFormat
        hhea = bytearray(self.truetype.hhea)
        struct.pack_into(">H", hhea, 34, num_glyphs)
        maxp = bytearray(self.truetype.maxp)
        struct.pack_into(">H", maxp, 4, num_glyphs)

        # Layout: directory, constant tables, glyf, hmtx, then head, hhea, loca, maxp.
        layout = dict(self.constant_layout)
        layout["glyf"] = (self.glyf_offset, glyf_length, glyf_checksum & 0xFFFFFFFF)
        offset = self.glyf_offset + glyf_length
        hmtx_length = len(self.hmtx) + len(hmtx_extra)
        layout["hmtx"] = (offset, hmtx_length, (self.hmtx_checksum + _checksum(hmtx_extra)) & 0xFFFFFFFF)
        offset += hmtx_length  # a multiple of 4
        tail_tables = {"head": head, "hhea": hhea, "loca": loca, "maxp": maxp}
        for tag, table in tail_tables.items():
            layout[tag] = (offset, len(table), _checksum(bytes(table)))
            offset += len(_pad4(bytes(table)))

        num_tables = len(self.tags)
        selector = num_tables.bit_length() - 1
        search_range = 16 << selector
        directory = bytearray(
            struct.pack(">IHHHH", 0x00010000, num_tables, search_range, selector, 16 * num_tables - search_range)
        )
        for tag in self.tags:
            directory += struct.pack(">4sIII", tag.encode("latin-1"), layout[tag][2], layout[tag][0], layout[tag][1])
        total = _checksum(bytes(directory)) + sum(entry[2] for entry in layout.values())
        struct.pack_into(">I", head, 8, (0xB1B0AFBA - total) & 0xFFFFFFFF)

        directory = bytes(directory)
        tail = hmtx_extra + b"".join(_pad4(bytes(table)) for table in tail_tables.values())
        glyf_pieces = [block.piece for block in blocks if block.piece]
        glyf_raw = [block.raw for block in blocks if block.raw]
        extra_raw = b"".join(extra_data)
        pieces = [
            _deflate_stored(directory), self.constant_piece, *glyf_pieces,
            *([_deflate_piece(extra_raw, 6)] if extra_raw else []),
            self.hmtx_piece, _deflate_stored(tail),  # ~1 kB: not worth a compressor per document
        ]
        raw = [directory, self.constant_raw, *glyf_raw, extra_raw, self.hmtx, tail]
        widths = [block.widths for block in blocks if block.widths]
        widths += [f"{self.count + i} [{glyph.glyph_width}]" for i, glyph in enumerate(extras)]
        return _FontProgram(_zlib_stream(pieces, raw), offset, f"[{' '.join(widths)}]")


class _DocumentGlyphs(SubsetMap):
    """A document's used-glyph map (fpdf2's SubsetMap role), codes from a _GlyphPlan.

    Only ``pick`` (called by ``TTFFont.encode_text``) and ``items`` are supported, which
    is what FPDF.text() and our output producer use; text shaping is not.
    """

    def __init__(self, font: TTFFont, plan: _GlyphPlan) -> None:  # pylint: disable=super-init-not-called
        self.font = font
        self.plan = plan
        self.used_chars: set[str] = set()  # chr(code) of each planned code used
        self.extra_codes: dict[int, int] = {}
        self.extras: list[Glyph] = []

    @property
    def used(self) -> set[int]:
        return {ord(char) for char in self.used_chars}

    def pick(self, unicode: int) -> int | None:  # type: ignore[override]
        code = self.plan.code_of.get(unicode)
        if code is None:
            code = self.extra_codes.get(unicode)
            if code is None:
                name = self.font.cmap.get(unicode)
                if name is None:
                    if unicode not in self.font.missing_glyphs:
                        self.font.missing_glyphs.append(unicode)
                    return None
                code = self.plan.count + len(self.extras)
                self.extra_codes[unicode] = code
                self.extras.append(
                    Glyph(self.plan.gid_by_name[name], (unicode,), name, int(self.font.cw[unicode]))
                )
            return code
        self.used_chars.add(chr(code))
        return code

    def items(self) -> Iterator[tuple[Glyph, int]]:  # type: ignore[override]
        for code in sorted(self.used):
            glyph = self.plan.glyph_of_code[code]
            assert glyph is not None
            yield glyph, code
        for index, glyph in enumerate(self.extras):
            yield glyph, self.plan.count + index

    def __len__(self) -> int:
        return len(self.used_chars) + len(self.extras)


class _PlannedTTFFont(TTFFont):
    """A document's copy of a pre-parsed face (see _FontLibrary.new_document)."""

    __slots__ = ()

    def encode_text(self, text: str) -> str:
        """TTFFont.encode_text, with one str.translate instead of a lookup per character."""
        glyphs = self.subset
        assert isinstance(glyphs, _DocumentGlyphs)
        plan = glyphs.plan
        if not plan.chars.issuperset(text):
            return super().encode_text(text)  # per character, through glyphs.pick()
        mapped = text.translate(plan.table)
        glyphs.used_chars.update(mapped)
        return f"({self.escape_text(mapped)}) Tj"


def _utf16_hex(codepoint: int) -> str:
    if codepoint > 0xFFFF:
        high = 0xD800 | (codepoint - 0x10000) >> 10
        low = 0xDC00 | (codepoint & 0x3FF)
        return f"{high:04X}{low:04X}"
    return f"{codepoint:04X}"


def _to_unicode_cmap(lines: list[str]) -> bytes:
    """The ToUnicode CMap fpdf2 writes, for the given ``<code> <utf16>`` lines."""
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{_build_cmap_blocks(lines, 'bfchar')}"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("latin-1")


class _DictObject(PDFObject):
    """A PDF dictionary object with precomputed entries (values: PDF syntax or objects).

    fpdf2's PDFObject finds its entries by introspecting its attributes (dir(), name
    conversion) on every serialisation; 15 font objects per document made that a
    tenth of the time to write a receipt.
    """

    def __init__(self, entries: dict[str, object]) -> None:
        super().__init__()
        self.entries = entries

    def serialize(self, obj_dict=None, _security_handler=None) -> str:  # type: ignore[no-untyped-def]
        """What PDFObject.serialize writes, without the attribute introspection."""
        if _security_handler is not None:  # encrypted documents: not used for receipts
            return super().serialize(obj_dict, _security_handler)
        body = "\n".join(
            f"{key} {value.ref if isinstance(value, PDFObject) else value}"
            for key, value in self.entries.items()
        )
        return f"{self.id} 0 obj\n<<\n{body}\n>>\nendobj"

    def _build_obj_dict(self, security_handler=None):  # type: ignore[no-untyped-def,override]
        return {
            key: value.ref if isinstance(value, PDFObject) else value
            for key, value in self.entries.items()
        }


class _PrecompressedStream(PDFContentStream):
    """A FlateDecode stream whose compressed bytes are already built."""

    def __init__(self, compressed: bytes, length1: int | None = None) -> None:
        super().__init__(contents=b"", compress=False)
        self._contents = compressed
        self.length1 = length1  # FontFile2: size of the font program

    def _build_obj_dict(self, security_handler=None):  # type: ignore[no-untyped-def,override]
        entries: dict[str, object] = {"/Filter": "/FlateDecode", "/Length": len(self._contents)}
        if self.length1 is not None:
            entries["/Length1"] = self.length1
        return entries

    def serialize(self, obj_dict=None, _security_handler=None) -> str:  # type: ignore[no-untyped-def]
        """What PDFContentStream.serialize writes, without the attribute introspection."""
        if _security_handler is not None:
            return super().serialize(obj_dict, _security_handler)
        length1 = f"\n/Length1 {self.length1}" if self.length1 is not None else ""
        return (
            f"{self.id} 0 obj\n<<\n/Filter /FlateDecode\n/Length {len(self._contents)}{length1}\n>>\n"
            f"stream\n{str(self._contents, 'latin-1')}\nendstream\nendobj"
        )

    @staticmethod
    def compress(data: bytes) -> bytes:
        return zlib.compress(data, 9)


_CID_SYSTEM_INFO = "<</Registry (Adobe) /Ordering (UCS) /Supplement 0>>"


class _SharedFontPDF(FPDF):
    """An FPDF whose TTF fonts are per-document copies of pre-parsed ones."""


class _SharedFontOutputProducer(OutputProducer):
    """fpdf2's OutputProducer with a font embedding that reuses work across documents.

    Writes per font what fpdf2 2.8.9 writes (Type0 font, CIDFontType2 with /W widths and
    a ToUnicode CMap, font descriptor, FontFile2) except that the CIDToGIDMap is
    /Identity and the font program comes from _GlyphPlan.font_program. The shared
    parsed font is never modified or closed.
    """

    def _add_fonts(self, image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name):  # type: ignore[no-untyped-def]
        pdf = self.fpdf
        assert isinstance(pdf, _SharedFontPDF)
        font_objs_per_index: dict[int, PDFFont] = {}
        for font in sorted(pdf.fonts.values(), key=lambda f: f.i):
            if isinstance(font, CoreFont):
                encoding = "WinAnsiEncoding" if font.name not in ("Symbol", "ZapfDingbats") else None
                core = PDFFont(subtype="Type1", base_font=font.name, encoding=encoding)
                self._add_pdf_obj(core, "fonts")
                font_objs_per_index[font.i] = core
                continue
            glyphs = font.subset
            assert isinstance(glyphs, _DocumentGlyphs)
            plan = glyphs.plan
            fontname = f"MPDFAA+{font.name}"
            if font.missing_glyphs:
                LOGGER.warning(
                    "Font %s lacks glyphs for %s", fontname,
                    ", ".join(repr(chr(c)) for c in font.missing_glyphs[:10]),
                )
            program = plan.font_program(glyphs.used, glyphs.extras)

            basefont = Name(fontname).serialize()
            composite = _DictObject({
                "/BaseFont": basefont, "/Encoding": "/Identity-H", "/Subtype": "/Type0",
                "/Type": "/Font",
            })
            self._add_pdf_obj(composite)
            font_objs_per_index[font.i] = composite  # type: ignore[assignment]
            cid_font = _DictObject({
                "/BaseFont": basefont, "/CIDSystemInfo": _CID_SYSTEM_INFO,
                "/CIDToGIDMap": "/Identity", "/DW": font.desc.missing_width,
                "/Subtype": "/CIDFontType2", "/Type": "/Font",
                "/W": program.widths,
            })
            self._add_pdf_obj(cid_font)
            composite.entries["/DescendantFonts"] = Raw(f"[{cid_font.id} 0 R]")

            if glyphs.extras:
                lines = plan.to_unicode_lines + [
                    f"<{plan.count + index:04X}> <{_utf16_hex(glyph.unicode[0])}>\n"  # type: ignore[index]
                    for index, glyph in enumerate(glyphs.extras)
                ]
                to_unicode = _PrecompressedStream.compress(_to_unicode_cmap(lines))
            else:
                to_unicode = plan.to_unicode
            to_unicode_obj = _PrecompressedStream(to_unicode)
            self._add_pdf_obj(to_unicode_obj)
            composite.entries["/ToUnicode"] = to_unicode_obj

            descriptor = _DictObject(dict(plan.descriptor))
            self._add_pdf_obj(descriptor)
            cid_font.entries["/FontDescriptor"] = descriptor
            font_file = _PrecompressedStream(program.stream, program.length)
            self._add_pdf_obj(font_file)
            descriptor.entries["/FontFile2"] = font_file
        return font_objs_per_index


class _FontLibrary:
    """The receipt faces, parsed once; hands each new document its own light copies."""

    def __init__(self) -> None:
        scratch = FPDF()
        for style, filename in FONT_FACES:
            scratch.add_font(FONT_FAMILY, style, FONT_DIR / filename)
        self.masters: list[tuple[TTFFont, _GlyphPlan, list[tuple[str, object]]]] = []
        for font in scratch.fonts.values():
            assert isinstance(font, TTFFont)
            if font.is_cff or font.color_font is not None:
                raise ValueError(f"{font.fontkey}: only plain TrueType fonts are supported")
            plan = _GlyphPlan(font, _TrueType(Path(font.ttffile)))
            # Shared with every document: the parsed font, cmap, widths, descriptor (the
            # output producer writes its own copy). Per document: see new_document().
            shared = [(slot, getattr(font, slot)) for slot in TTFFont.__slots__ if hasattr(font, slot)]
            self.masters.append((font, plan, shared))

    def new_document(self) -> _SharedFontPDF:
        pdf = _SharedFontPDF(unit="mm", format="A4")
        for master, plan, shared in self.masters:
            font = _PlannedTTFFont.__new__(_PlannedTTFFont)
            for slot, value in shared:
                setattr(font, slot, value)
            font.missing_glyphs = []
            font.biggest_size_pt = 0
            font.subset = _DocumentGlyphs(font, plan)
            font.i = len(pdf.fonts) + 1
            pdf.fonts[font.fontkey] = font
        return pdf


def _plain_document() -> FPDF:
    """A new FPDF with the faces added the documented way (parses the font files)."""
    pdf = FPDF(unit="mm", format="A4")
    for style, filename in FONT_FACES:
        pdf.add_font(FONT_FAMILY, style, FONT_DIR / filename)
    return pdf


def _prepare(pdf: FPDF) -> None:
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN_L, MARGIN_T, MARGIN_R)
    pdf.set_creator("Quỹ Bảo trợ trẻ em - hệ thống quản lý ủng hộ")


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

class ReceiptRenderer:
    """Renders receipts and statements for one fund. Create once, reuse for every document.

    ``reuse_fonts=True`` (default) parses the fonts once and embeds subsets with the fast
    path described in the module docstring; ``False`` adds the fonts to every document
    with ``FPDF.add_font`` (the reference the fast path is compared against). The fast
    path is only used with the fpdf2 versions it was checked against
    (:data:`FAST_PATH_FPDF_VERSIONS`); ``self.fast`` tells which path is in use.

    Safe to share between threads: per-document state lives in the document.
    """

    def __init__(self, fund: FundInfo, *, reuse_fonts: bool = True) -> None:
        self.fund = fund
        self.fast = reuse_fonts and fpdf.FPDF_VERSION in FAST_PATH_FPDF_VERSIONS
        if reuse_fonts and not self.fast:
            LOGGER.warning(
                "fpdf2 %s is not one of %s: receipts use the slow font path",
                fpdf.FPDF_VERSION, sorted(FAST_PATH_FPDF_VERSIONS),
            )
        self._fonts = _FontLibrary() if self.fast else None

    def _document(self) -> FPDF:
        pdf = self._fonts.new_document() if self._fonts is not None else _plain_document()
        _prepare(pdf)
        return pdf

    def _output(self, pdf: FPDF) -> bytes:
        if isinstance(pdf, _SharedFontPDF):
            return bytes(pdf.output(output_producer_class=_SharedFontOutputProducer))
        return bytes(pdf.output())

    def render_receipt(self, data: ReceiptData) -> bytes:
        """One receipt as PDF bytes."""
        pdf = self._document()
        draw_receipt(pdf, self.fund, data)
        return self._output(pdf)

    def render_statement(self, data: StatementData) -> bytes:
        """One donor's annual statement as PDF bytes."""
        pdf = self._document()
        draw_statement(pdf, self.fund, data)
        return self._output(pdf)


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

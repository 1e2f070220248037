"""Documents that share font programs: fpdf2 with TrueType fonts parsed once per process.

The receipt layout (:mod:`app.renderers.receipt_pdf`) draws on an ``FPDF``; this module
hands it that ``FPDF`` and turns it into bytes, fast. The whole public interface::

    library = FontLibrary("NotoSerif", [("", regular_ttf), ("B", bold_ttf)])  # once
    pdf = library.new_document()        # an FPDF with the faces registered, in ~50 µs
    text = text_emitter(pdf)            # text(x, y, "…"): what FPDF.text(x, y, "…") does
    ...draw on pdf with the usual FPDF calls...
    data = document_bytes(pdf)          # the PDF, fonts subset and embedded

    pdf = plain_document("NotoSerif", faces)  # the documented fpdf2 way, for comparison:
    data = document_bytes(pdf)                # add_font per document, fpdf2's embedding

Both kinds of document give the same text and the same pixels (the receipt tests and
``bench/receipts.py`` check it); only the embedded font programs differ in their bytes.
:func:`fast_path_supported` tells whether the installed fpdf2 is one this module was
checked against; callers fall back to :func:`plain_document` when it is not.

Why, and how
------------
With ``FPDF.add_font`` + ``FPDF.output`` for every document, fontTools parses Noto
Serif (3 000+ glyphs) and then subsets and re-serialises it, for every face used: ~95 %
of the ~180 ms a receipt took. :class:`FontLibrary` instead

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

:func:`shared_font_text` writes the bytes ``FPDF.text`` writes, without its decorators
and checks for features these documents do not use.

Step 3 plugs in through ``FPDF.output(output_producer_class=...)``, fpdf2's own
extension point, but builds on fpdf2 internals (``OutputProducer._add_fonts``,
``SubsetMap``, ``PDFObject``, ``FPDF._out``), hence :data:`FAST_PATH_FPDF_VERSIONS`,
which ``tests/test_receipt_pdf.py`` checks.

Also here, because it needs the parsed fonts: :func:`text_outline_path`, text drawn
as filled shapes rather than characters (a stamp that text extraction does not read).

Only plain TrueType (glyf) fonts are supported. Safe to share a library between
threads: per-document state lives in the document.
"""

from __future__ import annotations

import copy
import functools
import itertools
import logging
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import fpdf
from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import CoreFont, Glyph, SubsetMap, TTFFont
from fpdf.output import OutputProducer, PDFFont, _build_cmap_blocks
from fpdf.syntax import Name, PDFContentStream, PDFObject, Raw
from fontTools.pens.basePen import BasePen

__all__ = [
    "FAST_PATH_FPDF_VERSIONS",
    "FontLibrary",
    "SharedFontPDF",
    "document_bytes",
    "fast_path_supported",
    "plain_document",
    "shared_font_text",
    "text_emitter",
    "text_outline",
    "text_outline_path",
]

LOGGER = logging.getLogger(__name__)

#: fpdf2 versions whose internals the shared-font path has been checked against.
FAST_PATH_FPDF_VERSIONS = frozenset({"2.8.9"})

#: (style, path of a .ttf file): "" regular, "B" bold, "I" italic, "BI" bold italic.
Faces = Sequence[tuple[str, Path]]

PT = 25.4 / 72  # one point in mm


def fast_path_supported() -> bool:
    """Whether the installed fpdf2 is one the shared-font path was checked against."""
    return fpdf.FPDF_VERSION in FAST_PATH_FPDF_VERSIONS


# ---------------------------------------------------------------------------
# Public interface
# ---------------------------------------------------------------------------

class SharedFontPDF(FPDF):
    """An FPDF whose TTF fonts are per-document copies of a :class:`FontLibrary`'s."""


class FontLibrary:
    """Font faces parsed once; :meth:`new_document` hands each document light copies.

    *faces* are registered as *family* in every new document, as ``FPDF.add_font``
    would, in the given order (which fixes the order of the fonts in the output).
    """

    def __init__(self, family: str, faces: Faces) -> None:
        scratch = FPDF()
        for style, path in faces:
            scratch.add_font(family, style, path)
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

    def new_document(self, *, unit: str = "mm", format: str = "A4") -> SharedFontPDF:  # pylint: disable=redefined-builtin
        """A new, empty document with the library's faces registered."""
        pdf = SharedFontPDF(unit=unit, format=format)
        for _master, plan, shared in self.masters:
            font = _PlannedTTFFont.__new__(_PlannedTTFFont)
            for slot, value in shared:
                setattr(font, slot, value)
            font.missing_glyphs = []
            font.biggest_size_pt = 0
            font.subset = _DocumentGlyphs(font, plan)
            font.i = len(pdf.fonts) + 1
            pdf.fonts[font.fontkey] = font
        return pdf


def plain_document(family: str, faces: Faces, *, unit: str = "mm", format: str = "A4") -> FPDF:  # pylint: disable=redefined-builtin
    """A new FPDF with *faces* added the documented way (parses the font files): the
    reference a :class:`FontLibrary` document is compared against."""
    pdf = FPDF(unit=unit, format=format)
    for style, path in faces:
        pdf.add_font(family, style, path)
    return pdf


def document_bytes(pdf: FPDF) -> bytes:
    """The finished PDF; a :class:`SharedFontPDF` embeds its fonts the shared way."""
    if isinstance(pdf, SharedFontPDF):
        return bytes(pdf.output(output_producer_class=_SharedFontOutputProducer))
    return bytes(pdf.output())


def text_emitter(pdf: FPDF) -> Callable[[float, float, str], None]:
    """``text(x, y, string)`` for *pdf*: :func:`shared_font_text` for a document of a
    :class:`FontLibrary`, ``pdf.text`` for any other."""
    if isinstance(pdf, SharedFontPDF):
        return functools.partial(shared_font_text, pdf)
    return pdf.text


def shared_font_text(pdf: FPDF, x: float, y: float, text: str) -> None:
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


# ---------------------------------------------------------------------------
# Text as shapes
# ---------------------------------------------------------------------------

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


def text_outline(font: TTFFont, text: str) -> tuple[float, list[tuple[str, tuple[float, ...]]]]:
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


def text_outline_path(font: TTFFont, text: str, size: float, x: float, baseline: float, pdf: FPDF) -> str:
    """PDF path operators (page coordinates) drawing *text* at (x, baseline), cached."""
    key = (str(font.ttffile), text, size, x, baseline)
    path = _STAMP_PATHS.get(key)
    if path is None:
        _advance, ops = text_outline(font, text)
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
    """A document's copy of a pre-parsed face (see FontLibrary.new_document)."""

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


class _SharedFontOutputProducer(OutputProducer):
    """fpdf2's OutputProducer with a font embedding that reuses work across documents.

    Writes per font what fpdf2 2.8.9 writes (Type0 font, CIDFontType2 with /W widths and
    a ToUnicode CMap, font descriptor, FontFile2) except that the CIDToGIDMap is
    /Identity and the font program comes from _GlyphPlan.font_program. The shared
    parsed font is never modified or closed.
    """

    def _add_fonts(self, image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name):  # type: ignore[no-untyped-def]
        pdf = self.fpdf
        assert isinstance(pdf, SharedFontPDF)
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

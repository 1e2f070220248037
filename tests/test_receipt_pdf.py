"""Receipt and statement PDFs: extractable Vietnamese text, a QR code that scans, layout
inside the margins, and the fast font path giving the same documents as plain fpdf2.

Needs poppler-utils (pdftotext, pdftoppm); the QR test also needs zbarimg (Debian package
zbar-tools) and is skipped without it.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import unicodedata
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import fpdf
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from app.renderers import pdf_fonts, receipt_pdf
from app.renderers.receipt_pdf import (
    FAST_PATH_FPDF_VERSIONS,
    FundInfo,
    ReceiptData,
    ReceiptRenderer,
    StatementData,
    StatementLine,
    render_receipt,
    vietnamese_date_line,
)

pytestmark = [pytest.mark.nodb, pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)]

LONG_ORG = "Công ty Cổ phần Đầu tư Phát triển Hạ tầng Khu công nghiệp Đình Vũ Hải Phòng"
LONG_ADDRESS = (
    "Lô CN4.1 và CN4.2, Khu công nghiệp Đình Vũ thuộc Khu kinh tế Đình Vũ - Cát Hải, "
    "phường Đông Hải 2, quận Hải An, thành phố Hải Phòng, Việt Nam"
)
PURPOSE = "Chiến dịch: Tháng hành động vì trẻ em 2024 — Quỹ phẫu thuật tim bẩm sinh"


@pytest.fixture(scope="module")
def fund() -> FundInfo:
    return FundInfo(
        fund_name="Quỹ Bảo trợ trẻ em thành phố Hải Phòng",
        parent_agency="Sở Lao động - Thương binh và Xã hội thành phố Hải Phòng",
        address="Số 1 Đinh Tiên Hoàng, phường Hoàng Văn Thụ, quận Hồng Bàng, thành phố Hải Phòng",
        phone="0225 3 842 197",
        email="quybaotrotreem@haiphong.gov.vn",
        signatory_name="Nguyễn Thị Minh Hằng",
        signatory_title="Giám đốc",
    )


@pytest.fixture(scope="module")
def renderer(fund: FundInfo) -> ReceiptRenderer:
    return ReceiptRenderer(fund)


@pytest.fixture(scope="module")
def naive(fund: FundInfo) -> ReceiptRenderer:
    return ReceiptRenderer(fund, reuse_fonts=False)


def make_receipt(**changes: object) -> ReceiptData:
    values: dict[str, object] = dict(
        number="BTTE-2024-000123",
        issued_at_local=datetime(2024, 6, 5, 9, 30),
        donor_name=LONG_ORG,
        donor_kind="organization",
        tax_code="0200123456",
        donor_address=LONG_ADDRESS,
        amount=50_000_000,
        channel_label="Chuyển khoản ngân hàng",
        purpose=PURPOSE,
        verify_url="https://quybaotrotreem.haiphong.gov.vn/xac-thuc/BTTE-2024-000123?k=3f9a1c2b7d",
    )
    values.update(changes)
    return ReceiptData(**values)  # type: ignore[arg-type]


def make_statement(lines: int = 12, **changes: object) -> StatementData:
    rows = [
        StatementLine(
            datetime(2024, 1 + i % 12, 1 + i % 28, 10, 0),
            f"BTTE-2024-{i + 1:06d}",
            "Phẫu thuật sứt môi, hở hàm ếch cho trẻ em có hoàn cảnh khó khăn",
            (i % 5 + 1) * 1_000_000,
        )
        for i in range(lines)
    ]
    rows.append(StatementLine(date(2024, 12, 20), None, "Hoàn trả khoản ủng hộ trùng lặp", -500_000))
    values: dict[str, object] = dict(
        year=2024,
        donor_name="Trần Thị Ngọc Ánh",
        donor_kind="individual",
        lines=rows,
        net_total=sum(row.amount for row in rows),
        issued_on=date(2025, 1, 15),
        donor_address="Số 12 Lạch Tray, phường Lạch Tray, quận Ngô Quyền, Hải Phòng",
        statement_number="BTH-2024-00001",
        verify_url="https://quybaotrotreem.haiphong.gov.vn/xac-thuc/BTH-2024-00001",
    )
    values.update(changes)
    return StatementData(**values)  # type: ignore[arg-type]


def pdftotext(pdf: bytes, tmp_path: Path, *options: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *options, str(path), "-"],
        check=True, capture_output=True,
    )
    return result.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Extracted text with line breaks and runs of spaces folded to one space."""
    return " ".join(text.split())


def render_pages(pdf: bytes, tmp_path: Path, dpi: int, name: str = "page") -> list[Image.Image]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(path), str(tmp_path / name)],
        check=True, capture_output=True,
    )
    return [Image.open(png).convert("RGB") for png in sorted(tmp_path.glob(f"{name}-*.png"))]


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


# --- content -----------------------------------------------------------------------


def test_receipt_text_is_extractable_exactly(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    text = pdftotext(renderer.render_receipt(make_receipt()), tmp_path)
    lines = text.splitlines()
    assert "GIẤY CHỨNG NHẬN ỦNG HỘ" in lines
    assert "Số tiền: 50.000.000 ₫" in lines
    assert "Bằng chữ: Năm mươi triệu đồng chẵn." in lines
    assert "Số: BTTE-2024-000123" in lines
    assert "Hải Phòng, ngày 05 tháng 6 năm 2024" in lines
    assert "Mã số thuế: 0200123456" in lines
    assert "Hình thức: Chuyển khoản ngân hàng" in lines
    text = flat(text)
    assert f"Tên đơn vị: {LONG_ORG}" in text  # wrapped over two lines
    assert f"Địa chỉ: {LONG_ADDRESS}" in text
    assert f"Mục đích: {PURPOSE}" in text
    assert "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI THÀNH PHỐ HẢI PHÒNG" in text
    assert "QUỸ BẢO TRỢ TRẺ EM THÀNH PHỐ HẢI PHÒNG" in text
    assert (
        "Quỹ Bảo trợ trẻ em thành phố Hải Phòng trân trọng cảm ơn tấm lòng vàng của Quý vị "
        "đối với trẻ em có hoàn cảnh đặc biệt." in text
    )
    assert "GIÁM ĐỐC" in text and "Nguyễn Thị Minh Hằng" in text
    assert "Quét mã để kiểm tra tính xác thực" in text
    assert "ĐÃ HỦY" not in text


def test_individual_receipt(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    data = make_receipt(
        donor_name="Phạm Thị Thu Hường", donor_kind="individual", tax_code=None,
        donor_address=None, amount=1_250_500, channel_label="Tiền mặt",
    )
    text = pdftotext(renderer.render_receipt(data), tmp_path)
    lines = text.splitlines()
    assert "Họ và tên: Phạm Thị Thu Hường" in lines
    assert "Số tiền: 1.250.500 ₫" in lines
    assert "Bằng chữ: Một triệu hai trăm năm mươi nghìn năm trăm đồng." in lines
    assert "Mã số thuế" not in text and "Địa chỉ: Lô" not in text


def test_void_receipt_is_marked(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    reason = "Nhập sai số tiền, đã lập giấy chứng nhận thay thế."
    pdf = renderer.render_receipt(make_receipt(void=True, void_reason=reason))
    text = pdftotext(pdf, tmp_path)
    assert "ĐÃ HỦY" in text
    assert f"Lý do: {reason}" in flat(text)
    # The big diagonal stamp is drawn as shapes: it adds no stray letters to the text.
    assert flat(text).count("ĐÃ HỦY") == 1
    # ...but it is visible: a large red area across the middle of the page.
    (page,) = render_pages(pdf, tmp_path, 30)
    middle = page.crop((0, page.height // 3, page.width, 2 * page.height // 3)).tobytes()
    pixels = zip(middle[0::3], middle[1::3], middle[2::3])
    reddish = sum(1 for r, g, _b in pixels if r > 200 and r - g > 25)
    assert reddish > 0.05 * len(middle) / 3


def test_signatory_title_on_two_lines(fund: FundInfo, tmp_path: Path) -> None:
    deputy = FundInfo(**{**fund.__dict__, "signatory_title": "KT. Giám đốc\nPhó Giám đốc"})
    text = pdftotext(ReceiptRenderer(deputy).render_receipt(make_receipt()), tmp_path)
    assert "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\n" in text


def test_replacement_and_in_kind(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    data = make_receipt(
        replaces_number="BTTE-2024-000100",
        in_kind_description="200 thùng sữa tươi và 50 bộ sách giáo khoa lớp 1",
        amount=30_000_000,
    )
    text = pdftotext(renderer.render_receipt(data), tmp_path)
    assert "(Thay thế giấy chứng nhận số BTTE-2024-000100)" in text
    assert "Hiện vật: 200 thùng sữa tươi và 50 bộ sách giáo khoa lớp 1" in flat(text)
    assert "Trị giá: 30.000.000 ₫" in text.splitlines()


def test_decomposed_input_comes_out_composed(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Hồng")
    data = make_receipt(donor_name=name, donor_kind="individual", tax_code=None)
    text = pdftotext(renderer.render_receipt(data), tmp_path)
    assert "Họ và tên: Nguyễn Thị Ánh Hồng" in text.splitlines()


def test_characters_outside_the_planned_repertoire(
    renderer: ReceiptRenderer, naive: ReceiptRenderer, tmp_path: Path
) -> None:
    """Cyrillic and Latin Extended-B get per-document codes; still exact and identical."""
    data = make_receipt(donor_name="Иван Петров và Ǆ Ǒ Ǜ", donor_kind="individual", tax_code=None)
    fast_pdf, naive_pdf = renderer.render_receipt(data), naive.render_receipt(data)
    text = pdftotext(fast_pdf, tmp_path)
    assert "Họ và tên: Иван Петров và Ǆ Ǒ Ǜ" in text.splitlines()
    assert text == pdftotext(naive_pdf, tmp_path)
    assert same_pixels(fast_pdf, naive_pdf, tmp_path)


def test_character_missing_from_the_font_is_dropped_with_a_warning(
    renderer: ReceiptRenderer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = make_receipt(donor_name="Lan 🙂 Anh", donor_kind="individual", tax_code=None)
    with caplog.at_level(logging.WARNING, logger="app.renderers.pdf_fonts"):
        text = pdftotext(renderer.render_receipt(data), tmp_path)
    assert "Họ và tên: Lan Anh" in text.splitlines()
    assert any("lacks glyphs" in message for message in caplog.messages)


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg not installed (apt-get install zbar-tools)")
@pytest.mark.parametrize("kind", ["receipt", "void receipt", "upper-case url", "statement"])
def test_qr_code_decodes_to_verify_url(renderer: ReceiptRenderer, tmp_path: Path, kind: str) -> None:
    if kind == "upper-case url":  # encoded in the QR alphanumeric mode
        url = "HTTPS://BTTE.HAIPHONG.GOV.VN/X/BTTE-2024-000777-3F9A1C2B"
        pdf = renderer.render_receipt(make_receipt(verify_url=url))
    elif kind.endswith("receipt"):
        url = "https://quybaotrotreem.haiphong.gov.vn/receipts/verify/Qm9uZ2hhbmcta2h1eWVu_Tm90LUd1ZXNz"
        pdf = renderer.render_receipt(make_receipt(verify_url=url, void=kind == "void receipt"))
    else:
        url = "https://quybaotrotreem.haiphong.gov.vn/xac-thuc/BTH-2024-00042"
        pdf = renderer.render_statement(make_statement(verify_url=url))
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", str(path), str(tmp_path / "qr")], check=True, capture_output=True
    )
    pngs = sorted(tmp_path.glob("qr-*.png"))
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *map(str, pngs)],
        capture_output=True,
    )
    assert result.stdout.decode("utf-8").split() == [url]


def test_statement(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    data = make_statement()
    pdf = renderer.render_statement(data)
    text = pdftotext(pdf, tmp_path)
    lines = text.splitlines()
    assert "BẢNG TỔNG HỢP ỦNG HỘ NĂM 2024" in lines
    assert "Số: BTH-2024-00001" in lines
    assert "Hải Phòng, ngày 15 tháng 01 năm 2025" in lines
    assert "Họ và tên: Trần Thị Ngọc Ánh" in lines
    text = flat(text)
    assert "12/12/2024 BTTE-2024-000012 Phẫu thuật sứt môi, hở hàm ếch" in text
    assert "— Hoàn trả khoản ủng hộ trùng lặp" in text  # a refund has no receipt of its own
    assert "-500.000 ₫" in lines
    assert re.search(r"Tổng cộng\s+32\.500\.000 ₫", text)
    assert "Bằng chữ: Ba mươi hai triệu năm trăm nghìn đồng chẵn." in text


def test_long_statement_paginates(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    data = make_statement(lines=60)
    pdf = renderer.render_statement(data)
    pages = page_count(pdf)
    assert pages >= 3
    text = pdftotext(pdf, tmp_path)
    assert f"Trang 1/{pages}" in text and f"Trang {pages}/{pages}" in text
    assert "BTTE-2024-000060" in text
    assert text.count("Số giấy CN") == pages  # the table header is repeated on each page
    assert_inside_margins(pdf, tmp_path)


def test_statement_total_must_add_up() -> None:
    with pytest.raises(ValueError, match="net_total"):
        make_statement(net_total=1)


def test_validation() -> None:
    with pytest.raises(ValueError):
        make_receipt(donor_kind="company")
    with pytest.raises(TypeError):
        make_receipt(amount=50_000.0)
    with pytest.raises(TypeError):
        make_receipt(amount=True)
    with pytest.raises(ValueError):
        make_receipt(amount=-1)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 6, 5), "Hải Phòng, ngày 05 tháng 6 năm 2024"),
        (date(2024, 2, 29), "Hải Phòng, ngày 29 tháng 02 năm 2024"),
        (date(2025, 1, 1), "Hải Phòng, ngày 01 tháng 01 năm 2025"),
        (date(2024, 12, 31), "Hải Phòng, ngày 31 tháng 12 năm 2024"),
    ],
)
def test_vietnamese_date_line(day: date, expected: str) -> None:
    assert vietnamese_date_line("Hải Phòng", day) == expected


def test_issue_date_is_the_local_date(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    """23:30 on 31 December in Hải Phòng is still that day, whatever UTC says."""
    local = datetime(2024, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=7)))
    text = pdftotext(renderer.render_receipt(make_receipt(issued_at_local=local)), tmp_path)
    assert "Hải Phòng, ngày 31 tháng 12 năm 2024" in text.splitlines()


# --- layout ------------------------------------------------------------------------


def assert_inside_margins(pdf: bytes, tmp_path: Path) -> None:
    """Every word's box lies inside the page margins (pdftotext -bbox, in points)."""
    html = pdftotext(pdf, tmp_path, "-bbox")
    left = receipt_pdf.MARGIN_L * 72 / 25.4 - 0.5
    right = (receipt_pdf.PAGE_W - receipt_pdf.MARGIN_R) * 72 / 25.4 + 0.5
    bottom = (receipt_pdf.PAGE_H - receipt_pdf.FRAME_INSET) * 72 / 25.4
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
    )
    assert words
    for x_min, _y_min, x_max, y_max, word in words:
        assert left <= float(x_min) and float(x_max) <= right, word
        assert float(y_max) <= bottom, word


def test_long_texts_wrap_inside_the_margins(renderer: ReceiptRenderer, tmp_path: Path) -> None:
    data = make_receipt(
        purpose=PURPOSE + " và chương trình học bổng " * 6,
        in_kind_description="Thiết bị y tế cho khoa phẫu thuật tim, bệnh viện Trẻ em Hải Phòng " * 2,
        replaces_number="BTTE-2024-000100",
        void=True,
        void_reason="Đơn vị đề nghị ghi lại tên theo giấy chứng nhận đăng ký doanh nghiệp mới " * 2,
        verify_url="https://quybaotrotreem.haiphong.gov.vn/xac-thuc/BTTE-2024-000123?k=" + "f" * 60,
    )
    pdf = renderer.render_receipt(data)
    assert_inside_margins(pdf, tmp_path)
    assert "Nguyễn Thị Minh Hằng" in pdftotext(pdf, tmp_path)


def test_extremely_long_text_flows_onto_a_second_page(
    renderer: ReceiptRenderer, tmp_path: Path
) -> None:
    pdf = renderer.render_receipt(make_receipt(purpose="Ủng hộ trẻ em. " * 180))
    pages = page_count(pdf)
    assert pages >= 2
    assert_inside_margins(pdf, tmp_path)
    text = pdftotext(pdf, tmp_path).split("\f")
    assert "Nguyễn Thị Minh Hằng" in text[pages - 1]
    assert flat(" ".join(text)).count("Ủng hộ trẻ em.") == 180


# --- the fast path -----------------------------------------------------------------


def same_pixels(first: bytes, second: bytes, tmp_path: Path, dpi: int = 100) -> bool:
    one = render_pages(first, tmp_path, dpi, "first")
    two = render_pages(second, tmp_path, dpi, "second")
    return len(one) == len(two) and all(a.tobytes() == b.tobytes() for a, b in zip(one, two))


def test_fast_path_is_used_with_the_pinned_fpdf2(renderer: ReceiptRenderer) -> None:
    """The fast path relies on fpdf2 internals checked for these versions only."""
    assert fpdf.FPDF_VERSION in FAST_PATH_FPDF_VERSIONS, (
        f"fpdf2 {fpdf.FPDF_VERSION} is not a version the fast receipt path was checked "
        "against: run this suite and bench/receipts.py, then add it to FAST_PATH_FPDF_VERSIONS"
    )
    assert renderer.fast


@pytest.mark.parametrize(
    "kind", ["organization", "individual", "void", "replacement", "statement", "long statement"]
)
def test_fast_and_naive_paths_give_the_same_document(
    renderer: ReceiptRenderer, naive: ReceiptRenderer, tmp_path: Path, kind: str
) -> None:
    if kind == "statement":
        fast_pdf, naive_pdf = (r.render_statement(make_statement()) for r in (renderer, naive))
    elif kind == "long statement":
        fast_pdf, naive_pdf = (r.render_statement(make_statement(lines=40)) for r in (renderer, naive))
    else:
        data = {
            "organization": make_receipt(),
            "individual": make_receipt(donor_name="Lê Văn Tám", donor_kind="individual", tax_code=None),
            "void": make_receipt(void=True, void_reason="Trùng giao dịch"),
            "replacement": make_receipt(replaces_number="BTTE-2024-000001"),
        }[kind]
        fast_pdf, naive_pdf = renderer.render_receipt(data), naive.render_receipt(data)
    assert pdftotext(fast_pdf, tmp_path) == pdftotext(naive_pdf, tmp_path)
    assert same_pixels(fast_pdf, naive_pdf, tmp_path)


def test_fast_text_writes_what_fpdf_text_writes(
    renderer: ReceiptRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path's text emitter and FPDF.text() give byte-identical documents."""
    documents = [
        (renderer.render_receipt, make_receipt()),
        (renderer.render_receipt, make_receipt(void=True, void_reason="Trùng giao dịch")),
        (renderer.render_statement, make_statement(lines=40)),
    ]
    fast = [render(data) for render, data in documents]
    monkeypatch.setattr(pdf_fonts, "shared_font_text", lambda pdf, x, y, text: pdf.text(x, y, text))
    assert [render(data) for render, data in documents] == fast


def _font_programs(pdf: bytes) -> list[bytes]:
    return [
        zlib.decompress(pdf[match.end() : match.end() + int(match.group(1))])
        for match in re.finditer(rb"/Length (\d+)\n/Length1 \d+\n>>\nstream\n", pdf)
    ]


def test_documents_in_vietnamese_share_one_font_program(
    renderer: ReceiptRenderer, naive: ReceiptRenderer, tmp_path: Path
) -> None:
    """Every document in Vietnamese embeds the same (prebuilt) fonts; a letter outside
    that set is added for the document that shows it, and only for that one."""
    one = renderer.render_receipt(make_receipt(donor_name="Trần Thị Ngọc Hân", donor_kind="individual"))
    other = renderer.render_receipt(make_receipt(donor_name="Ông Đỗ Quý Yến", amount=123_456_789))
    assert _font_programs(one) == _font_programs(other)
    outside = make_receipt(donor_name="François Ça Müller", donor_kind="individual", tax_code=None)
    fast_pdf = renderer.render_receipt(outside)
    regular, bold, _italic = _font_programs(fast_pdf)
    assert len(bold) > len(_font_programs(one)[1])  # the name is bold: ç, ü added
    assert regular == _font_programs(one)[0]
    text = pdftotext(fast_pdf, tmp_path)
    assert "Họ và tên: François Ça Müller" in text.splitlines()
    assert text == pdftotext(naive.render_receipt(outside), tmp_path)
    assert same_pixels(fast_pdf, naive.render_receipt(outside), tmp_path)


def test_rendering_is_deterministic_and_documents_are_independent(fund: FundInfo) -> None:
    """Same data, same bytes, whatever was rendered before (no glyph state leaks)."""
    first = ReceiptRenderer(fund)
    alone = first.render_receipt(make_receipt())
    second = ReceiptRenderer(fund)
    second.render_receipt(make_receipt(donor_name="Иван Ǆ Ǒ ẞ ŉ", purpose="Ω ∑ ← → ¶"))
    second.render_statement(make_statement(lines=30))
    assert second.render_receipt(make_receipt()) == alone


def test_concurrent_rendering(renderer: ReceiptRenderer) -> None:
    receipts = [
        make_receipt(number=f"BTTE-2024-{i:06d}", donor_name=f"Nhà hảo tâm số {i} Иван",
                     verify_url=f"https://quybaotrotreem.haiphong.gov.vn/xac-thuc/{i}")
        for i in range(24)
    ]
    sequential = [renderer.render_receipt(r) for r in receipts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(renderer.render_receipt, receipts))
    assert parallel == sequential


def test_embedded_fonts_are_valid_truetype(renderer: ReceiptRenderer) -> None:
    """Each FontFile2 parses with fontTools, checksums included, and holds the used glyphs."""
    pdf = renderer.render_receipt(make_receipt(donor_name="Иван Петров", donor_kind="individual"))
    streams = re.findall(rb"/Length1 (\d+)\n>>\nstream\n", pdf)
    assert len(streams) == len(receipt_pdf.FONT_FACES)
    for match in re.finditer(rb"/Length (\d+)\n/Length1 (\d+)\n>>\nstream\n", pdf):
        length, length1 = int(match.group(1)), int(match.group(2))
        program = zlib.decompress(pdf[match.end() : match.end() + length])
        assert len(program) == length1
        font = TTFont(io.BytesIO(program), checkChecksums=2)
        glyf = font["glyf"]
        drawn = [name for name in font.getGlyphOrder() if glyf[name].numberOfContours != 0]
        assert len(drawn) > 20
        for name in drawn:  # composite glyphs point at glyphs that exist
            if glyf[name].isComposite():
                for component in glyf[name].components:
                    assert glyf[component.glyphName].numberOfContours != 0
        out = io.BytesIO()
        font.save(out)  # fontTools can rebuild every table


def test_fallback_when_fpdf2_is_not_a_checked_version(
    fund: FundInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fpdf, "FPDF_VERSION", "99.0.0")
    with caplog.at_level(logging.WARNING, logger="app.renderers.receipt_pdf"):
        renderer = ReceiptRenderer(fund)
    assert not renderer.fast
    assert any("slow font path" in message for message in caplog.messages)
    assert "Số tiền: 50.000.000 ₫" in pdftotext(renderer.render_receipt(make_receipt()), tmp_path)


def test_qr_fallback_without_fpdf_internals_draws_the_same_modules() -> None:
    """If FPDF._out ever disappears, the QR code is drawn with FPDF.rect()."""
    import zxingcpp

    class RectRecorder:
        k, h = 72 / 25.4, 297.0

        def __init__(self) -> None:
            self.rects: list[tuple[float, float, float, float]] = []

        def rect(self, x: float, y: float, w: float, h: float, style: object = None) -> None:
            self.rects.append((x, y, w, h))

    url = "https://quybaotrotreem.haiphong.gov.vn/xac-thuc/BTTE-2024-000001"
    recorder = RectRecorder()
    receipt_pdf._draw_qr(recorder, url, 10.0, 20.0, 37.0)  # type: ignore[arg-type]
    image = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M").to_image(add_quiet_zones=False)
    pixels, size = bytes(image), image.shape[0]
    matrix = [[pixels[r * size + c] == 0 for c in range(size)] for r in range(size)]
    module = 37.0 / len(matrix)
    dark = {
        (round((x - 10.0) / module) + i, round((y - 20.0) / module))
        for x, y, w, _h in recorder.rects
        for i in range(round(w / module))
    }
    assert dark == {(c, r) for r, row in enumerate(matrix) for c, v in enumerate(row) if v}


def test_module_level_helpers(fund: FundInfo, tmp_path: Path) -> None:
    pdf = render_receipt(fund, make_receipt())
    assert pdf.startswith(b"%PDF-")
    assert "GIẤY CHỨNG NHẬN ỦNG HỘ" in pdftotext(pdf, tmp_path)
    assert receipt_pdf.render_statement(fund, make_statement()).startswith(b"%PDF-")


@pytest.mark.parametrize("path", sorted(Path(receipt_pdf.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_renderer_modules_do_not_import_flask(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+flask", source, re.MULTILINE)


def test_pdf_fonts_interface_on_its_own(tmp_path: Path) -> None:
    """The engine needs no receipt: a library of faces, documents, text, bytes."""
    faces = [("", receipt_pdf.FONT_DIR / "NotoSerif-Regular.ttf"), ("B", receipt_pdf.FONT_DIR / "NotoSerif-Bold.ttf")]
    library = pdf_fonts.FontLibrary("Serif", faces)
    outputs = []
    for pdf in (library.new_document(), pdf_fonts.plain_document("Serif", faces)):
        pdf.add_page()
        text = pdf_fonts.text_emitter(pdf)
        pdf.set_font("Serif", "", 12)
        text(20, 30, "Quỹ Bảo trợ trẻ em — Иван")
        pdf.set_font("Serif", "B", 12)
        text(20, 40, "Năm mươi triệu đồng chẵn")
        outputs.append(pdf_fonts.document_bytes(pdf))
    shared, plain = outputs
    assert isinstance(library.new_document(), pdf_fonts.SharedFontPDF)
    assert pdftotext(shared, tmp_path) == pdftotext(plain, tmp_path)
    assert "Quỹ Bảo trợ trẻ em — Иван\n" in pdftotext(shared, tmp_path)
    assert same_pixels(shared, plain, tmp_path)


# --- issue #12 ---------------------------------------------------------------------


APP_VERIFY_URL = "https://quybaotrotreem.haiphong.gov.vn/receipts/verify/Qm9uZ2hhbmcta2h1eWVu_Tm90LUd1ZXNz"


@pytest.mark.parametrize("url", [
    APP_VERIFY_URL,  # the app's shape: 87 characters
    "https://quybaotrotreem.haiphong.gov.vn/xac-thuc/BTTE-2024-000123?k=" + "f" * 60,
])
@pytest.mark.parametrize("kind", ["receipt", "statement"])
def test_verify_url_prints_on_one_line_and_is_a_link(
    renderer: ReceiptRenderer, tmp_path: Path, url: str, kind: str
) -> None:
    """Copying the URL under the QR code gives the whole URL (issue #12, item 23)."""
    if kind == "receipt":
        pdf = renderer.render_receipt(make_receipt(verify_url=url))
    else:
        pdf = renderer.render_statement(make_statement(verify_url=url))
    assert url in pdftotext(pdf, tmp_path).splitlines()
    assert b"/URI (" + url.encode() + b")" in pdf
    assert_inside_margins(pdf, tmp_path)


@pytest.mark.parametrize("lines", [6, 8, 11, 30])
def test_statement_pages_after_the_first_say_whose_statement_they_are(
    renderer: ReceiptRenderer, naive: ReceiptRenderer, tmp_path: Path, lines: int
) -> None:
    """A page never holds only the signature: the last rows come along, and every page
    after the first names the statement and the donor (issue #12, item 22)."""
    data = make_statement(lines=lines)
    pdf = renderer.render_statement(data)
    pages = [page for page in pdftotext(pdf, tmp_path).split("\f") if page.strip()]
    assert len(pages) >= 2
    for page in pages[1:]:
        assert "Số: BTH-2024-00001" in page and "Trần Thị Ngọc Ánh" in page
        assert re.search(r"\d{2}/\d{2}/2024", page), "a page without table rows"
    assert "Nguyễn Thị Minh Hằng" in pages[-1] and "Tổng cộng" in pages[-1]
    assert_inside_margins(pdf, tmp_path)
    assert pdftotext(pdf, tmp_path) == pdftotext(naive.render_statement(data), tmp_path)

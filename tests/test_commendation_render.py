"""The commendation list renderers: XLSX, CSV and PDF built from one plain document.

Run alone with ``pytest --noconftest``: these tests need no app, no database.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import subprocess
import unicodedata
from datetime import date

import pytest
from openpyxl import load_workbook

from app.renderers.commendation import (
    CommendationDocument,
    CommendationRow,
    date_line,
    printed_name,
    render_csv,
    render_pdf,
    render_xlsx,
    title_for,
)
from app.vnd import format_vnd

pytestmark = pytest.mark.nodb

LONG_NAME = (
    "Ngân hàng Thương mại Cổ phần Công Thương Việt Nam - Chi nhánh Hải Phòng "
    "và Công đoàn cơ sở các phòng giao dịch trực thuộc khu vực Duyên hải Bắc Bộ"
)
LONG_ADDRESS = (
    "Tầng 5, tòa nhà Trung tâm Thương mại và Văn phòng cho thuê, số 36 đường Điện Biên Phủ, "
    "phường Máy Tơ, quận Ngô Quyền, thành phố Hải Phòng"
)

ORGANIZATIONS = [
    CommendationRow(
        name="Công ty Cổ phần Cảng Hải Phòng",
        address="Số 8A Trần Phú, phường Máy Chai, quận Ngô Quyền, thành phố Hải Phòng",
        tax_code="0200236845",
        amount=120_500_000,
        donation_count=3,
    ),
    CommendationRow(
        name=LONG_NAME,
        address=LONG_ADDRESS,
        tax_code="0100111948-012",
        amount=75_000_000,
        donation_count=1,
    ),
    CommendationRow(
        name="Hội Doanh nhân trẻ Hải Phòng",
        address="Số 1 Hoàng Văn Thụ, quận Hồng Bàng, thành phố Hải Phòng",
        amount=50_000_000,
        donation_count=2,
    ),
]
INDIVIDUALS = [
    CommendationRow(name="Nguyễn Văn An", title="Ông", amount=200_000_000, donation_count=12,
                    address="Phường Lê Chân, thành phố Hải Phòng"),
    CommendationRow(name="Phạm Thị Thu Hương", title="Bà", amount=66_600_000, donation_count=2),
    CommendationRow(name="Trần Thị Bình", title="Bà", amount=50_000_000, donation_count=1,
                    address="Xã An Hưng, thành phố Hải Phòng"),
    CommendationRow(name="Đỗ Minh Quân", amount=51_000_000, donation_count=5),
]
ORG_TOTAL = 120_500_000 + 75_000_000 + 50_000_000
IND_TOTAL = 200_000_000 + 66_600_000 + 50_000_000 + 51_000_000
GRAND_TOTAL = ORG_TOTAL + IND_TOTAL

EXPECTED_ORG_NAMES = [r.name for r in ORGANIZATIONS]
EXPECTED_IND_NAMES = ["Ông Nguyễn Văn An", "Bà Phạm Thị Thu Hương", "Bà Trần Thị Bình", "Đỗ Minh Quân"]


def make_doc(**overrides) -> CommendationDocument:
    values = dict(
        year=2023,
        parent_agency="SỞ Y TẾ THÀNH PHỐ HẢI PHÒNG",
        proposing_body="TRUNG TÂM CÔNG TÁC XÃ HỘI VÀ QUỸ BẢO TRỢ TRẺ EM HẢI PHÒNG",
        city="Hải Phòng",
        organizations=ORGANIZATIONS,
        individuals=INDIVIDUALS,
        signatory_title="GIÁM ĐỐC",
        signatory_name="Nguyễn Thị Hoa",
        document_date=date(2024, 3, 5),
        submission_number="DS-2024-01",
        threshold=50_000_000,
    )
    values.update(overrides)
    return CommendationDocument(**values)


@pytest.fixture(scope="module")
def doc() -> CommendationDocument:
    return make_doc()


@pytest.fixture(scope="module")
def empty_individuals_doc() -> CommendationDocument:
    return make_doc(individuals=[])


# --------------------------------------------------------------------------- helpers


def xlsx_sheet(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    assert len(wb.worksheets) == 1
    return wb.worksheets[0]


def xlsx_table(ws) -> list[tuple]:
    """Rows of the table (after the heading row) up to and including the grand total."""
    heading_row = next(
        row for row in range(1, ws.max_row + 1) if ws.cell(row=row, column=1).value == "STT"
    )
    rows = []
    for row in range(heading_row + 1, ws.max_row + 1):
        values = tuple(ws.cell(row=row, column=col) for col in range(1, 7))
        rows.append(values)
        if values[1].value and str(values[1].value).startswith("TỔNG CỘNG"):
            break
    return rows


def xlsx_people(ws) -> list[tuple[str, int, int]]:
    """(section, stt, name, amount) for every donor row in the sheet, in order."""
    section, people = None, []
    for cells in xlsx_table(ws):
        first = cells[0].value
        if isinstance(first, str) and first.startswith(("I.", "II.")):
            section = first
        elif isinstance(first, int):
            people.append((section, first, cells[1].value, cells[4].value))
    return people


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def pdftotext(data: bytes, tmp_path, *args: str) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "list.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", *args, str(path), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    return unicodedata.normalize("NFC", out)


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pdf_names_in_order(text: str, names: list[str]) -> bool:
    position = 0
    for name in names:
        found = text.find(name, position)
        if found < 0:
            return False
        position = found + len(name)
    return True


# --------------------------------------------------------------------------- shared text


def test_title_for_uses_the_year_of_the_donations(doc):
    assert title_for(doc) == (
        "DANH SÁCH ĐỀ NGHỊ CHỦ TỊCH ỦY BAN NHÂN DÂN THÀNH PHỐ TẶNG BẰNG KHEN CHO CÁC TẬP THỂ, "
        "CÁ NHÂN CÓ THÀNH TÍCH ĐÓNG GÓP, ỦNG HỘ QUỸ BẢO TRỢ TRẺ EM THÀNH PHỐ NĂM 2023"
    )


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2024, 3, 5), "Hải Phòng, ngày 05 tháng 3 năm 2024"),
        (date(2024, 2, 15), "Hải Phòng, ngày 15 tháng 02 năm 2024"),
        (date(2025, 12, 31), "Hải Phòng, ngày 31 tháng 12 năm 2025"),
    ],
)
def test_date_line_pads_day_below_10_and_months_1_2(day, expected):
    assert date_line(make_doc(document_date=day)) == expected


def test_printed_name_puts_title_before_name_and_normalises_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    row = CommendationRow(name=decomposed, title="Ông", amount=50_000_000, donation_count=1)
    assert printed_name(row) == "Ông Nguyễn Văn An"
    assert printed_name(dataclasses.replace(row, title=None)) == "Nguyễn Văn An"


def test_rows_below_threshold_or_non_int_amounts_are_refused():
    low = CommendationRow(name="Bà Lê Thị Mai", amount=49_999_999, donation_count=1)
    with pytest.raises(ValueError, match="threshold"):
        make_doc(individuals=[low])
    with pytest.raises(TypeError):
        CommendationRow(name="X", amount=50_000_000.0, donation_count=1)
    with pytest.raises(ValueError):
        CommendationRow(name="  ", amount=50_000_000, donation_count=1)
    with pytest.raises(ValueError, match="already starts with its title"):
        CommendationRow(name="Ông Nguyễn Văn An", title="Ông", amount=50_000_000, donation_count=1)


# --------------------------------------------------------------------------- XLSX


def test_xlsx_header_title_and_sheet_name(doc):
    ws = xlsx_sheet(render_xlsx(doc))
    assert ws.title == "Danh sách 2023"
    texts = [c.value for row in ws.iter_rows(min_row=1, max_row=7) for c in row if c.value]
    # The title cell breaks its three lines with newlines; read as one line it is title_for.
    texts = [t.replace("\n", " ") if isinstance(t, str) else t for t in texts]
    assert "SỞ Y TẾ THÀNH PHỐ HẢI PHÒNG" in texts
    assert "TRUNG TÂM CÔNG TÁC XÃ HỘI VÀ QUỸ BẢO TRỢ TRẺ EM HẢI PHÒNG" in texts
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts
    assert "Độc lập - Tự do - Hạnh phúc" in texts
    assert "Hải Phòng, ngày 05 tháng 3 năm 2024" in texts
    assert "Số: DS-2024-01" in texts
    assert title_for(doc) in texts
    assert "(Tổng giá trị ủng hộ từ 50.000.000 đồng trở lên)" in texts
    headings = [ws.cell(row=8, column=col).value for col in range(1, 7)]
    assert headings == [
        "STT", "Tên tập thể/cá nhân", "Địa chỉ", "Mã số thuế",
        "Số tiền ủng hộ (VNĐ)", "Hình thức đề nghị khen thưởng",
    ]
    assert ws.freeze_panes == "A9"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
    assert ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == "$8:$8"


def test_xlsx_sections_amounts_subtotals_and_total(doc):
    ws = xlsx_sheet(render_xlsx(doc))
    table = xlsx_table(ws)
    labels = [cells[0].value if isinstance(cells[0].value, str) else cells[1].value for cells in table]
    assert labels == [
        "I. TẬP THỂ", *EXPECTED_ORG_NAMES, "Cộng I",
        "II. CÁ NHÂN", *EXPECTED_IND_NAMES, "Cộng II",
        "TỔNG CỘNG (I + II)",
    ]
    people = xlsx_people(ws)
    assert [(s, stt) for s, stt, _, _ in people] == [
        ("I. TẬP THỂ", 1), ("I. TẬP THỂ", 2), ("I. TẬP THỂ", 3),
        ("II. CÁ NHÂN", 1), ("II. CÁ NHÂN", 2), ("II. CÁ NHÂN", 3), ("II. CÁ NHÂN", 4),
    ]
    assert [a for *_, a in people] == [r.amount for r in ORGANIZATIONS + INDIVIDUALS]

    amount_cells = [cells[4] for cells in table if cells[4].value is not None]
    assert len(amount_cells) == 7 + 3
    for cell in amount_cells:
        assert type(cell.value) is int, cell.coordinate
        assert cell.data_type == "n"
        assert cell.number_format == "#,##0"
    by_label = {cells[1].value: cells[4].value for cells in table}
    assert by_label["Cộng I"] == ORG_TOTAL
    assert by_label["Cộng II"] == IND_TOTAL
    assert by_label["TỔNG CỘNG (I + II)"] == GRAND_TOTAL == 613_100_000
    # Tax codes stay text (leading zeros), the form is the document's.
    first = table[1]
    assert first[3].value == "0200236845"
    assert first[5].value == "Bằng khen của Chủ tịch UBND thành phố"
    assert first[1].alignment.wrap_text and first[1].border.left.style == "thin"


def test_xlsx_signature_block_under_table(doc):
    ws = xlsx_sheet(render_xlsx(doc))
    values = [ws.cell(row=r, column=4).value for r in range(1, ws.max_row + 1)]
    assert values.index("GIÁM ĐỐC") < values.index("Nguyễn Thị Hoa")
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=2).value == "TỔNG CỘNG (I + II)")
    assert values.index("GIÁM ĐỐC") + 1 > total_row


def test_xlsx_empty_section_shows_khong_co(empty_individuals_doc):
    ws = xlsx_sheet(render_xlsx(empty_individuals_doc))
    table = xlsx_table(ws)
    labels = [cells[0].value if isinstance(cells[0].value, str) else cells[1].value for cells in table]
    assert labels == [
        "I. TẬP THỂ", *EXPECTED_ORG_NAMES, "Cộng I",
        "II. CÁ NHÂN", "Không có", "Cộng II",
        "TỔNG CỘNG (I + II)",
    ]
    by_label = {cells[1].value: cells[4].value for cells in table}
    assert by_label["Cộng II"] == 0
    assert by_label["TỔNG CỘNG (I + II)"] == ORG_TOTAL


def test_xlsx_never_turns_a_name_into_a_formula():
    row = CommendationRow(name='=HYPERLINK("http://x","y")', amount=60_000_000, donation_count=1)
    ws = xlsx_sheet(render_xlsx(make_doc(individuals=[row])))
    cell = next(c for line in xlsx_table(ws) for c in line if c.value == '=HYPERLINK("http://x","y")')
    assert cell.data_type == "s"


def test_xlsx_without_submission_number_leaves_the_number_out(doc):
    ws = xlsx_sheet(render_xlsx(make_doc(submission_number=None)))
    texts = [c.value for row in ws.iter_rows(min_row=1, max_row=7) for c in row if c.value]
    assert not any(str(t).startswith("Số:") for t in texts)


# --------------------------------------------------------------------------- CSV


def test_csv_bom_crlf_and_rows(doc):
    data = render_csv(doc)
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    rows = csv_rows(data)
    assert rows[0] == ["STT", "Nhóm", "Tên", "Địa chỉ", "Mã số thuế", "Số tiền (VNĐ)", "Hình thức khen thưởng"]
    body = rows[1:]
    assert [(r[0], r[1]) for r in body] == [
        ("1", "Tập thể"), ("2", "Tập thể"), ("3", "Tập thể"),
        ("1", "Cá nhân"), ("2", "Cá nhân"), ("3", "Cá nhân"), ("4", "Cá nhân"),
    ]
    assert [r[2] for r in body] == EXPECTED_ORG_NAMES + EXPECTED_IND_NAMES
    assert [r[5] for r in body] == [str(r.amount) for r in ORGANIZATIONS + INDIVIDUALS]
    assert body[1][3] == LONG_ADDRESS
    assert body[0][4] == "0200236845"
    assert all(r[6] == "Bằng khen của Chủ tịch UBND thành phố" for r in body)


def test_csv_empty_section_has_no_rows(empty_individuals_doc):
    rows = csv_rows(render_csv(empty_individuals_doc))
    assert [r[1] for r in rows[1:]] == ["Tập thể"] * 3


@pytest.mark.parametrize("name", ["=1+2", "+84 Công ty", "-Nhóm", "@Nhóm thiện nguyện"])
def test_csv_formula_injection_gets_an_apostrophe(name):
    row = CommendationRow(name=name, amount=50_000_000, donation_count=1)
    rows = csv_rows(render_csv(make_doc(individuals=[row])))
    assert rows[-1][2] == "'" + name
    assert rows[-1][5] == "50000000"


# --------------------------------------------------------------------------- PDF


def test_pdf_text_has_title_names_and_totals(doc, tmp_path):
    data = render_pdf(doc)
    assert data.startswith(b"%PDF-")
    layout = pdftotext(data, tmp_path, "-layout")
    # Wrapped texts (the proposing body, long names) read whole in content-stream order.
    raw = collapse(pdftotext(data, tmp_path, "-raw"))
    assert title_for(doc) in collapse(layout)
    for text in (
        "SỞ Y TẾ THÀNH PHỐ HẢI PHÒNG",
        "TRUNG TÂM CÔNG TÁC XÃ HỘI VÀ QUỸ BẢO TRỢ TRẺ EM HẢI PHÒNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hải Phòng, ngày 05 tháng 3 năm 2024",
        "Số: DS-2024-01",
        "(Tổng giá trị ủng hộ từ 50.000.000 đồng trở lên)",
        "I. TẬP THỂ",
        "II. CÁ NHÂN",
        "GIÁM ĐỐC",
        "Nguyễn Thị Hoa",
    ):
        assert text in raw, text
    pages = [p for p in layout.split("\f") if p.strip()]
    assert all(f"Trang {n}/{len(pages)}" in page for n, page in enumerate(pages, start=1))
    # Short names sit on one line of the layout; every amount and total is formatted.
    for name in EXPECTED_ORG_NAMES[:1] + EXPECTED_ORG_NAMES[2:] + EXPECTED_IND_NAMES:
        assert name in layout, name
    for amount in [r.amount for r in ORGANIZATIONS + INDIVIDUALS] + [ORG_TOTAL, IND_TOTAL, GRAND_TOTAL]:
        assert format_vnd(amount, symbol=False) in layout
    assert "613.100.000" in layout
    # The long name and address wrap inside their cells; in content order they read whole.
    assert LONG_NAME in raw
    assert LONG_ADDRESS in raw


def test_pdf_empty_section(empty_individuals_doc, tmp_path):
    layout = pdftotext(render_pdf(empty_individuals_doc), tmp_path, "-layout")
    assert "II. CÁ NHÂN" in layout
    assert "Không có" in layout
    assert format_vnd(ORG_TOTAL, symbol=False) in layout


def test_pdf_repeats_headings_and_numbers_pages(tmp_path):
    many = [
        CommendationRow(name=f"Nhà hảo tâm số {i:02d}", title="Ông", amount=50_000_000 + i,
                        address="Phường Hồng Bàng, thành phố Hải Phòng", donation_count=1)
        for i in range(1, 41)
    ]
    data = render_pdf(make_doc(individuals=many))
    pages = pdftotext(data, tmp_path, "-layout").split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert "Hình thức đề nghị" in page
        assert f"Trang {number}/{len(pages)}" in page
    raw = collapse(pdftotext(data, tmp_path, "-raw"))
    assert pdf_names_in_order(raw, [f"Ông Nhà hảo tâm số {i:02d}" for i in range(1, 41)])


# --------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("which", ["doc", "empty_individuals_doc"])
def test_three_formats_agree(which, request, tmp_path):
    document = request.getfixturevalue(which)
    ws = xlsx_sheet(render_xlsx(document))
    xlsx = [(name, amount) for _, _, name, amount in xlsx_people(ws)]
    csv_data = [(r[2], int(r[5])) for r in csv_rows(render_csv(document))[1:]]
    expected = [(printed_name(r), r.amount) for r in [*document.organizations, *document.individuals]]
    assert xlsx == csv_data == expected
    raw = collapse(pdftotext(render_pdf(document), tmp_path, "-raw"))
    # Each donor appears, in order, followed by their formatted amount.
    assert pdf_names_in_order(
        raw, [piece for name, amount in expected for piece in (name, format_vnd(amount, symbol=False))]
    )


def test_pdf_is_reproducible_for_the_same_document(doc):
    # A frozen list downloaded twice is the same file (its hash can be recorded).
    assert render_pdf(doc) == render_pdf(doc)


@pytest.mark.parametrize("count", range(2, 16))
def test_pdf_never_strands_a_heading_a_total_or_the_signature(count, tmp_path):
    """Whatever the number of rows, a section heading is never the last line of a page, a
    page never opens on a subtotal or the grand total, and the signature shares its page
    with the summary lines."""
    organizations = [
        CommendationRow(name=f"Công ty TNHH Thành Đạt {i:02d}", amount=50_000_000 + i,
                        address="Khu công nghiệp Đình Vũ, phường Đông Hải, thành phố Hải Phòng",
                        tax_code=f"02001234{i:02d}", donation_count=1)
        for i in range(1, count + 1)
    ]
    data = render_pdf(make_doc(organizations=organizations, individuals=INDIVIDUALS[:2]))
    pages = [p for p in pdftotext(data, tmp_path, "-layout").split("\f") if p.strip()]
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        body = lines[next(i for i, line in enumerate(lines) if "(VNĐ)" in line) + 1:]
        body = [line for line in body if not line.startswith("Trang ") and line != "thưởng"]
        assert not body[0].startswith(("Cộng", "TỔNG CỘNG")), body[:2]
        last_table_line = [line for line in body if not line.startswith(("Tổng số", "(Bằng chữ",
                                                                          "GIÁM ĐỐC", "Nguyễn Thị Hoa"))]
        assert last_table_line[-1] not in ("I. TẬP THỂ", "II. CÁ NHÂN"), page
    signed = next(page for page in pages if "Nguyễn Thị Hoa" in page)
    assert "Tổng số: " in signed and "(Bằng chữ:" in signed and "TỔNG CỘNG (I + II)" in signed


def test_draft_pdf_says_draft_on_every_page_and_a_frozen_one_does_not(tmp_path):
    """Issue #12 item 24: the live (not frozen) list is visibly a draft."""
    many = [
        CommendationRow(name=f"Nguyễn Văn Số {i}", address="Phường Lê Chân, thành phố Hải Phòng",
                        amount=60_000_000 + i, donation_count=1)
        for i in range(40)
    ]
    draft = render_pdf(make_doc(individuals=many, submission_number=None))
    pages = [page for page in pdftotext(draft, tmp_path).split("\f") if page.strip()]
    assert len(pages) >= 2
    assert all("DỰ THẢO" in page for page in pages)
    frozen = pdftotext(render_pdf(make_doc(individuals=many)), tmp_path)
    assert "DỰ THẢO" not in frozen and "dự thảo" not in frozen.lower()

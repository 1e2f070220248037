"""What the printed reports show on paper: the receiving account, the letterhead's national
motto on one line, headings kept with their tables."""
from __future__ import annotations

from datetime import date

from app.renderers import reports as renderer
from app.services.reports import catalogue
from app.renderers.reports import Column, Paragraph, ReportDocument, Section, Table
from app.services.reports.period import make_period
from tests.bank_helpers import account
from tests.test_reports import pdf_text

YEAR = date.today().year - 1


def test_the_disclosure_prints_the_receiving_account_of_the_bank_accounts(app):
    account("0011009876543", account_name="QUY BAO TRO TRE EM TP HAI PHONG")
    text = " ".join(pdf_text(catalogue.export("disclosure", make_period(YEAR), "pdf").data).split())
    assert "Tài khoản tiếp nhận: 0011009876543 — QUY BAO TRO TRE EM TP HAI PHONG" in text
    assert "(chưa khai báo)" not in text


def _document(*sections: Section) -> ReportDocument:
    return ReportDocument(
        slug="kiem-tra", parent_agency="UBND THÀNH PHỐ HẢI PHÒNG", issuing_body="QUỸ BẢO TRỢ TRẺ EM",
        place="Hải Phòng", document_date=date(YEAR, 12, 31), title_lines=("BÁO CÁO KIỂM TRA",), subtitle="",
        sections=sections, signatory_title="GIÁM ĐỐC", signatory_name="Nguyễn Văn A")


TABLE = Table((Column("Nội dung", 60), Column("Số tiền", 30, "money")),
              tuple((f"Dòng số {i}", 1_000_000 * i) for i in range(1, 6)), title="Bảng kiểm tra")


def test_the_national_motto_stays_on_one_line_on_a_portrait_page():
    document = _document(Section("I. Phần có bảng", (TABLE,)))
    assert document.orientation == "P"
    lines = [" ".join(line.split()) for line in pdf_text(renderer.render(document, "pdf")).splitlines()]
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line for line in lines)


def test_a_section_heading_never_sits_alone_at_the_bottom_of_a_page():
    for filler in range(20, 34):  # the heading falls at every height near the bottom of page 1
        document = _document(Section("I. Phần mở đầu", tuple(Paragraph(f"Dòng văn bản {i}.") for i in range(filler))),
                             Section("II. Phần có bảng", (TABLE,)))
        pages = pdf_text(renderer.render(document, "pdf")).split("\f")
        page = next(p for p in pages if "II. Phần có bảng" in p)
        assert "Bảng kiểm tra" in page and "Dòng số 1" in page and "Dòng số 2" in page, filler

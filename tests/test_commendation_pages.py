"""The commendation pages: who may do what, the review flow, downloads, and the demo data's
XLSX, CSV and PDF agreeing with each other."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CommendationExclusion, CommendationSubmission, Role
from app.services import commendation
from app.demo.donations import seed_demo
from app.timeutil import local_to_utc
from app.vnd import format_vnd
from tests import factories
from tests.test_commendation_render import (
    collapse, csv_rows, pdf_names_in_order, pdftotext, xlsx_people, xlsx_sheet,
)


def give(donor, amount, when=None):
    return factories.donation(donor, amount, received_at=when or local_to_utc(datetime(2023, 6, 1, 9)),
                              issue_receipt=False)


@pytest.fixture
def year_data():
    org = factories.organization("Công ty TNHH Thép Đình Vũ Xanh", tax_code="0201234567")
    person = factories.donor("Trần Thị Thu Hà", address="Phường Lê Chân")
    near = factories.donor("Hoàng Thị Lan")
    give(org, 120_000_000), give(person, 52_000_000), give(near, 49_500_000)
    return org, person, near


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role, status", [
    (Role.DIRECTOR, 200), (Role.ACCOUNTANT, 200), (Role.ADMIN, 200),
    (Role.CASE_WORKER, 403), (Role.VIEWER, 403),
])
def test_who_may_see_the_list(client, login_as, year_data, role, status):
    login_as(role)
    response = client.get("/staff/commendation?year=2023")
    assert response.status_code == status
    if status == 200:
        page = text(response)
        assert "Danh sách đề nghị khen thưởng năm 2023" in page
        assert "Công ty TNHH Thép Đình Vũ Xanh" in page and "120.000.000" in page
        assert ("Chốt danh sách" in page) == (role in (Role.DIRECTOR, Role.ADMIN))


def test_accountant_reads_but_cannot_act(client, login_as, year_data):
    org, *_ = year_data
    login_as(Role.ACCOUNTANT)
    page = text(client.get(f"/staff/commendation/2023/donors/{org.id}"))
    assert "120.000.000" in page and "Loại khỏi danh sách" not in page
    assert client.post("/staff/commendation/2023/freeze", data={"confirm": "y"}).status_code == 403
    assert client.post(f"/staff/commendation/2023/donors/{org.id}/exclude",
                       data={"reason": "declined"}).status_code == 403
    assert client.post(f"/staff/commendation/2023/donors/{org.id}/override",
                       data={"title": "Bà"}).status_code == 403
    assert client.get("/staff/commendation/2023/export.csv").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(CommendationExclusion.id))) == 0


def test_page_shows_groups_totals_near_threshold_and_drill_down(client, login_as, year_data):
    org, person, near = year_data
    login_as(Role.DIRECTOR)
    page = text(client.get("/staff/commendation?year=2023"))
    assert "1 · 120.000.000" in page and "1 · 52.000.000" in page
    near_section = page.split('data-testid="near-threshold"')[1].split("</table>")[0]
    assert "Hoàng Thị Lan" in near_section and "49.500.000" in near_section
    individuals = page.split('data-testid="individuals"')[1].split("</table>")[0]
    assert "Trần Thị Thu Hà" in individuals and "Hoàng Thị Lan" not in individuals
    drill = text(client.get(f"/staff/commendation/2023/donors/{person.id}"))
    assert "52.000.000" in drill and "Có trong danh sách đề nghị" in drill
    assert client.get("/staff/commendation?year=1999").status_code == 404
    assert client.get("/staff/commendation/2023/donors/999999").status_code == 404


def test_director_excludes_and_takes_back_with_a_reason(client, login_as, year_data):
    org, *_ = year_data
    login_as(Role.DIRECTOR)
    response = client.post(f"/staff/commendation/2023/donors/{org.id}/exclude", data={"reason": "other"})
    assert response.status_code == 422 and "Vui lòng ghi rõ lý do khác" in text(response)
    response = client.post(f"/staff/commendation/2023/donors/{org.id}/exclude", data={})
    assert response.status_code == 400 and "Vui lòng chọn lý do" in text(response)
    response = client.post(f"/staff/commendation/2023/donors/{org.id}/exclude",
                           data={"reason": "other", "note": "Doanh nghiệp đang bị xử phạt"})
    assert response.status_code == 302
    page = text(client.get("/staff/commendation?year=2023"))
    organizations = page.split('data-testid="organizations"')[1].split("</table>")[0]
    assert "Thép Đình Vũ Xanh" not in organizations
    exclusions = page.split('data-testid="exclusions"')[1].split("</table>")[0]
    assert "Lý do khác" in exclusions and "Doanh nghiệp đang bị xử phạt" in exclusions
    assert "120.000.000" in exclusions  # still over the threshold, kept off on purpose
    csv_data = client.get("/staff/commendation/2023/export.csv").data.decode("utf-8-sig")
    assert "Thép Đình Vũ Xanh" not in csv_data
    assert client.post(f"/staff/commendation/2023/donors/{org.id}/include").status_code == 302
    assert "Thép Đình Vũ Xanh" in client.get("/staff/commendation/2023/export.csv").data.decode("utf-8-sig")


def test_director_sets_how_a_name_prints(client, login_as, year_data):
    _, person, _ = year_data
    login_as(Role.DIRECTOR)
    response = client.post(f"/staff/commendation/2023/donors/{person.id}/override",
                           data={"title": "Bà", "name": "Bà Trần Thị Thu Hà"})
    assert response.status_code == 422 and "danh xưng" in text(response)
    response = client.post(f"/staff/commendation/2023/donors/{person.id}/override",
                           data={"title": "Bà", "name": "", "address": "x" * 501})
    assert response.status_code == 400 and "Tối đa 500 ký tự" in text(response)
    response = client.post(f"/staff/commendation/2023/donors/{person.id}/override",
                           data={"title": "Bà", "address": "Phường Lê Chân, thành phố Hải Phòng"})
    assert response.status_code == 302
    rows = csv_rows(client.get("/staff/commendation/2023/export.csv").data)
    assert rows[2][2:4] == ["Bà Trần Thị Thu Hà", "Phường Lê Chân, thành phố Hải Phòng"]


def test_freeze_from_the_page_then_diff_and_downloads(client, login_as, year_data):
    org, *_ = year_data
    login_as(Role.DIRECTOR)
    response = client.post("/staff/commendation/2023/freeze", data={})
    assert response.status_code == 400 and "Vui lòng xác nhận đã rà soát" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(CommendationSubmission.id))) == 0
    response = client.post("/staff/commendation/2023/freeze", data={"confirm": "y"})
    assert response.status_code == 302
    submission = db.session.scalar(sa.select(CommendationSubmission))
    assert response.headers["Location"].endswith(f"/staff/commendation/submissions/{submission.id}")
    page = text(client.get(f"/staff/commendation/submissions/{submission.id}"))
    assert "DS-2024-01" in page and "Không có khác biệt" in page

    give(org, 7_000_000, local_to_utc(datetime(2023, 12, 31, 23, 30)))
    page = text(client.get(f"/staff/commendation/submissions/{submission.id}"))
    assert "Số tiền thay đổi (1)" in page and "120.000.000\u00a0₫ → 127.000.000\u00a0₫" in page

    for fmt, mimetype in (("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                          ("csv", "text/csv"), ("pdf", "application/pdf")):
        frozen = client.get(f"/staff/commendation/submissions/{submission.id}/export.{fmt}")
        assert frozen.status_code == 200 and frozen.mimetype == mimetype
        assert f"danh-sach-khen-thuong-2023-DS-2024-01.{fmt}" in frozen.headers["Content-Disposition"]
        live = client.get(f"/staff/commendation/2023/export.{fmt}")
        assert "danh-sach-khen-thuong-2023-du-thao" in live.headers["Content-Disposition"]
    frozen_csv = csv_rows(client.get(f"/staff/commendation/submissions/{submission.id}/export.csv").data)
    live_csv = csv_rows(client.get("/staff/commendation/2023/export.csv").data)
    assert frozen_csv[1][5] == "120000000" and live_csv[1][5] == "127000000"
    assert client.get(f"/staff/commendation/submissions/{submission.id}/export.doc").status_code == 404
    index = text(client.get("/staff/commendation?year=2023"))
    assert "DS-2024-01" in index


def test_demo_exports_open_and_agree_with_each_other(client, login_as, tmp_path):
    seed_demo()
    login_as(Role.DIRECTOR)
    expected = [
        ("I. TẬP THỂ", "Công ty TNHH Thép Đình Vũ Xanh", 120_000_000),
        ("I. TẬP THỂ", "Công ty Cổ phần Logistics Cảng Hoa Phượng", 80_500_000),
        ("I. TẬP THỂ", "Công ty Cổ phần Dược phẩm Lạch Tray", 65_000_000),
        ("I. TẬP THỂ", "Công ty Cổ phần Xi măng Tràng Kênh Mới", 50_000_000),  # exactly on it
        ("II. CÁ NHÂN", "Phạm Quang Vinh", 60_000_000),
        ("II. CÁ NHÂN", "Trần Thị Thu Hà", 52_000_000),
    ]
    client.post("/staff/commendation/2023/freeze", data={"confirm": "y"})
    submission = db.session.scalar(sa.select(CommendationSubmission))
    for base in ("/staff/commendation/2023", f"/staff/commendation/submissions/{submission.id}"):
        files = {fmt: client.get(f"{base}/export.{fmt}") for fmt in ("xlsx", "csv", "pdf")}
        assert all(r.status_code == 200 for r in files.values())
        xlsx = [(section, name, amount) for section, _, name, amount in xlsx_people(xlsx_sheet(files["xlsx"].data))]
        assert xlsx == expected
        rows = csv_rows(files["csv"].data)[1:]
        assert [({"Tập thể": "I. TẬP THỂ", "Cá nhân": "II. CÁ NHÂN"}[r[1]], r[2], int(r[5])) for r in rows] == expected
        raw = collapse(pdftotext(files["pdf"].data, tmp_path, "-raw"))
        assert pdf_names_in_order(raw, [piece for _, name, amount in expected
                                        for piece in (name, format_vnd(amount, symbol=False))])
        assert "427.500.000" in raw  # the grand total
        for hidden in ("Hoàng Thị Lan", "Công ty TNHH Dệt may Tiên Lãng"):  # just under
            assert hidden not in raw
    # The service agrees with what the files say.
    clist = commendation.build_list(2023)
    assert [(e.name, e.amount) for e in clist.organizations + clist.individuals] == [
        (name, amount) for _, name, amount in expected]
    assert io.BytesIO(files["pdf"].data).read(5) == b"%PDF-"

"""Staff report pages (/staff/reports, issue 14): each report as a page from its data
function, downloads identical to the CLI's files, freezing with a confirmation step and an
audit entry, bad parameters as a 400 with a Vietnamese message."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from flask import g
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditEntry, Channel, FrozenReport, Role
from tests import factories

LAST = date.today().year - 1
NAMES = ("disclosure", "appeal", "action-month", "restricted-funds", "donors")


def sign_in(login_as, role):
    g.pop("_login_user", None)
    return login_as(role)


@pytest.fixture
def last_year(client):
    """A small year of gifts: a company above the threshold, a person, a gift in kind,
    all through an appeal, some in June (the Action Month)."""
    appeal = factories.appeal(slug="tet-am-ap", title="Tết ấm áp", status="open")
    june = datetime(LAST, 6, 10, 3, tzinfo=timezone.utc)
    factories.donation(factories.organization("Công ty CP Cảng Hải Phòng", public_listing_consent=True), 90_000_000,
                       received_at=june, appeal_id=appeal.id)
    factories.donation(factories.donor("Phạm Thu Hà"), 5_000_000,
                       received_at=datetime(LAST, 3, 2, 3, tzinfo=timezone.utc), appeal_id=appeal.id)
    factories.donation(factories.donor("Nhà sách Tiền Phong"), 3_000_000, channel=Channel.IN_KIND.value,
                       in_kind_description="200 bộ sách giáo khoa", received_at=june)
    return appeal


def test_report_list_and_roles(client, login_as):
    sign_in(login_as, Role.VIEWER)
    page = client.get("/staff/reports").get_data(as_text=True)
    for name in NAMES:
        assert f'href="/staff/reports/{name}"' in page
    sign_in(login_as, Role.CASE_WORKER)
    assert client.get("/staff/reports").status_code == 403
    assert client.get("/staff/reports/donors").status_code == 403
    assert client.get("/staff/reports/donors/download.csv").status_code == 403


@pytest.mark.parametrize("name", NAMES)
def test_each_report_page_shows_the_document(client, login_as, last_year, name):
    sign_in(login_as, Role.ACCOUNTANT)
    page = client.get(f"/staff/reports/{name}", query_string={"year": LAST, "appeal": "tet-am-ap"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert 'data-testid="report-document"' in text and "Bản nháp" in text
    expected = {"disclosure": "90.000.000", "appeal": "95.000.000", "action-month": "93.000.000",
                "restricted-funds": "98.000.000", "donors": "Công ty CP Cảng Hải Phòng"}[name]
    assert expected in text
    assert "style=" not in text
    # The accountant may read but not freeze.
    assert "Chốt báo cáo này" not in text


def test_action_month_defaults_to_june_and_dates_are_editable(client, login_as, last_year):
    sign_in(login_as, Role.DIRECTOR)
    june = client.get("/staff/reports/action-month", query_string={"year": LAST}).get_data(as_text=True)
    assert f"từ ngày 01/06/{LAST} đến ngày 30/06/{LAST}" in june and "93.000.000" in june
    march = client.get("/staff/reports/action-month", query_string={
        "year": LAST, "date_from": f"{LAST}-03-01", "date_to": f"{LAST}-03-31"}).get_data(as_text=True)
    assert "5.000.000" in march and "93.000.000" not in march


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
def test_downloads_are_the_cli_files(client, runner, login_as, last_year, tmp_path, fmt):
    sign_in(login_as, Role.DIRECTOR)
    for name in ("disclosure", "appeal"):
        args = {"year": LAST, **({"appeal": "tet-am-ap"} if name == "appeal" else {})}
        web = client.get(f"/staff/reports/{name}/download.{fmt}", query_string=args)
        assert web.status_code == 200
        assert "attachment" in web.headers["Content-Disposition"]
        out = tmp_path / f"{name}.{fmt}"
        cli = ["reports", name, "--year", str(LAST), "--format", fmt, "--output", str(out)]
        if name == "appeal":
            cli += ["--appeal", "tet-am-ap"]
        result = runner.invoke(args=cli)
        assert result.exit_code == 0, result.output
        if fmt == "xlsx":  # the workbook's zip entries carry their write time: compare the cells
            def cells(data):
                book = load_workbook(io.BytesIO(data))
                return [[c.value for c in row] for sheet in book for row in sheet.iter_rows()]
            assert cells(web.data) == cells(out.read_bytes())
        else:
            assert web.data == out.read_bytes()
    assert web.data[:4] == {"pdf": b"%PDF", "xlsx": b"PK\x03\x04", "csv": web.data[:4]}[fmt]


@pytest.mark.parametrize("query, message", [
    ({"year": "abc"}, "Năm không hợp lệ."),
    ({"year": "²"}, "Năm không hợp lệ."),
    ({"year": "1999"}, "Năm phải từ 2000"),
    ({"year": str(date.today().year + 1)}, "Năm phải từ 2000"),
    ({"year": LAST, "date_from": f"{LAST}-05-01", "date_to": f"{LAST}-04-01"}, "Khoảng ngày bị đảo ngược"),
    ({"year": LAST, "date_from": "31/12/2024"}, "ngày không hợp lệ"),
    ({"year": LAST, "date_to": f"{LAST + 1}-01-05"}, f"Khoảng ngày phải nằm trong năm {LAST}"),
])
def test_bad_parameters_are_a_400_with_a_message(client, login_as, query, message):
    sign_in(login_as, Role.DIRECTOR)
    for url in ("/staff/reports/disclosure", "/staff/reports/disclosure/download.pdf"):
        response = client.get(url, query_string=query)
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True)


def test_appeal_report_needs_a_known_appeal(client, login_as, last_year):
    sign_in(login_as, Role.DIRECTOR)
    missing = client.get("/staff/reports/appeal", query_string={"year": LAST})
    assert missing.status_code == 400 and "Chọn chiến dịch" in missing.get_data(as_text=True)
    unknown = client.get("/staff/reports/appeal/download.csv", query_string={"year": LAST, "appeal": "khong-co"})
    assert unknown.status_code == 400 and "Không tìm thấy chiến dịch" in unknown.get_data(as_text=True)
    assert client.get("/staff/reports/khong-co").status_code == 404
    assert client.get("/staff/reports/disclosure/download.docx").status_code == 404


def test_freeze_asks_for_confirmation_then_stores_the_exact_pdf(client, login_as, last_year):
    director = sign_in(login_as, Role.DIRECTOR)
    page = client.get("/staff/reports/disclosure", query_string={"year": LAST}).get_data(as_text=True)
    assert "Chốt báo cáo này" in page
    form = {"year": str(LAST), "date_from": "", "date_to": "", "appeal": ""}
    step = client.post("/staff/reports/disclosure/freeze", data=form)
    assert step.status_code == 200 and 'data-testid="confirm-step"' in step.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FrozenReport)) == 0
    done = client.post("/staff/reports/disclosure/freeze", data={**form, "confirmed": "1"})
    assert done.status_code == 302
    row = db.session.scalars(sa.select(FrozenReport)).one()
    assert row.number == f"BC-{LAST}-CK-01" and row.frozen_by_id == director.id
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "report.freeze")).one()
    assert entry.actor_id == director.id and entry.after["pdf_sha256"] == row.pdf_sha256
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert row.pdf_sha256 in shown and row.number in shown
    pdf = client.get(f"/staff/reports/frozen/{row.id}/download.pdf")
    assert pdf.data == row.pdf and hashlib.sha256(pdf.data).hexdigest() == row.pdf_sha256
    # Later gifts change today's report, never the frozen one.
    factories.donation(amount=7_000_000, received_at=datetime(LAST, 8, 1, 3, tzinfo=timezone.utc))
    assert client.get(f"/staff/reports/frozen/{row.id}/download.pdf").data == row.pdf
    listing = client.get("/staff/reports").get_data(as_text=True)
    assert row.number in listing and row.pdf_sha256 in listing
    assert f"/staff/reports/frozen/{row.id}/download.xlsx" in listing


def test_only_closed_periods_and_directors_freeze(client, login_as):
    sign_in(login_as, Role.DIRECTOR)
    this_year = {"year": str(date.today().year), "date_from": "", "date_to": "", "appeal": "", "confirmed": "1"}
    refused = client.post("/staff/reports/disclosure/freeze", data=this_year)
    assert refused.status_code == 400 and "chưa kết thúc" in refused.get_data(as_text=True)
    sign_in(login_as, Role.ACCOUNTANT)
    assert client.post("/staff/reports/disclosure/freeze", data={**this_year, "year": str(LAST)}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FrozenReport)) == 0


def test_pdf_is_an_official_document(client, login_as, last_year, tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    sign_in(login_as, Role.DIRECTOR)
    pdf = client.get("/staff/reports/disclosure/download.pdf", query_string={"year": LAST}).data
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert re.search(r"Công ty CP Cảng Hải Phòng\s+.*90\.000\.000", text)

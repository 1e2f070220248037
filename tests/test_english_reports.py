"""Commendation, reports and dashboards in English (issue 17): the pages speak the staff
member's language, the official documents (statutory reports, the commendation list) stay
Vietnamese in every format and on the page, the dashboard's cache keeps each language
apart, and the charts' labels follow the page."""
from __future__ import annotations

import enum
import hashlib
import io
import re
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from flask import g
from openpyxl import load_workbook

from app.extensions import db
from app.models import CommendationSubmission, FrozenReport, Role
from app.timeutil import local_to_utc
from tests import factories
from tests.test_english_pages import VIETNAMESE, leftovers, stored_texts

LAST = date.today().year - 1


def sign_in(login_as, role):
    g.pop("_login_user", None)
    return login_as(role)


def speak(client, code: str) -> None:
    client.set_cookie("lang", code)


def main_part(html: str) -> str:
    """The page's own content (the shared header and footer belong to other pages' work)."""
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def others_labels() -> list[str]:
    """The models' own labels (channels, statuses, kinds of donor, roles…): other modules'
    strings, translated there; these tests are about what the pages here say."""
    import app.models as models

    labels: set[str] = set()
    for name in dir(models):
        value = getattr(models, name)
        if name.endswith("_LABELS") and isinstance(value, dict):
            labels.update(str(v) for v in value.values())
        elif isinstance(value, type) and issubclass(value, enum.Enum):
            for member in value:
                try:
                    labels.add(str(member.label))
                except (AttributeError, KeyError):
                    pass
    return sorted(labels, key=len, reverse=True)


def shown_vietnamese(html: str) -> list[str]:
    """Vietnamese a reader sees in the page's content, outside lang="vi" and the data."""
    return leftovers("<html><body><main" + main_part(html) + "</main></body></html>",
                     stored_texts() + others_labels())


def cells(data: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data))
    return [[c.value for c in row] for sheet in book for row in sheet.iter_rows()]


def same_file(fmt: str, vietnamese: bytes, english: bytes) -> None:
    if fmt == "xlsx":  # the zip entries carry their write time: compare the cells
        assert cells(english) == cells(vietnamese)
    else:
        assert english == vietnamese


@pytest.fixture
def last_year(client):
    appeal = factories.appeal(slug="tet-am-ap", title="Tết ấm áp", status="open")
    june = datetime(LAST, 6, 10, 3, tzinfo=timezone.utc)
    factories.donation(factories.organization("Công ty CP Cảng Hải Phòng", public_listing_consent=True), 90_000_000,
                       received_at=june, appeal_id=appeal.id)
    factories.donation(factories.donor("Phạm Thu Hà"), 5_000_000,
                       received_at=datetime(LAST, 3, 2, 3, tzinfo=timezone.utc), appeal_id=appeal.id)
    return appeal


@pytest.fixture
def list_year():
    org = factories.organization("Công ty TNHH Thép Đình Vũ Xanh", tax_code="0201234567")
    person = factories.donor("Trần Thị Thu Hà", address="Phường Lê Chân")
    for donor, amount in ((org, 120_000_000), (person, 52_000_000)):
        factories.donation(donor, amount, received_at=local_to_utc(datetime(2023, 6, 1, 9)), issue_receipt=False)
    return org, person


# ------------------------------------------------------------------ official documents

@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
def test_a_report_downloads_the_same_in_english_as_in_vietnamese(client, login_as, last_year, fmt):
    sign_in(login_as, Role.DIRECTOR)
    for name in ("disclosure", "appeal", "action-month", "restricted-funds", "donors"):
        args = {"year": LAST, **({"appeal": "tet-am-ap"} if name == "appeal" else {})}
        speak(client, "vi")
        vietnamese = client.get(f"/staff/reports/{name}/download.{fmt}", query_string=args)
        speak(client, "en")
        english = client.get(f"/staff/reports/{name}/download.{fmt}", query_string=args)
        assert vietnamese.status_code == english.status_code == 200, name
        assert english.headers["Content-Disposition"] == vietnamese.headers["Content-Disposition"]
        same_file(fmt, vietnamese.data, english.data)
    if fmt == "csv":  # a label made elsewhere (a donor's group) is drawn in Vietnamese
        data = client.get("/staff/reports/disclosure/download.csv", query_string={"year": LAST}).data
        text = data.decode("utf-8-sig")
        assert "Tổ chức, doanh nghiệp (tập thể)" in text and "Tập thể" in text
        assert "Organisations" not in text


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
def test_the_commendation_list_downloads_the_same_in_english(client, login_as, list_year, fmt):
    sign_in(login_as, Role.DIRECTOR)
    speak(client, "vi")
    vietnamese = client.get(f"/staff/commendation/2023/export.{fmt}")
    speak(client, "en")
    english = client.get(f"/staff/commendation/2023/export.{fmt}")
    assert vietnamese.status_code == english.status_code == 200
    same_file(fmt, vietnamese.data, english.data)
    # Frozen in English: the submission's files are the Vietnamese ones too.
    assert client.post("/staff/commendation/2023/freeze", data={"confirm": "y"}).status_code == 302
    submission = db.session.scalar(sa.select(CommendationSubmission))
    english = client.get(f"/staff/commendation/submissions/{submission.id}/export.{fmt}")
    speak(client, "vi")
    vietnamese = client.get(f"/staff/commendation/submissions/{submission.id}/export.{fmt}")
    same_file(fmt, vietnamese.data, english.data)
    if fmt == "pdf":
        assert hashlib.sha256(vietnamese.data).hexdigest() == submission.pdf_sha256


def test_a_report_frozen_in_english_is_the_vietnamese_document(app, client, login_as, last_year):
    from app.renderers.reports import render_pdf
    from app.services.reports import catalogue
    from app.services.reports.period import make_period

    sign_in(login_as, Role.DIRECTOR)
    speak(client, "en")
    form = {"year": str(LAST), "date_from": "", "date_to": "", "appeal": ""}
    step = client.post("/staff/reports/disclosure/freeze", data=form).get_data(as_text=True)
    assert "Freeze the report: Annual transparency report" in step and "will be numbered" in step
    done = client.post("/staff/reports/disclosure/freeze", data={**form, "confirmed": "1"})
    assert done.status_code == 302
    row = db.session.scalars(sa.select(FrozenReport)).one()
    with app.test_request_context(headers={"Cookie": "lang=vi"}):
        document = catalogue.build_document("disclosure", make_period(LAST), number=row.number)
        assert render_pdf(document) == row.pdf
    assert "Tổ chức, doanh nghiệp (tập thể)" in row.document_json
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Report {row.number} frozen" in page
    assert "Official document: shown in Vietnamese." in page
    assert shown_vietnamese(page) == []
    for fmt in ("pdf", "xlsx", "csv"):
        english = client.get(f"/staff/reports/frozen/{row.id}/download.{fmt}").data
        speak(client, "vi")
        same_file(fmt, client.get(f"/staff/reports/frozen/{row.id}/download.{fmt}").data, english)
        speak(client, "en")


def test_a_report_page_in_english_shows_the_document_in_vietnamese(client, login_as, last_year):
    sign_in(login_as, Role.DIRECTOR)
    speak(client, "vi")
    vietnamese = client.get("/staff/reports/disclosure", query_string={"year": LAST}).get_data(as_text=True)
    speak(client, "en")
    page = client.get("/staff/reports/disclosure", query_string={"year": LAST}).get_data(as_text=True)
    assert "Official document: shown in Vietnamese." in page and "Official document" not in vietnamese
    body = re.search(r'<article class="report-document[^>]*>.*?</article>', page, re.S).group(0)
    assert 'lang="vi"' in body.split(">", 1)[0]
    # The body is the Vietnamese page's, byte for byte (its chart and hidden tables too).
    assert body == re.search(r'<article class="report-document[^>]*>.*?</article>', vietnamese, re.S).group(0)
    assert "Tổ chức, doanh nghiệp (tập thể)" in body and " tr<" in body
    assert "Show the report" in page and "Freeze this report…" in page and f"Download ({LAST}):" in page
    assert shown_vietnamese(page) == []


def test_a_bad_report_parameter_is_a_400_in_english(client, login_as, last_year):
    sign_in(login_as, Role.DIRECTOR)
    speak(client, "en")
    cases = [
        ("/staff/reports/disclosure", {"year": "abc"}, "Invalid year."),
        ("/staff/reports/disclosure", {"year": "1999"}, "The year must be from 2000 to"),
        ("/staff/reports/disclosure", {"year": LAST, "date_from": f"{LAST}-05-01", "date_to": f"{LAST}-04-01"},
         "The dates are reversed"),
        ("/staff/reports/disclosure", {"year": LAST, "date_from": "01/05"}, "From: invalid date"),
        ("/staff/reports/appeal", {"year": LAST}, "Choose the appeal to report on."),
        ("/staff/reports/appeal", {"year": LAST, "appeal": "khong-co"}, "Appeal “khong-co” not found."),
        ("/staff/reports/disclosure/download.pdf", {"year": "abc"}, "Invalid year."),
    ]
    for url, query, message in cases:
        response = client.get(url, query_string=query)
        text = response.get_data(as_text=True)
        assert response.status_code == 400, url
        assert message in text, (url, query)
        if "/download." not in url:
            assert shown_vietnamese(text) == [], (url, query)
    refused = client.post("/staff/reports/disclosure/freeze", data={"year": str(date.today().year)})
    assert refused.status_code == 400 and "only a past period" in refused.get_data(as_text=True)


# ------------------------------------------------------------------ commendation pages

def test_the_commendation_pages_in_english(client, login_as, list_year):
    org, person = list_year
    sign_in(login_as, Role.DIRECTOR)
    speak(client, "en")
    index = client.get("/staff/commendation?year=2023").get_data(as_text=True)
    assert "Proposed commendation list for 2023" in index and "I. Organisations" in index
    assert "120,000,000\u00a0₫" in index
    assert shown_vietnamese(index) == []
    donor = client.get(f"/staff/commendation/2023/donors/{org.id}").get_data(as_text=True)
    assert "On the proposed list" in donor and "Declined the commendation" in donor
    assert shown_vietnamese(donor) == []
    response = client.post(f"/staff/commendation/2023/donors/{org.id}/exclude", data={})
    assert response.status_code == 400 and "Please choose a reason." in response.get_data(as_text=True)
    response = client.post(f"/staff/commendation/2023/donors/{org.id}/exclude", data={"reason": "other"})
    assert response.status_code == 422 and "Please describe the other reason." in response.get_data(as_text=True)
    response = client.post(f"/staff/commendation/2023/donors/{person.id}/override",
                           data={"title": "Bà", "name": "Bà Trần Thị Thu Hà"})
    assert response.status_code == 422 and "already starts with the title “Bà”" in response.get_data(as_text=True)
    response = client.post("/staff/commendation/2023/freeze", data={})
    assert response.status_code == 400
    assert "Please confirm that you have reviewed the list." in response.get_data(as_text=True)
    response = client.post("/staff/commendation/2023/freeze", data={"confirm": "y"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "List DS-2024-01 frozen." in page and "No differences" in page
    assert shown_vietnamese(page) == []
    response = client.post(f"/staff/commendation/2023/donors/{person.id}/exclude",
                           data={"reason": "declined"}, follow_redirects=True)
    assert "The donor has been excluded from this year&#39;s list." in response.get_data(as_text=True)
    submission = db.session.scalar(sa.select(CommendationSubmission))
    page = client.get(f"/staff/commendation/submissions/{submission.id}").get_data(as_text=True)
    assert "No longer on the list (1)" in page and "Excluded from the list: Declined the commendation" in page
    assert shown_vietnamese(page) == []
    speak(client, "vi")
    page = client.get(f"/staff/commendation/submissions/{submission.id}").get_data(as_text=True)
    assert "Không còn trong danh sách (1)" in page and "Đã loại khỏi danh sách: Từ chối nhận khen thưởng" in page


# ------------------------------------------------------------------ dashboards and charts

def test_the_dashboard_cache_keeps_each_language(app, client, login_as, monkeypatch):
    from app.extensions import cache
    from app.services import dashboard as dashboards

    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 60)
    cache.clear()
    computed = []
    real = dashboards._compute_year
    monkeypatch.setattr(dashboards, "_compute_year", lambda year: computed.append(year) or real(year))
    factories.donation(amount=2_000_000)
    sign_in(login_as, Role.DIRECTOR)
    speak(client, "vi")
    vietnamese = client.get("/staff/").get_data(as_text=True)
    speak(client, "en")
    english = client.get("/staff/").get_data(as_text=True)
    speak(client, "vi")
    again = client.get("/staff/").get_data(as_text=True)
    year = date.today().year
    assert f"Tiếp nhận theo tháng: năm {year} so với năm {year - 1}" in vietnamese
    assert f"Received by month: {year} compared with {year - 1}" in english
    assert "Tiếp nhận theo tháng" not in english and "Received by month" not in again
    assert f"Tiếp nhận theo tháng: năm {year} so với năm {year - 1}" in again
    assert computed == [year, year]  # once per language; the third page came from the cache
    assert cache.get(dashboards._key(dashboards.CACHE_KEY, year, "en")) is not None
    assert shown_vietnamese(english) == []


def test_chart_labels_follow_the_page(client, login_as):
    factories.donation(amount=2_500_000)
    sign_in(login_as, Role.DIRECTOR)
    speak(client, "en")
    english = client.get("/staff/").get_data(as_text=True)
    speak(client, "vi")
    vietnamese = client.get("/staff/").get_data(as_text=True)
    monthly = lambda html: html.split('id="chart-monthly-caption"')[0].rsplit("<figure", 1)[1]  # noqa: E731
    assert ">Jan<" in monthly(english) and " M<" in monthly(english) and "(axis in millions of dong)" in english
    assert ">T1<" in monthly(vietnamese) and " tr<" in monthly(vietnamese)
    assert "(đơn vị trên trục: triệu đồng)" in vietnamese
    assert " tr<" not in monthly(english) and ">T1<" not in monthly(english)
    assert "Received (dong)" in english and "Tiếp nhận (đồng)" in vietnamese  # money received, not a case's intake
    # The axis of a chart drawn for a report (a PDF) is always Vietnamese.
    from app.renderers.charts import ChartSpec, png, svg

    spec = ChartSpec("x", ("a",), (("b", (1_500_000,)),))
    assert " tr<" in svg(spec) and " M<" not in svg(spec)
    assert " M<" in svg(spec, "en") and " tr<" not in svg(spec, "en")
    assert png(spec)[:4] == b"\x89PNG"


def test_programme_names_on_a_chart_are_marked_vietnamese(client, login_as):
    from app.renderers.charts import ChartSpec, svg

    spec = ChartSpec("Received", ("Phẫu thuật sứt môi, hở hàm ếch cho trẻ em nghèo",), (("Received", (2_000_000,)),),
                     horizontal=True)
    marked = svg(spec, "en", "vi")
    labels = re.findall(r'<g lang="vi">(.*?)</g>', marked, re.S)
    assert labels and all(VIETNAMESE.search(t) for t in labels)
    assert 'lang="vi"' not in svg(spec, "en")


def test_the_cli_writes_the_vietnamese_documents_whatever_cli_lang(runner, monkeypatch, last_year, list_year, tmp_path):
    def write(name: str, lang: str) -> bytes:
        monkeypatch.setenv("CLI_LANG", lang)
        g.pop("_flask_babel", None)
        out = tmp_path / f"{name}-{lang}.csv"
        args = (["reports", "disclosure", "--year", str(LAST)] if name == "report"
                else ["commendation", "export", "--year", "2023"]) + ["--format", "csv", "--output", str(out)]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        return out.read_bytes()

    for name in ("report", "commendation"):
        assert write(name, "en") == write(name, "vi")
    assert "Tổ chức, doanh nghiệp (tập thể)" in write("report", "en").decode("utf-8-sig")


def test_a_background_refresh_recomputes_in_the_language_of_its_entry(app, client, login_as, monkeypatch):
    import threading

    from app.extensions import cache
    from app.services import dashboard as dashboards

    made, threads = [], []
    monkeypatch.setattr(dashboards, "_compute_year", lambda year: made.append(dashboards._months()[0]) or made[-1])
    stored = {}
    monkeypatch.setattr(dashboards, "_store", lambda year, lang, data: stored.update({lang: data}))

    class Recorded(threading.Thread):
        def start(self):
            threads.append(self)
            super().start()

    monkeypatch.setattr(dashboards.threading, "Thread", Recorded)
    for code in ("en", "vi"):
        with app.test_request_context(headers={"Cookie": f"lang={code}"}):
            dashboards._refresh_in_background(date.today().year)
        threads[-1].join(10)
    assert stored == {"en": "Jan", "vi": "T1"}
    cache.clear()

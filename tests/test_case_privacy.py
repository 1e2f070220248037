"""Privacy: who sees a child, the audit of every view, consent, and the public results page.

The crawl seeds the demo data, signs in as each role and follows every link it can reach
from the dashboard, plus every GET route of the URL map filled with real ids, and searches
each page for the seeded children's and guardians' names.
"""
import io
import json
import re
from collections import deque
from datetime import date
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import g

from app.errors import ValidationFailed
from app.extensions import db
from app.models import AuditEntry, CaseDocument, Disbursement, Role, SupportCase, User
from app.services.cases import workflow as cases
from app.demo.donations import seed_demo
from app.demo.cases import DEMO_CHILD_NAMES, DEMO_GUARDIAN_NAMES
from tests.case_helpers import CHILD, GUARDIAN, make_case, staff

DEMO_LOGINS = {
    Role.ADMIN: "admin@example.org", Role.DIRECTOR: "giamdoc@example.org",
    Role.ACCOUNTANT: "ketoan@example.org", Role.CASE_WORKER: "ctxh@example.org",
    Role.VIEWER: "xem@example.org",
}
ID_ARGS = {
    "case_id": lambda: db.session.scalars(sa.select(SupportCase.id)).all(),
    "document_id": lambda: db.session.scalars(sa.select(CaseDocument.id)).all(),
    "disbursement_id": lambda: db.session.scalars(sa.select(Disbursement.id)).all(),
}
SKIP = ("/static/", "/bootstrap/", "/auth/logout")


def _seed_urls(app, prefix_filter):
    """GET routes of the URL map: those without arguments, and those whose arguments we can
    fill with real ids (every case, document, disbursement)."""
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not prefix_filter(rule.rule) or rule.rule.startswith(SKIP):
            continue
        args = list(rule.arguments)
        if not args:
            urls.add(rule.rule)
        elif set(args) <= set(ID_ARGS):
            if args == ["case_id"]:
                for case_id in ID_ARGS["case_id"]():
                    urls.add(rule.build({"case_id": case_id}, append_unknown=False)[1])
            elif set(args) == {"case_id", "document_id"}:
                for document in db.session.scalars(sa.select(CaseDocument)):
                    urls.add(rule.build({"case_id": document.case_id, "document_id": document.id},
                                        append_unknown=False)[1])
    return urls


def crawl(app, client, start, prefix_filter, limit=500):
    """Breadth-first from `start` (the URL-map seeds come first, so every case page is
    fetched even if other features add many pages after the merge)."""
    seen, queue, pages = set(), deque(start), {}
    while queue and len(seen) < limit:
        url = queue.popleft()
        path = urlsplit(url).path + (("?" + urlsplit(url).query) if urlsplit(url).query else "")
        if path in seen or path.startswith(SKIP):
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code != 200:
            continue
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else response.data.decode("latin-1")
        pages[path] = body
        if response.mimetype == "text/html":
            for href in re.findall(r'href="([^"#]+)"', body):
                target = urljoin(path, href.replace("&amp;", "&"))
                if target.startswith("/") and prefix_filter(urlsplit(target).path):
                    queue.append(target)
    return pages


@pytest.fixture
def demo(app, client, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    seed_demo()
    # A document, so downloads are crawled too.
    case = db.session.scalar(sa.select(SupportCase).where(SupportCase.child_name == DEMO_CHILD_NAMES[1]))
    worker = db.session.scalar(sa.select(User).where(User.email == DEMO_LOGINS[Role.CASE_WORKER]))
    with client.session_transaction() as session:
        session["_user_id"] = worker.get_id()
    client.post(f"/staff/cases/{case.id}/documents", content_type="multipart/form-data",
                data={"kind": "quote", "file": (io.BytesIO(b"%PDF-1.4 " + DEMO_CHILD_NAMES[1].encode()), "bao-gia.pdf")})
    g.pop("_login_user", None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseDocument)) == 1


def _names_in(pages):
    found = {}
    for name in DEMO_CHILD_NAMES + DEMO_GUARDIAN_NAMES:
        hits = [path for path, body in pages.items() if name in body or name.encode().decode("latin-1") in body]
        if hits:
            found[name] = hits
    return found


def test_crawl_each_role_and_the_public_site_for_childrens_names(app, client, demo):
    staff_pages_by_role = {}
    for role, email in DEMO_LOGINS.items():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        start = ["/staff/"] + sorted(_seed_urls(app, lambda r: r.startswith("/staff")))
        staff_pages_by_role[role] = crawl(app, client, start, lambda p: p.startswith("/staff"))
    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session.clear()
    public = crawl(app, client, ["/"] + sorted(_seed_urls(app, lambda r: not r.startswith(("/staff", "/auth")))),
                   lambda p: not p.startswith(("/staff", "/auth")))

    worker_pages = staff_pages_by_role[Role.CASE_WORKER]
    assert len(worker_pages) > 20 and any("/documents/" in p for p in worker_pages)
    found = _names_in(worker_pages)
    assert set(DEMO_CHILD_NAMES) <= set(found), "case workers must see the children (else this test proves nothing)"
    assert set(DEMO_GUARDIAN_NAMES) <= set(found)
    assert set(DEMO_CHILD_NAMES) <= set(_names_in(staff_pages_by_role[Role.DIRECTOR]))
    for role in (Role.ACCOUNTANT, Role.VIEWER):
        pages = staff_pages_by_role[role]
        assert {"/staff/", "/staff/programme-balances"} <= set(pages), role
        assert _names_in(pages) == {}, role
    assert any(p.startswith("/staff/cases/") for p in staff_pages_by_role[Role.ACCOUNTANT])
    assert not any(p.startswith("/staff/cases") for p in staff_pages_by_role[Role.VIEWER])
    assert "/ket-qua-ho-tro" in public and "/" in public
    assert _names_in(public) == {}
    assert "Đã hỗ trợ <strong>2</strong> ca phẫu thuật tim" in public["/ket-qua-ho-tro"]
    assert "N.H.B.N. · Phẫu thuật tim bẩm sinh" in public["/ket-qua-ho-tro"]
    views = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "case.view")).all()
    assert {v.actor_label for v in views} >= {DEMO_LOGINS[Role.CASE_WORKER], DEMO_LOGINS[Role.ACCOUNTANT]}


def test_every_view_of_a_childs_record_is_audited(client, login_as):
    case = make_case()
    user = login_as(Role.CASE_WORKER)
    page = client.get(f"/staff/cases/{case.id}", environ_base={"REMOTE_ADDR": "10.1.2.3"}).get_data(as_text=True)
    assert CHILD in page and GUARDIAN in page and "Thông liên nhĩ" in page
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "case.view")).one()
    assert (entry.actor_id, entry.ip, entry.entity_id, entry.after["identity"]) == (user.id, "10.1.2.3", str(case.id), True)
    assert CHILD not in str(entry.after) and CHILD not in str(entry.before)


def test_accountant_sees_code_programme_and_amounts_only(client, login_as):
    case = make_case("approved", approved=12_000_000)
    login_as(Role.ACCOUNTANT)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert case.code in page and "Phẫu thuật tim bẩm sinh" in page and "12.000.000" in page
    for secret in (CHILD, GUARDIAN, "Thông liên nhĩ", "0912000111", "2021"):
        assert secret not in page.replace(case.code, ""), secret
    listing = client.get("/staff/cases").get_data(as_text=True)
    assert case.code in listing and CHILD not in listing
    assert client.get(f"/staff/cases/{case.id}/edit").status_code == 403
    assert client.get(f"/staff/cases/{case.id}/consent").status_code == 403


def test_viewer_sees_aggregates_only(client, login_as):
    case = make_case()
    login_as(Role.VIEWER)
    assert client.get("/staff/cases").status_code == 403
    assert client.get(f"/staff/cases/{case.id}").status_code == 403
    page = client.get("/staff/programme-balances").get_data(as_text=True)
    assert "Số hồ sơ theo trạng thái" in page and CHILD not in page


def test_child_consent_is_required_from_seven():
    worker, role = staff(Role.CASE_WORKER)
    case = make_case(birth=date(2016, 6, 1), consent=False)
    with pytest.raises(ValidationFailed, match="cần ghi ngày trẻ đồng ý"):
        cases.update_consent(case.id, worker, role, guardian_consent_on=date(2023, 6, 1), child_consent_on=None,
                             story_publishable=False, story_initials=None, story_text=None)
    db.session.rollback()
    cases.update_consent(case.id, worker, role, guardian_consent_on=date(2023, 5, 31), child_consent_on=None,
                         story_publishable=False, story_initials=None, story_text=None)  # the day before 7


def test_a_story_that_names_the_child_is_refused():
    worker, role = staff(Role.CASE_WORKER)
    case = make_case()
    for story in (f"Bé {CHILD} đã khỏe.", "Bé Nhung đã khỏe.", "Gọi bố bé: 0912 000 111"):
        with pytest.raises(ValidationFailed):
            cases.update_consent(case.id, worker, role, guardian_consent_on=date(2022, 1, 1), child_consent_on=None,
                                 story_publishable=True, story_initials="L.T.H.N.", story_text=story)
        db.session.rollback()
    with pytest.raises(ValidationFailed, match="Tên viết tắt"):
        cases.update_consent(case.id, worker, role, guardian_consent_on=date(2022, 1, 1), child_consent_on=None,
                             story_publishable=True, story_initials=CHILD, story_text="Bé đã khỏe.")


def test_public_page_shows_stories_only_with_consent(client):
    worker, role = staff(Role.CASE_WORKER)
    shown = make_case("closed")
    cases.update_consent(shown.id, worker, role, guardian_consent_on=date(2022, 1, 1), child_consent_on=None,
                         story_publishable=True, story_initials="L.T.H.N.", story_text="Trái tim bé đã lành.")
    hidden = make_case("closed", child_name="Đinh Văn Tùng")
    cases.update_consent(hidden.id, worker, role, guardian_consent_on=date(2022, 1, 1), child_consent_on=None,
                         story_publishable=False, story_initials="Đ.V.T.", story_text="Câu chuyện không được phép đăng.")
    page = client.get("/ket-qua-ho-tro").get_data(as_text=True)
    assert "Trái tim bé đã lành." in page and "L.T.H.N. · Phẫu thuật tim bẩm sinh" in page
    assert "không được phép đăng" not in page and CHILD not in page and "<img" not in page


@pytest.mark.parametrize("story, named", [
    ("Bé NHUNG đã khỏe.", "tên của trẻ"),                       # upper case
    ("Be nhung da khoe.", "tên của trẻ"),                       # accents folded
    ("Bé Hồng Nhung đã khỏe.", "tên của trẻ"),
    ("Anh Kiên, bố bé, rất vui.", "tên người giám hộ"),         # the guardian's given name
    ("Liên hệ +84 912 000 111.", "số điện thoại người giám hộ"),
    ("Liên hệ 0912.000.111.", "số điện thoại người giám hộ"),
    ("Em sinh ngày 1/5/2021.", "ngày sinh của trẻ"),
    ("Em sinh ngày 01-05-2021.", "ngày sinh của trẻ"),
    ("Nhà em ở số 12 ngõ 34 Lạch Tray.", "địa chỉ"),
    ("Em điều trị tại Bệnh viện Trẻ em Hải Phòng.", "cơ sở"),
])
def test_the_story_filter_folds_and_covers_every_identity_field(story, named):
    """Issue 12, item 9."""
    worker, role = staff(Role.CASE_WORKER)
    case = make_case()
    case.address = "Số 12 ngõ 34 Lạch Tray, phường Ngô Quyền"
    case.facility = "Bệnh viện Trẻ em Hải Phòng"
    db.session.commit()
    with pytest.raises(ValidationFailed, match=named):
        cases.update_consent(case.id, worker, role, guardian_consent_on=date(2022, 1, 1), child_consent_on=None,
                             story_publishable=True, story_initials="L.T.H.N.", story_text=story)
    db.session.rollback()


def test_a_clean_story_passes_the_filter():
    worker, role = staff(Role.CASE_WORKER)
    case = make_case()
    case.facility = "Bệnh viện Trẻ em Hải Phòng"
    db.session.commit()
    cases.update_consent(case.id, worker, role, guardian_consent_on=date(2022, 1, 1), child_consent_on=None,
                         story_publishable=True, story_initials="L.T.H.N.",
                         story_text="Sau ca phẫu thuật, em bé đã khỏe và đi học trở lại vào năm 2024.")


def _public_texts(client, urls):
    """Every answer as searchable text: HTML and CSV as they are, JSON with its escapes
    undone, PDF through pdftotext."""
    import json
    import subprocess

    texts = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if response.mimetype == "application/json":
            texts[url] = json.dumps(response.get_json(), ensure_ascii=False)
        elif response.mimetype == "application/pdf":
            texts[url] = subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True,
                                        check=True).stdout.decode()
        else:
            texts[url] = response.get_data(as_text=True)
    return texts


def test_transparency_pages_and_api_show_no_child_no_contact_and_no_unconsented_donor(app, client, demo):
    """Issue 14: every public page of /cong-khai and every /api/v1 answer, over the demo data
    (every year, every programme, every page of the ledger, the disclosure PDFs, the gift
    lookup of every receipt)."""
    from app.models import Donor, Programme, Receipt
    from app.services.reports import public_ledger

    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session.clear()
    years = public_ledger.years_with_data()
    codes = db.session.scalars(sa.select(Programme.code)).all()
    lines = client.get("/api/v1/ledger?per_page=100").get_json()
    assert lines["total_is_exact"]
    pages = range(1, lines["total"] // 100 + 2)
    receipts = db.session.scalars(sa.select(Receipt.number)).all()
    urls = ["/cong-khai/", "/cong-khai/sao-ke", "/cong-khai/sao-ke.csv", "/cong-khai/chi", "/cong-khai/tra-cuu",
            "/api/openapi.json", "/api/docs"]
    for year in years:
        urls += [f"/cong-khai/?year={year}", f"/cong-khai/bao-cao/{year}.pdf", f"/api/v1/summary?year={year}",
                 f"/api/v1/appeals?year={year}", f"/api/v1/programmes?year={year}",
                 f"/api/v1/money-out?year={year}&per_page=100",
                 f"/cong-khai/sao-ke.csv?date_from={year}-01-01&date_to={year}-12-31"]
        urls += [f"/cong-khai/chi?year={year}&programme={code}" for code in codes]
    urls += [f"/cong-khai/sao-ke?per_page=100&page={p}" for p in pages]
    urls += [f"/api/v1/ledger?per_page=100&page={p}" for p in pages]
    urls += [f"/cong-khai/tra-cuu?q={number}" for number in receipts]
    texts = _public_texts(client, urls)
    everything = "\n".join(texts.values())

    assert _names_in(texts) == {}
    donors = db.session.scalars(sa.select(Donor)).all()
    shown = {d.name for d in donors if d.public_listing_consent and not d.anonymous}
    hidden = {d.name for d in donors if not (d.public_listing_consent and not d.anonymous)} - shown
    contacts = {value for d in donors for value in (d.email, d.phone, d.tax_code, d.representative) if value}
    contacts |= {d.address for d in donors if d.address and d.address.startswith("Số ")}
    assert hidden and contacts and shown
    leaks = {secret: [u for u, t in texts.items() if secret in t] for secret in hidden | contacts}
    assert {k: v for k, v in leaks.items() if v} == {}
    # The crawl is not vacuous: consented names are shown, the others as "Nhà hảo tâm".
    assert all(name in everything for name in shown) and "Nhà hảo tâm" in everything
    assert sum(1 for u in texts if "tra-cuu?q=" in u and 'data-testid="found-gift"' in texts[u]) == len(receipts)
    # Small counts of children read "< 5", never 1–4.
    for url, text in texts.items():
        if url.startswith("/api/v1/summary"):
            count = json.loads(text)["children_supported"]
            assert count == "< 5" or count == 0 or count >= 5, (url, count)
    assert any('data-testid="children">&lt; 5<' in texts[f"/cong-khai/?year={y}"] for y in years)
    assert any("< 5" in texts[f"/cong-khai/bao-cao/{y}.pdf"] for y in years)

"""Markup checks over the pages people open (issue 12, item 27), the errors the Nu HTML
checker and axe-core found, by a parser so the test runs offline and fast: no duplicate id,
no table row wider than its columns, no empty table header, autocomplete only where it is
valid, and a meta description on every public page. Crawled twice: on empty tables (the
"nothing here" rows) and on the demo data."""
from __future__ import annotations

from datetime import date
from collections import Counter
from html.parser import HTMLParser

import sqlalchemy as sa
from flask import g

from app.extensions import db
from app.models import Appeal, Donation, Donor, Receipt, Role
from tests import factories
from tests.conftest import make_app

PUBLIC = ["/", "/donate", "/ket-qua-ho-tro", "/cong-khai/", "/cong-khai/sao-ke", "/cong-khai/chi",
          "/cong-khai/tra-cuu", "/auth/login", "/tai-khoan/dang-nhap"]
STAFF = ["/staff/", "/staff/donations", "/staff/donors", "/staff/receipts", "/staff/ung-ho-hang-thang",
         "/staff/commendation", "/staff/cases", "/staff/disbursements", "/staff/audit", "/staff/appeals",
         "/staff/users", "/staff/settings", "/staff/online-donations", "/staff/bank", "/staff/bank/accounts",
         "/staff/jobs", "/staff/du-lieu-ca-nhan", "/staff/receipts/statements", "/staff/receipts/mail",
         "/staff/programme-balances", "/staff/donations/new", "/staff/donors/new", "/staff/donations/summary",
         "/staff/case-categories", "/staff/cases/new", "/staff/appeals/new", "/staff/donations/import"]

#: Autofill tokens that are valid only on a <textarea> or <select>, never on <input>
#: (HTML "autofill detail tokens": multiline fields).
MULTILINE_ONLY = {"street-address"}
NO_AUTOCOMPLETE_TYPES = {"radio", "checkbox", "submit", "button", "reset", "file", "image", "hidden"}


class MarkupCheck(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.ids: Counter = Counter()
        self.tables: list[dict] = []
        self.th: dict | None = None
        self.description = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"]] += 1
        if tag == "meta" and a.get("name") == "description" and (a.get("content") or "").strip():
            self.description = True
        if tag == "input" and "autocomplete" in a:
            kind = (a.get("type") or "text").lower()
            if kind in NO_AUTOCOMPLETE_TYPES:
                self.problems.append(f"autocomplete on <input type={kind}> (id={a.get('id')})")
            if set((a["autocomplete"] or "").split()) & MULTILINE_ONLY:
                self.problems.append(f"autocomplete={a['autocomplete']} on <input> (id={a.get('id')})")
        if tag == "table":
            self.tables.append({"columns": None, "row": None})
        elif tag == "tr" and self.tables:
            self.tables[-1]["row"] = 0
        elif tag in ("td", "th") and self.tables and self.tables[-1]["row"] is not None:
            self.tables[-1]["row"] += int(a.get("colspan") or 1)
            if tag == "th":
                self.th = {"text": "", "named": bool(a.get("aria-label") or a.get("title"))}

    def handle_data(self, data):
        if self.th is not None:
            self.th["text"] += data

    def handle_endtag(self, tag):
        if tag == "th" and self.th is not None:
            if not self.th["text"].strip() and not self.th["named"]:
                self.problems.append("empty <th>")
            self.th = None
        elif tag == "tr" and self.tables and self.tables[-1]["row"] is not None:
            table = self.tables[-1]
            if table["columns"] is None:
                table["columns"] = table["row"]
            elif table["row"] > table["columns"]:
                self.problems.append(f"a row {table['row']} columns wide in a {table['columns']}-column table")
            table["row"] = None
        elif tag == "table" and self.tables:
            self.tables.pop()


def check(html: str, public: bool) -> list[str]:
    parser = MarkupCheck()
    parser.feed(html)
    problems = parser.problems + [f"duplicate id «{i}» ×{n}" for i, n in parser.ids.items() if n > 1]
    if public and not parser.description:
        problems.append("no meta description")
    return sorted(set(problems))


def crawl(client, paths, public):
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if response.mimetype != "text/html":
            continue
        problems = check(response.get_data(as_text=True), public)
        if problems:
            found[path] = problems
    return found


def test_the_checker_finds_what_it_looks_for():
    bad = ('<table><thead><tr><th>A</th><th></th></tr></thead><tbody><tr><td colspan="3">x</td></tr></tbody>'
           '</table><input type="radio" autocomplete="off"><input id="a" autocomplete="street-address">'
           '<span id="a"></span>')
    assert check(bad, public=True) == sorted([
        "a row 3 columns wide in a 2-column table", "autocomplete on <input type=radio> (id=None)",
        "autocomplete=street-address on <input> (id=a)", "duplicate id «a» ×2", "empty <th>",
        "no meta description"])
    good = ('<meta name="description" content="Quỹ"><table><tr><th>A</th><th><span>B</span></th></tr>'
            '<tr><td colspan="2">x</td></tr></table><textarea autocomplete="street-address"></textarea>')
    assert check(good, public=True) == []


def staff_donor() -> int:
    return db.session.scalar(sa.select(Donor.id).order_by(Donor.id))


def pages_with_data():
    """Detail pages of the demo data: a donation, a donor, a receipt (staff and public), an appeal."""
    donation_id = db.session.scalar(sa.select(Donation.id).order_by(Donation.id))
    donor_id = db.session.scalar(sa.select(Donor.id).order_by(Donor.id))
    receipt = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).first()
    slug = db.session.scalar(sa.select(Appeal.slug).where(Appeal.is_public.is_(True)))
    public = [f"/appeals/{slug}", f"/receipts/verify/{receipt.verification_token}"]
    staff = [f"/staff/donations/{donation_id}", f"/staff/donors/{donor_id}", f"/staff/receipts/{receipt.id}"]
    return public, staff


def test_public_and_staff_pages_are_valid_markup(app, client, login_as, database_uri):
    from app.demo.donations import seed_demo

    found = crawl(client, PUBLIC, public=True)
    login_as(Role.ADMIN)
    found.update({f"{k} (empty)": v for k, v in crawl(client, STAFF, public=False).items()})  # "nothing here" rows
    seed_demo()
    db.session.commit()
    public, staff = pages_with_data()
    found.update(crawl(client, STAFF + staff, public=False))
    # With CSRF on, as in production: every form's token field (no id="csrf_token" twice).
    secure = make_app(database_uri, WTF_CSRF_ENABLED=True).test_client()
    user_id = factories.user(Role.ADMIN.value).get_id()
    pages = STAFF + staff + [f"/staff/commendation/{date.today().year - 1}/donors/{staff_donor()}"]
    db.session.commit()  # SQLite: the server side needs the write lock (conftest)
    with secure.session_transaction() as session:
        session["_user_id"] = user_id
    found.update({f"{k} (CSRF on)": v for k, v in crawl(secure, pages, public=False).items()})
    with client.session_transaction() as session:
        session.clear()
    g.pop("_login_user", None)  # the test's app context outlives requests (conftest)
    found.update({f"{k} (data)": v for k, v in crawl(client, PUBLIC + public, public=True).items()})
    assert found == {}, "\n".join(f"{path}: {problems}" for path, problems in found.items())

"""Every page in English carries no Vietnamese (issue 17): the URL map is walked on the demo
data, as a visitor, a donor and each staff role, with the English cookie, and every text a
reader sees (text, title, placeholder, aria-label, alt, button values, the description) is
checked for Vietnamese letters (diacritics are a good detector).

What may stay Vietnamese on an English page:
  - what the fund typed or the donors gave (names, addresses, appeal titles, notes, the
    fund's official name): every text value stored in the database is taken out first, and
    a text that is a piece of one (a programme name wrapped over two lines of a chart) is
    data too;
  - text inside an element marked `lang="vi"`: an official document's wording quoted on a
    page (an amount in words, a receipt's title), the switch's "Tiếng Việt".
Run one area with -k (public, account, admin, accountant, case_worker, director, viewer).
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g

from app.extensions import db
from app.models import Role
from tests import factories

VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class ShownText(HTMLParser):
    """The texts a reader sees, outside <script>/<style> and outside lang="vi" elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, Vietnamese-marked)
        self.texts: list[str] = []

    def _vietnamese_here(self) -> bool:
        return any(marked for _tag, marked in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        lang = a.get("lang")
        marked = (lang or "").lower().startswith("vi") or (self._vietnamese_here() and not lang)
        if not marked and tag != "html":
            for name in SHOWN_ATTRIBUTES:
                if a.get(name):
                    self.texts.append(a[name])
            if tag == "input" and (a.get("type") or "").lower() in ("submit", "button") and a.get("value"):
                self.texts.append(a["value"])
            if tag == "meta" and a.get("name") == "description":
                self.texts.append(a.get("content") or "")
        if tag not in VOID:
            self.stack.append((tag, marked if tag != "html" else False))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        if data.strip() and not self._vietnamese_here():
            self.texts.append(data)


def stored_texts() -> list[str]:
    """Every Vietnamese text value in the database (and the bank names), longest first."""
    found: set[str] = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (sa.String, sa.Text)) and not isinstance(column.type, sa.Enum):
                for value in db.session.scalars(sa.select(column).distinct().where(column.is_not(None))):
                    if isinstance(value, str) and VIETNAMESE.search(value):
                        found.update({value, value.strip()})
                        found.update(part.strip() for part in re.split(r"[\n,;()]", value) if len(part.strip()) > 3)
    banks = json.loads((Path(__file__).resolve().parent.parent / "app/data/vietqr_banks.json").read_text("utf-8"))
    for bank in banks["data"]:
        if isinstance(bank, dict):
            found.update(v for v in bank.values() if isinstance(v, str) and VIETNAMESE.search(v))
    return sorted((t for t in found if len(t) >= 2), key=len, reverse=True)


def leftovers(html: str, data: list[str]) -> list[str]:
    parser = ShownText()
    parser.feed(html)
    bad = []
    for text in parser.texts:
        if not VIETNAMESE.search(text):
            continue
        rest = text
        for value in data:
            if value in rest:
                rest = rest.replace(value, " ")
                if not VIETNAMESE.search(rest):
                    break
        if VIETNAMESE.search(rest) and not any(text.strip() in value for value in data):
            bad.append(" ".join(text.split())[:160])  # (a stored value wrapped over lines is data too)
    return sorted(set(bad))


def test_the_detector_sees_vietnamese_and_spares_what_is_allowed():
    html = ('<html lang="en"><head><meta name="description" content="Ủng hộ"><style>.đ{}</style></head>'
            '<body><p>Donate</p><p title="Lưu">Save</p><span lang="vi">Một triệu đồng <b>chẵn</b></span>'
            '<input type="submit" value="Gửi"><p>Nguyễn Văn An gave</p><br><p>Đã lưu</p></body></html>')
    assert leftovers(html, ["Nguyễn Văn An"]) == ["Gửi", "Lưu", "Đã lưu", "Ủng hộ"]


# ------------------------------------------------------------------ the crawl

ROLE_AREAS = ("admin", "director", "accountant", "case_worker", "viewer")
#: Pages not crawled here, and why (a new page must be placed in the crawl or in this list).
NOT_CRAWLED = {
    "static": "files", "bootstrap.static": "files", "api_docs.docs_assets": "files",
    "public.favicon": "a file", "public.healthz": "machine answer", "ops.readyz": "machine answer",
    "ops.prometheus_metrics": "machine answer", "i18n.switch": "a redirect",
    "giving.demo_checkout": "needs a checkout session of the Stripe stand-in",
    "account.link": "a one-time sign-in link (its page is crawled through sign_in)",
    "account.email_confirm": "a one-time link", "account.unsubscribe": "a one-time link",
    "staff.donation_import_report": "exists only after an import",
    "staff.case_document_download": "a file", "staff.job_download": "a file",
}


def demo_values() -> dict[str, object]:
    from app.models import (Appeal, BankLayout, BankLine, CaseDocument, CommendationSubmission, Donation,
                            Donor, FrozenReport, Job, Receipt, SupportCase)

    first = lambda column: db.session.scalar(sa.select(column).order_by(column).limit(1))  # noqa: E731
    values = {
        "donor_id": first(Donor.id), "case_id": first(SupportCase.id), "receipt_id": first(Receipt.id),
        "appeal_id": first(Appeal.id), "donation_id": first(Donation.id), "line_id": first(BankLine.id),
        "layout_id": first(BankLayout.id), "job_id": first(Job.id), "document_id": first(CaseDocument.id),
        "submission_id": first(CommendationSubmission.id), "frozen_id": first(FrozenReport.id),
        "slug": db.session.scalar(sa.select(Appeal.slug).where(Appeal.is_public.is_(True)).limit(1)),
        "receipt_token": db.session.scalar(sa.select(Receipt.verification_token).limit(1)),
    }
    return values


def resolve(rule, values: dict[str, object]) -> list[dict] | None:
    """The arguments of each page of `rule` on the demo data, or None when it has none."""
    from app.services.reports.catalogue import NAMES

    if rule.arguments == {"name"}:
        return [{"name": name} for name in NAMES]
    args = {}
    for name in rule.arguments:
        if name == "token":
            value = values["receipt_token"] if rule.endpoint.startswith("receipts_public.") else None
        elif name == "year":
            value = values["year"]
        elif name == "fmt":
            value = None  # downloads: files, not pages
        else:
            value = values.get(name)
        if value is None:
            return None
        args[name] = value
    return [args]


def crawl(client, app, values, data, prefixes) -> tuple[dict, int]:
    found, seen = {}, 0
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_CRAWLED or not rule.rule.startswith(prefixes):
                continue
            for args in resolve(rule, values) or ():
                url = url_for(rule.endpoint, **args)
                g.pop("_login_user", None)
                # The cookie, not the browser's Vietnamese, decides.
                response = client.get(url, headers={"Accept-Language": "vi"})
                if response.status_code in (302, 403, 404) or response.mimetype != "text/html":
                    continue
                assert response.status_code in (200, 400), (url, response.status_code)  # 400: its message
                seen += 1
                bad = leftovers(response.get_data(as_text=True), data)
                if bad:
                    found[url] = bad
    return found, seen


@pytest.fixture
def english_demo(app, client):
    from app.demo.bank import seed_bank_account
    from app.demo.donations import seed_demo
    from app.timeutil import local_today

    seed_demo()
    seed_bank_account()
    db.session.commit()
    client.set_cookie("lang", "en")
    values = demo_values()
    values["year"] = local_today().year - 1
    return values, stored_texts()


def report(found: dict) -> str:
    return "\n".join(f"{url}:\n    " + "\n    ".join(texts) for url, texts in found.items())


def test_public_pages_in_english(app, client, english_demo):
    values, data = english_demo
    found, seen = crawl(client, app, values, data, ("/", ))
    found = {url: texts for url, texts in found.items() if not url.startswith(("/staff", "/tai-khoan"))}
    assert seen >= 10
    assert found == {}, report(found)


def test_donor_account_pages_in_english(app, client, english_demo):
    from app.models import Donor
    from tests.account_helpers import sign_in

    values, data = english_demo
    email = db.session.scalar(sa.select(Donor.email).where(Donor.email.is_not(None)).order_by(Donor.id).limit(1))
    found, _seen = crawl(client, app, values, data, ("/tai-khoan",))  # signed out: the sign-in page
    sign_in(client, email)
    values["donor_id"] = db.session.scalar(sa.select(Donor.id).where(Donor.email == email).order_by(Donor.id).limit(1))
    signed_in, seen = crawl(client, app, values, data, ("/tai-khoan",))
    found.update(signed_in)
    assert seen >= 3
    assert found == {}, report(found)


@pytest.mark.parametrize("role", ROLE_AREAS)
def test_staff_pages_in_english(app, client, english_demo, role):
    values, data = english_demo
    user = factories.user(Role(role).value)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    data = stored_texts()  # with the user's own name
    found, seen = crawl(client, app, values, data, ("/staff", "/auth"))
    assert seen >= 10
    assert found == {}, report(found)


def test_every_page_is_crawled_or_said_why_not(app, english_demo):
    values, _data = english_demo
    values = {**values, **{k: 1 for k, v in values.items() if v is None}}  # ids the demo lacks
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if "GET" in rule.methods and rule.endpoint not in NOT_CRAWLED
               and resolve(rule, values) is None and "fmt" not in rule.arguments
               and not rule.endpoint.startswith(("giving.transfer", "receipts_public."))]
    assert missing == []

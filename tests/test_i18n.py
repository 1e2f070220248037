"""Languages (issue 17): how a language is chosen and remembered, amounts and dates in each
language, the public page cache keeping one page per language, and the English catalog
complete and up to date with the code and templates."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import g

from app import i18n
from app.extensions import db
from app.models import Role, User
from tests import factories
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "app/translations/en/LC_MESSAGES/messages.po"


def lang_of(response) -> str:
    page = response.get_data(as_text=True)
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_vietnamese_is_the_default_and_a_first_visit_follows_accept_language(client):
    assert lang_of(client.get("/")) == "vi"
    assert lang_of(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})) == "en"
    assert lang_of(client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})) == "en"
    assert lang_of(client.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"})) == "vi"
    assert lang_of(client.get("/", headers={"Accept-Language": "de, ja"})) == "vi"
    assert lang_of(client.get("/", headers={"Accept-Language": ";;;q=x, ,"})) == "vi"  # junk: the default


def test_the_switch_is_remembered_by_the_browser_and_returns_to_the_page(client):
    response = client.get("/ngon-ngu/en?next=/ket-qua-ho-tro")
    assert response.status_code == 303 and response.headers["Location"] == "/ket-qua-ho-tro"
    cookie = client.get_cookie("lang")
    assert cookie.value == "en" and cookie.http_only and cookie.same_site == "Lax"
    assert lang_of(client.get("/", headers={"Accept-Language": "vi"})) == "en"  # the choice beats the header
    client.get("/ngon-ngu/vi")
    assert lang_of(client.get("/", headers={"Accept-Language": "en"})) == "vi"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "", "javascript:x"])
def test_the_switch_never_sends_a_visitor_off_the_site(client, target):
    response = client.get("/ngon-ngu/en", query_string={"next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_unknown_language_is_a_404_and_changes_nothing(client):
    assert client.get("/ngon-ngu/fr").status_code == 404
    assert client.get_cookie("lang") is None


def test_a_staff_members_choice_follows_their_account_to_another_browser(app, client, login_as):
    user = login_as(Role.ACCOUNTANT)
    client.get("/ngon-ngu/en?next=/staff/")
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    other = app.test_client()  # another browser: no cookie, a Vietnamese Accept-Language
    g.pop("_login_user", None)
    with other.session_transaction() as session:
        session["_user_id"] = db.session.get(User, user.id).get_id()
    assert lang_of(other.get("/staff/", headers={"Accept-Language": "vi"})) == "en"


def test_the_switch_is_in_the_public_and_the_staff_headers(client, login_as):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/ngon-ngu/en?next=/"' in page and 'lang="en" title="English"' in page
    login_as(Role.VIEWER)
    page = client.get("/staff/receipts?page=2").get_data(as_text=True)
    assert "/ngon-ngu/en?next=/staff/receipts?page%3D2" in page


def test_amounts_and_dates_follow_the_language(app):
    moment = datetime(2024, 5, 31, 18, 30, tzinfo=timezone.utc)  # 1 June 2024, 01:30 in Hải Phòng
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert i18n.money(1_000_000) == "1.000.000\u00a0₫" and i18n.money(-5000, symbol=False) == "-5.000"
        assert i18n.date_text(date(2024, 6, 1)) == "01/06/2024"
        assert i18n.datetime_text(moment) == "01/06/2024 01:30"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert i18n.money(1_000_000) == "1,000,000\u00a0₫" and i18n.money(-5000, symbol=False) == "-5,000"
        assert i18n.date_text(date(2024, 6, 1)) == "1 June 2024"
        assert i18n.date_text(moment) == "1 June 2024"
        assert i18n.datetime_text(moment) == "1 June 2024, 01:30"
        with i18n.vietnamese():  # an official document drawn on an English page
            assert i18n.money(1_000_000) == "1.000.000\u00a0₫"


def test_the_cli_speaks_the_language_of_cli_lang(app, monkeypatch):
    with app.app_context():
        assert i18n.current() == "vi"
    monkeypatch.setenv("CLI_LANG", "en")
    with app.app_context():
        g.pop("_flask_babel", None)
        assert i18n.current() == "en"


def test_the_page_cache_keeps_a_page_per_language(database_uri, app):
    from app.services import page_cache

    cached = make_app(database_uri, PUBLIC_PAGE_CACHE_SECONDS=60, CACHE_TYPE="SimpleCache")
    factories.appeal("tet", title="Tết", status="open", is_public=True, goal_amount=10_000_000)
    db.session.commit()
    with cached.app_context():
        page_cache.invalidate()
        browser = cached.test_client()
        for _ in range(2):  # rendered, then served from the cache (the second time before Flask runs)
            assert lang_of(browser.get("/appeals/tet", headers={"Accept-Language": "en"})) == "en"
            assert lang_of(browser.get("/appeals/tet", headers={"Accept-Language": "vi"})) == "vi"
            assert lang_of(browser.get("/appeals/tet")) == "vi"
        db.session.remove()


# ------------------------------------------------------------------ the catalog


def extracted_msgids(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True)
    with pot.open("rb") as source:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(source) if message.id}


@pytest.mark.nodb
def test_the_english_catalog_is_up_to_date_and_complete(tmp_path):
    with CATALOG.open("rb") as source:
        catalog = read_po(source)
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    in_code = extracted_msgids(tmp_path)
    missing = sorted(in_code - set(in_catalog))
    stale = sorted(set(in_catalog) - in_code)
    untranslated = sorted(k for k, m in in_catalog.items()
                          if not (m.string if isinstance(m.string, str) else all(m.string)))
    fuzzy = sorted(k for k, m in in_catalog.items() if m.fuzzy)
    assert missing == [], "not in the catalog: run `make translations-update`, then translate"
    assert stale == [], "no longer in the code: run `make translations-update`"
    assert untranslated == [] and fuzzy == [], "translate these in " + str(CATALOG.relative_to(ROOT))


@pytest.mark.nodb
def test_every_translation_keeps_the_placeholders_of_its_source():
    import re

    with CATALOG.open("rb") as source:
        catalog = read_po(source)
    placeholder = re.compile(r"%\([a-z_0-9]+\)[sd]|\{[a-z_0-9]*\}")
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        want = sorted(placeholder.findall(ids[-1]))
        for text in strings:
            if text and sorted(placeholder.findall(text)) != want:
                wrong.append((ids[0], text))
    assert wrong == []


def test_an_amount_written_in_a_template_follows_each_pages_language(app):
    """Jinja folds filters of constants at compile time unless they need the context: the
    first page drawn would fix the language of `{{ 300000|vnd }}` for every later page."""
    template = app.jinja_env.from_string("{{ 300000|vnd_plain }}|{{ 5|vnd }}|{{ d|local_date }}")
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert template.render(d=date(2024, 6, 1)) == "300.000|5\u00a0₫|01/06/2024"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert template.render(d=date(2024, 6, 1)) == "300,000|5\u00a0₫|1 June 2024"

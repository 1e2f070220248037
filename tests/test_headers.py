"""Security headers on every response and a policy the pages really meet (issue 12, item 10)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Role
from app.services.receipts.issuing import valid_receipt_for
from tests import factories
from tests.conftest import make_app

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def parameterless_get_urls(app, prefix: str):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix) and "GET" in rule.methods and not rule.arguments:
            yield rule.rule


def check_common(response):
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_every_staff_page_has_the_headers_and_is_not_stored(app, client, login_as):
    login_as(Role.ADMIN)
    factories.donation(factories.donor(), 500_000)
    urls = list(parameterless_get_urls(app, "/staff"))
    assert len(urls) > 15
    for url in urls:
        response = client.get(url)
        check_common(response)
        assert response.headers["Cache-Control"] == "no-store", url


def test_personal_data_files_are_not_stored(client, login_as):
    login_as(Role.ADMIN)
    donation = factories.donation(factories.donor(), 500_000)
    receipt = valid_receipt_for(donation.id)
    for url in ["/staff/donations/export.csv", "/staff/donations/export.xlsx",
                f"/staff/receipts/{receipt.id}/pdf", f"/staff/receipts/{receipt.id}/pdf?download=1"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store"
        check_common(response)


def test_public_pages_errors_and_json_have_the_headers(client):
    for url in ["/", "/donate", "/khong-co-trang-nay", "/auth/login"]:
        check_common(client.get(url))
    check_common(client.post("/payments/stripe/webhook", data=b"{}"))


def test_static_files_stay_cacheable(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_hsts_only_in_production(database_uri, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    from config import ProductionConfig

    db.session.commit()
    prod = make_app(database_uri, HSTS_SECONDS=ProductionConfig.HSTS_SECONDS)
    header = prod.test_client().get("/").headers["Strict-Transport-Security"]
    assert header == "max-age=31536000; includeSubDomains"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> block"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.nodb
@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_nothing_the_policy_blocks(template):
    text = template.read_text(encoding="utf-8")
    found = [label for pattern, label in INLINE if pattern.search(text)]
    assert found == []

"""The main pages meet the Content-Security-Policy in Chromium (issue 12, item 10): no
violation is reported on the console, and the scripts moved to static files still work."""
from __future__ import annotations

from app.extensions import db
from app.models import Role
from app.services.receipts.issuing import valid_receipt_for
from tests import factories
from tests.browser.helpers import sign_in


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if (
        "Content Security Policy" in m.text or m.type == "error") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_public_pages_meet_the_policy_and_donate_script_runs(page, live_server):
    slug = factories.appeal(is_public=True, status="open", goal_amount=100_000_000).slug
    db.session.commit()  # reading .slug opened a transaction: SQLite's write lock (conftest)
    problems = watch(page)
    for path in ["/", "/donate", "/ket-qua-ho-tro", "/auth/login", f"/appeals/{slug}"]:
        page.goto(live_server.url + path)
    page.goto(live_server.url + "/donate")
    org = page.locator(".org-only")
    assert org.is_hidden()  # donate.js ran: organization fields hidden for a person
    page.locator("input.donor-kind[value=organization]").check()
    assert org.is_visible()
    assert problems == []


def test_staff_pages_meet_the_policy(page, live_server):
    factories.user(Role.ADMIN.value, email="qt@example.org")
    donor = factories.donor("Lê Thị Hoa")
    donation = factories.donation(donor, 3_000_000)
    receipt = valid_receipt_for(donation.id)
    donor_id, donation_id, receipt_id = donor.id, donation.id, receipt.id
    db.session.commit()
    problems = watch(page)
    sign_in(page, live_server.url, "qt@example.org")
    for path in ["/staff/", "/staff/donations", f"/staff/donations/{donation_id}", "/staff/donors",
                 f"/staff/donors/{donor_id}", f"/staff/receipts/{receipt_id}", "/staff/receipts",
                 "/staff/commendation", "/staff/audit", "/staff/appeals", "/staff/cases",
                 "/staff/settings", "/staff/users", "/staff/donations/import"]:
        response = page.goto(live_server.url + path)
        assert response.status < 400, path
    page.goto(live_server.url + "/staff/donations/new")
    page.locator("#donor-search").fill("Hoa")
    page.get_by_role("link", name="Lê Thị Hoa", exact=False).first.wait_for()  # donor-search.js ran
    page.goto(live_server.url + "/staff/donations/summary")
    with page.expect_navigation():  # autosubmit.js submits the year picker
        page.locator("select[name=year]").select_option(index=0)
    assert problems == []

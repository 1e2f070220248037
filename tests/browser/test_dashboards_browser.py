"""The dashboard and the report pages in Chromium (issue 14): no Content-Security-Policy
violation, and nothing wider than a phone's screen at 390 px (a chart's screen-reader table
once made the whole page scroll sideways)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from app.extensions import db
from app.models import Role
from tests import factories
from tests.browser.test_csp import sign_in, watch


def test_dashboard_and_reports_fit_a_phone_and_meet_the_policy(page, live_server):
    factories.user(Role.ADMIN.value, email="qt@example.org")
    factories.donation(factories.organization(), 60_000_000,
                       received_at=datetime(date.today().year - 1, 6, 5, 3, tzinfo=timezone.utc))
    factories.donation(amount=4_000_000)
    db.session.commit()
    problems = watch(page)
    sign_in(page, live_server.url, "qt@example.org")
    last = date.today().year - 1
    paths = ["/staff/", "/staff/reports", f"/staff/reports/disclosure?year={last}",
             f"/staff/reports/action-month?year={last}", f"/staff/reports/donors?year={last}"]
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
    page.goto(live_server.url + "/staff/")
    assert page.locator("svg.chart-svg").count() == 5
    assert problems == []

"""The role dashboards at /staff/ (issue 14): what each role is shown, that every number
links to a list showing exactly that many rows, and that no child's name reaches a role
without identity access."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from flask import g

from app.extensions import db
from app.models import (
    BankLine, CaseDocument, CaseState, Channel, Donation, DonationStatus, OutboxMessage, Role,
)
from tests import factories
from tests.bank_helpers import account
from tests.case_helpers import CHILD, make_case, pay

# How each linked list page shows its rows: a pattern whose distinct matches are the rows.
ROW_PATTERNS = {
    "/staff/cases": r'href="/staff/cases/(\d+)"',
    "/staff/disbursements": r'data-testid="disbursement-(\d+)"',
    "/staff/online-donations": r'href="/staff/online-donations/(\d+)"',
    "/staff/bank": r'href="/staff/bank/lines/(\d+)"',
    "/staff/receipts/mail": r'/staff/receipts/mail/(\d+)/retry',
    "/staff/donations": r'href="/staff/donations/(\d+)"',
}


def numbers(page: str) -> dict[str, tuple[int, str | None]]:
    found = {}
    for match in re.finditer(r'<a class="[^"]*" data-testid="value-([a-z0-9-]+)" data-value="(-?\d+)" '
                             r'href="([^"]+)"', page):
        found[match.group(1)] = (int(match.group(2)), unquote(match.group(3)).replace("&amp;", "&"))
    for match in re.finditer(r'<div class="[^"]*" data-testid="value-([a-z0-9-]+)" data-value="(-?\d+)"', page):
        found[match.group(1)] = (int(match.group(2)), None)
    return found


def sign_in(login_as, role, **fields):
    g.pop("_login_user", None)
    return login_as(role, **fields)


def rows_of(client, url: str) -> int:
    path = url.split("?")[0]
    page = client.get(url)
    assert page.status_code == 200, url
    return len(set(re.findall(ROW_PATTERNS[path], page.get_data(as_text=True))))


@pytest.fixture
def busy_fund(client):
    """Something waiting for every role."""
    worker = factories.user(Role.CASE_WORKER.value)
    old = datetime.now(timezone.utc) - timedelta(days=40)
    proposed = [make_case(CaseState.PROPOSED.value) for _ in range(2)]
    assessed = make_case(CaseState.ASSESSMENT.value, consent=False)  # no consent, no quote
    for case in [assessed, *proposed]:
        case.created_by_id = worker.id
    assessed.created_at = old
    for step in assessed.transitions:
        step.created_at = old
    db.session.add(CaseDocument(case_id=proposed[0].id, kind="quote", original_name="bao-gia.pdf",
                                stored_name="x" * 40, content_type="application/pdf", size=10, sha256="0" * 64))
    db.session.commit()
    approved = make_case(CaseState.APPROVED.value)
    factories.donation(amount=200_000_000, programme_code="heart")
    pay(approved, 10_000_000, approve=False)  # waiting for the director
    # Last year's commendation list: one company above the threshold.
    last_year = datetime(date.today().year - 1, 5, 1, 3, tzinfo=timezone.utc)
    factories.donation(factories.organization(), 80_000_000, received_at=last_year)
    # Online gifts: one flagged, one failed.
    for n, (status, flag) in enumerate([(DonationStatus.PENDING.value, "Số tiền khác"),
                                        (DonationStatus.FAILED.value, None)]):
        db.session.add(Donation(donor=factories.donor(), amount=500_000, channel=Channel.CARD.value,
                                programme=factories.programme(), status=status, flagged_reason=flag,
                                stripe_checkout_session_id=f"cs_test_{n}"))
    # One confirmed gift without a receipt, one e-mail that failed.
    factories.donation(amount=300_000, issue_receipt=False)
    db.session.add(OutboxMessage(kind="receipt", to_address="a@example.org", subject="s", body="b",
                                 status="failed", attempts=5))
    bank = account()
    for n, state in enumerate(["suggested", "unmatched", "unmatched", "matched"]):
        db.session.add(BankLine(account_id=bank.id, direction="credit", amount=100_000 + n,
                                booked_at=datetime.now(timezone.utc), fingerprint=f"f{n}", source="statement",
                                state=state))
    appeal = factories.appeal(status="open", goal_amount=100_000_000)
    factories.donation(amount=25_000_000, appeal_id=appeal.id)
    db.session.commit()
    return worker


def test_director_sees_approvals_commendation_flagged_and_appeals(client, login_as, busy_fund):
    sign_in(login_as, Role.DIRECTOR)
    page = client.get("/staff/").get_data(as_text=True)
    shown = numbers(page)
    assert shown["cases-proposed"][0] == 2
    assert shown["disbursements-waiting"][0] == 1
    assert shown["flagged"][0] == 1
    assert "chưa chốt" in page and f"/staff/commendation?year={date.today().year - 1}" in page
    assert 'data-testid="appeal-progress"' in page and "25%" in page
    assert "bank-unmatched" not in shown and "attention-consent" not in shown  # not the director's


def test_accountant_sees_bank_online_mail_and_receipts(client, login_as, busy_fund):
    sign_in(login_as, Role.ACCOUNTANT)
    shown = numbers(client.get("/staff/").get_data(as_text=True))
    assert (shown["bank-suggested"][0], shown["bank-unmatched"][0]) == (1, 2)
    assert (shown["online-flagged"][0], shown["online-failed"][0]) == (1, 1)
    assert shown["mail-failed"][0] == 1
    assert shown["no-receipt"][0] == 1
    assert "cases-proposed" not in shown and "state-proposed" not in shown


def test_case_worker_sees_own_cases_by_state_and_what_is_missing(client, login_as, busy_fund):
    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session["_user_id"] = busy_fund.get_id()
        session["_fresh"] = True
    page = client.get("/staff/").get_data(as_text=True)
    shown = numbers(page)
    assert shown["state-proposed"][0] == 2 and shown["state-assessment"][0] == 1
    assert shown["state-approved"][0] == 0  # the approved case is another worker's
    assert shown["attention-consent"][0] == 1
    assert shown["attention-documents"][0] == 2  # assessed and one proposed case have no quote
    assert shown["attention-waiting"][0] == 1
    assert 'data-testid="waiting-cases"' in page and CHILD in page  # a case worker may see the child
    assert "bank-unmatched" not in shown and "no-receipt" not in shown
    # The summary shows money but does not link to the donation list case workers may not open.
    assert shown["net-total"][1] is None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DIRECTOR, Role.ACCOUNTANT, Role.CASE_WORKER, Role.VIEWER])
def test_every_number_equals_the_rows_of_its_list(client, login_as, busy_fund, role):
    if role is Role.CASE_WORKER:
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session["_user_id"] = busy_fund.get_id()
    else:
        sign_in(login_as, role)
    shown = numbers(client.get("/staff/").get_data(as_text=True))
    checked = 0
    for key, (value, url) in shown.items():
        if url is None:
            continue
        if key == "net-total":  # the list's net total for the same days
            page = client.get(url).get_data(as_text=True)
            assert f'data-testid="net-total">{value:,}'.replace(",", ".") in page
        else:
            assert rows_of(client, url) == value, (key, url)
        checked += 1
    assert checked >= {Role.ADMIN: 20, Role.VIEWER: 2}.get(role, 4)


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.VIEWER])
def test_no_child_name_for_roles_without_identity_access(client, login_as, role):
    case = make_case(CaseState.INTAKE.value)
    case.created_at = datetime.now(timezone.utc) - timedelta(days=30)
    for step in case.transitions:
        step.created_at = case.created_at
    db.session.commit()
    sign_in(login_as, Role.ADMIN)
    assert CHILD in client.get("/staff/").get_data(as_text=True)  # the admin's waiting list names the child
    sign_in(login_as, role)
    page = client.get("/staff/").get_data(as_text=True)
    assert client.get("/staff/").status_code == 200
    assert CHILD not in page and case.guardian_name not in page


def test_charts_are_drawn_inline_with_their_tables_and_no_inline_style(client, login_as):
    this_year = datetime.now(timezone.utc) - timedelta(hours=1)
    factories.donation(factories.organization(), 40_000_000, received_at=this_year)
    factories.donation(amount=12_000_000, received_at=this_year.replace(year=this_year.year - 1))
    sign_in(login_as, Role.VIEWER)
    page = client.get("/staff/").get_data(as_text=True)
    assert page.count('class="chart-svg"') == 5
    assert "Tổ chức, doanh nghiệp (tập thể)" in page  # by source
    assert "40.000.000" in page and "12.000.000" in page  # this year and last, in the tables
    assert "style=" not in page and "<style" not in page
    shown = numbers(page)
    assert shown["net-total"][0] == 40_000_000
    assert set(shown) == {"net-total", "gifts", "donors", "pending"}  # the viewer's summary only


def test_cached_figures_are_served_until_stale_then_refreshed_once(app, client, login_as, monkeypatch):
    """With the cache on, the donation figures come from one computation per period; an old
    entry is still served while one background refresh replaces it."""
    from app.extensions import cache
    from app.services import dashboard as dashboards

    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 60)
    cache.clear()
    calls = []
    real = dashboards._compute_year
    monkeypatch.setattr(dashboards, "_compute_year", lambda year: calls.append(year) or real(year))
    started = []
    monkeypatch.setattr(dashboards, "_refresh_in_background", lambda year: started.append(year))
    sign_in(login_as, Role.VIEWER)
    factories.donation(amount=2_000_000)
    assert numbers(client.get("/staff/").get_data(as_text=True))["net-total"][0] == 2_000_000
    factories.donation(amount=3_000_000)
    assert numbers(client.get("/staff/").get_data(as_text=True))["net-total"][0] == 2_000_000  # cached
    assert len(calls) == 1 and started == []
    key = dashboards.CACHE_KEY.format(year=date.today().year)
    stored_at, data = cache.get(key)
    cache.set(key, (stored_at - 61, data))  # a minute later
    client.get("/staff/")
    client.get("/staff/")
    assert started == [date.today().year]  # one refresh, however many requests
    cache.delete(dashboards.LOCK_KEY.format(year=date.today().year))
    cache.clear()
    assert numbers(client.get("/staff/").get_data(as_text=True))["net-total"][0] == 5_000_000

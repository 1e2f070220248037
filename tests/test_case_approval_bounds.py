"""Issue 12, item 3: a case is approved at most for what was proposed; an approved amount
can be corrected downward (never below what is spent), audited with its reason."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Role, SupportCase
from tests.case_helpers import fund, make_case, pay


def approved_of(case_id: int) -> int | None:
    db.session.expire_all()
    return db.session.get(SupportCase, case_id).support_approved


def test_approval_above_the_proposal_is_refused(client, login_as):
    case = make_case("proposed", requested=35_000_000)
    login_as(Role.DIRECTOR)
    response = client.post(f"/staff/cases/{case.id}/transition",
                           data={"target": "approved", "approved_amount": "999.999.999.999"})
    assert response.status_code == 422
    assert "vượt số tiền đề xuất 35.000.000\u00a0₫" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SupportCase, case.id).state == "proposed" and approved_of(case.id) is None
    ok = client.post(f"/staff/cases/{case.id}/transition",
                     data={"target": "approved", "approved_amount": "30.000.000"})
    assert ok.status_code == 302 and approved_of(case.id) == 30_000_000


def test_director_corrects_the_approved_amount_downward_only(client, login_as):
    fund("heart", 50_000_000)
    case = make_case("approved", approved=40_000_000, requested=40_000_000)
    pay(case, 10_000_000)
    login_as(Role.DIRECTOR)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="approved-correction"' in page
    url = f"/staff/cases/{case.id}/approved-amount"
    assert client.post(url, data={"amount": "45.000.000", "reason": "x"}).status_code == 422
    assert client.post(url, data={"amount": "5.000.000", "reason": "x"}).status_code == 409  # below spent
    assert client.post(url, data={"amount": "20.000.000", "reason": ""}).status_code == 422
    assert client.post(url, data={"amount": "20.000.000", "reason": "Gõ nhầm"}).status_code == 302
    assert approved_of(case.id) == 20_000_000
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "case.approved_amount_correct")).one()
    assert "Gõ nhầm" in str(entry.after) and "40000000" in str(entry.before)


def test_only_a_director_corrects(client, login_as):
    case = make_case("approved", approved=40_000_000, requested=40_000_000)
    login_as(Role.ACCOUNTANT)
    assert client.post(f"/staff/cases/{case.id}/approved-amount",
                       data={"amount": "1.000.000", "reason": "x"}).status_code == 403

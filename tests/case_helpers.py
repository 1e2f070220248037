"""Helpers for the support-case tests: a case in any state, money for a programme."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.extensions import db
from app.models import CaseState, Role, SupportCase
from app.services.cases import workflow as cases
from app.services.cases import disbursements
from app.services.audit import Actor
from tests import factories

CHILD = "Lương Thị Hồng Nhung"
GUARDIAN = "Lương Văn Kiên"


def staff(role: Role | str):
    user = factories.user(Role(role).value)
    return Actor.for_user(user, "127.0.0.1"), user.role


def make_case(state: str = CaseState.INTAKE.value, *, programme_code: str = "heart",
              approved: int | None = 50_000_000, requested: int = 50_000_000,
              child_name: str = CHILD, birth: date = date(2021, 5, 1), consent: bool = True) -> SupportCase:
    """A case put straight into `state` (the workflow itself is tested elsewhere)."""
    actor, role = staff(Role.CASE_WORKER)
    case = cases.create_case(dict(
        programme_id=factories.programme(programme_code).id, child_name=child_name,
        child_birth_date=birth, child_sex="female", guardian_name=GUARDIAN,
        guardian_relation="Bố", guardian_phone="0912000111", diagnosis="Thông liên nhĩ",
        support_requested=requested), actor, role)
    if consent:
        case.guardian_consent_on = birth + timedelta(days=30)
    case.state = state
    if state in ("approved", "disbursing", "closed"):
        case.support_approved = approved
    db.session.commit()
    return case


def fund(programme_code: str, amount: int, *, case: SupportCase | None = None):
    """Confirmed money for a programme (or designated to a case)."""
    if case is None:
        return factories.donation(amount=amount, programme_code=programme_code,
                                  received_at=datetime.now(timezone.utc) - timedelta(days=1))
    from app.services.donations.ledger import record_donation

    return record_donation(factories.SYSTEM, donor_id=factories.donor().id, amount=amount,
                           channel="bank_transfer", received_at=datetime.now(timezone.utc) - timedelta(days=1),
                           case_id=case.id)


def pay(case: SupportCase, amount: int, *, approve: bool = True, programme_id: int | None = None,
        payee_kind: str = "hospital", payee_name: str | None = None):
    accountant, accountant_role = staff(Role.ACCOUNTANT)
    row = disbursements.record_disbursement(
        case.id, accountant, accountant_role, amount=amount, paid_on=date.today() - timedelta(days=1),
        payee_kind=payee_kind, payee_name=None if payee_kind == "family" else (payee_name or "Bệnh viện Trẻ em Hải Phòng"),
        method="bank_transfer", voucher_number="PC-01", programme_id=programme_id)
    if approve:
        director, director_role = staff(Role.DIRECTOR)
        disbursements.approve_disbursement(row.id, director, director_role)
    return row


def sign_in(login_as, role):
    """`login_as`, also when the test already signed someone in: Flask-Login caches the user
    in `g`, which lives as long as the test's app context."""
    from flask import g

    g.pop("_login_user", None)
    return login_as(role)

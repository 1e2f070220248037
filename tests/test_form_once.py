"""Issue 12, item 5: every staff form that creates money rows or receipts is idempotent per
submission — a double click, a reload or a retry of the same rendered form creates one."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Disbursement, Donation, Receipt, Role
from tests import factories
from tests.case_helpers import fund, make_case
from tests.test_donation_pages import form as donation_form


@pytest.fixture(autouse=True)
def _tokens_required(app):
    app.config["FORM_TOKENS_REQUIRED"] = True
    yield
    app.config["FORM_TOKENS_REQUIRED"] = False


def token_of(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_double_post_of_the_donation_form_records_one_gift_and_one_receipt(client, login_as):
    login_as(Role.ACCOUNTANT)
    donor = factories.donor()
    token = token_of(client.get(f"/staff/donations/new?donor_id={donor.id}").get_data(as_text=True))
    first = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id, form_token=token))
    second = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id, form_token=token))
    assert first.status_code == 302 and second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]  # to the gift the first made
    assert count(Donation) == 1 and count(Receipt) == 1
    assert "đã được gửi trước đó" in client.get(second.headers["Location"]).get_data(as_text=True)
    # A fresh rendering of the form records a second gift, as it should.
    token = token_of(client.get(f"/staff/donations/new?donor_id={donor.id}").get_data(as_text=True))
    client.post("/staff/donations/new", data=donation_form(donor_id=donor.id, form_token=token))
    assert count(Donation) == 2


def test_a_post_without_a_token_is_refused(client, login_as):
    login_as(Role.ACCOUNTANT)
    donor = factories.donor()
    response = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id))
    assert response.status_code == 400 and "tải lại trang" in response.get_data(as_text=True)
    assert count(Donation) == 0


def test_a_failed_submission_can_be_corrected_and_sent_with_the_same_token(client, login_as):
    login_as(Role.ACCOUNTANT)
    donor = factories.donor()
    token = token_of(client.get(f"/staff/donations/new?donor_id={donor.id}").get_data(as_text=True))
    bad = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id, form_token=token,
                                                                 received_on="2099-01-01"))
    assert bad.status_code == 422
    ok = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id, form_token=token))
    assert ok.status_code == 302 and count(Donation) == 1


def test_double_partial_reversal_reverses_once(client, login_as):
    login_as(Role.ACCOUNTANT)
    gift = factories.donation(factories.donor(), 1_000_000)
    token = token_of(client.get(f"/staff/donations/{gift.id}").get_data(as_text=True))
    data = {"kind": "correction", "reason": "Ghi nhầm", "amount": "100.000", "form_token": token}
    client.post(f"/staff/donations/{gift.id}/reverse", data=data)
    client.post(f"/staff/donations/{gift.id}/reverse", data=data)
    assert count(Donation) == 2  # the gift and one reversal


def test_double_post_of_a_disbursement_and_a_case_gift(client, login_as):
    fund("heart", 50_000_000)
    case = make_case("approved", approved=30_000_000)
    login_as(Role.ACCOUNTANT)
    token = token_of(client.get(f"/staff/cases/{case.id}/disbursements/new").get_data(as_text=True))
    data = {"programme_id": case.programme_id, "amount": "1.000.000", "paid_on": date.today().isoformat(),
            "payee_kind": "family", "payee_name": "", "method": "cash", "form_token": token}
    assert client.post(f"/staff/cases/{case.id}/disbursements/new", data=data).status_code == 302
    assert client.post(f"/staff/cases/{case.id}/disbursements/new", data=data).status_code == 303
    assert count(Disbursement) == 1

    donor = factories.donor()
    before = count(Donation)
    token = token_of(client.get(f"/staff/cases/{case.id}/donations/new").get_data(as_text=True))
    data = {"donor_id": donor.id, "amount": "2.000.000", "channel": "cash",
            "received_on": date.today().isoformat(), "form_token": token}
    client.post(f"/staff/cases/{case.id}/donations/new", data=data)
    client.post(f"/staff/cases/{case.id}/donations/new", data=data)
    assert count(Donation) == before + 1


def test_flash_amounts_use_the_dong_sign_and_void_reasons_are_not_doubled(client, login_as, app):
    """Issue 12, item 33."""
    app.config["FORM_TOKENS_REQUIRED"] = False
    login_as(Role.ACCOUNTANT)
    donor = factories.donor()
    page = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id),
                       follow_redirects=True).get_data(as_text=True)
    assert "Đã ghi nhận khoản ủng hộ 5.000.000\u00a0₫" in page
    gift = db.session.scalars(sa.select(Donation)).one()
    client.post(f"/staff/donations/{gift.id}/reverse",
                data={"kind": "correction", "reason": "Ghi nhầm", "amount": "100.000"})
    db.session.expire_all()
    voided = db.session.scalars(sa.select(Receipt).where(Receipt.voided_at.is_not(None))).one()
    assert voided.void_reason == "Đảo bút toán: Ghi nhầm"

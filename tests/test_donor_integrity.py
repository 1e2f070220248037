"""Issue 12, items 1–2: a public form never credits, rewrites or mails an existing donor on
unverified input; what was typed stays on the donation, and staff settle the donor."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Donor, OutboxMessage, Receipt, Role
from app.services import commendation
from app.services.receipts.documents import receipt_data
from app.timeutil import local_year
from tests import factories
from tests.test_donate import FORM, last_donation

STRANGER = {**FORM, "kind": "organization", "name": "Công ty Kẻ Lạ", "tax_code": "0201234567",
            "email": "la@kela.vn", "address": "99 Đường Giả", "anonymous": "y",
            "representative": "Ông Lạ"}


def _company():
    return factories.organization("Công ty TNHH Thép Hải Phòng", tax_code="0201234567", email="a@thep.vn",
                                  address="1 Lạch Tray", public_listing_consent=True, anonymous=False)


def _pay(client, response):
    checkout = response.headers["Location"].replace("http://localhost", "")
    client.post(checkout, data={"action": "pay"})
    return last_donation()


def test_a_stranger_typing_a_known_mst_gets_only_a_suggestion(client):
    company = _company()
    donation = _pay(client, client.post("/donate", data=STRANGER))
    # The money is confirmed (the provider says it was paid) ...
    assert donation.status == "confirmed" and donation.donor_id == company.id
    assert f"#{company.id}" in donation.donor_check
    # ... the receipt shows what was typed and goes only to the typed address ...
    receipt = db.session.scalars(sa.select(Receipt)).one()
    data = receipt_data(receipt)
    assert (data.donor_name, data.donor_address) == ("Công ty Kẻ Lạ", "99 Đường Giả")
    assert [m.to_address for m in db.session.scalars(sa.select(OutboxMessage))] == ["la@kela.vn"]
    # ... the company is not credited (commendation ranks net per donor) ...
    net = db.session.execute(commendation._year_net_query(local_year(donation.received_at))).all()
    assert all(row.donor_id != company.id for row in net)
    # ... and the record keeps its own name, e-mail, address and privacy (item 2).
    db.session.expire_all()
    company = db.session.get(Donor, company.id)
    assert (company.name, company.email, company.address) == ("Công ty TNHH Thép Hải Phòng", "a@thep.vn",
                                                              "1 Lạch Tray")
    assert company.anonymous is False and company.public_listing_consent is True


def test_staff_see_the_check_and_accept_or_reassign(client, login_as):
    company = _company()
    donation = _pay(client, client.post("/donate", data=STRANGER))
    login_as(Role.ACCOUNTANT)
    listing = client.get("/staff/online-donations?state=flagged").get_data(as_text=True)
    assert f"/staff/online-donations/{donation.id}\"" in listing and "Cần kiểm tra nhà hảo tâm" in listing
    page = client.get(f"/staff/online-donations/{donation.id}").get_data(as_text=True)
    assert "Công ty Kẻ Lạ" in page and "la@kela.vn" in page and 'data-testid="donor-check"' in page

    other = factories.organization("Công ty Kẻ Lạ", email="la@kela.vn")
    response = client.post(f"/staff/online-donations/{donation.id}/donor-check",
                           data={"action": "reassign", "donor_id": other.id})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Donation, donation.id)
    assert moved.donor_id == other.id and moved.donor_check is None
    assert "Cần kiểm tra nhà hảo tâm" not in client.get("/staff/online-donations?state=flagged").get_data(as_text=True)
    assert company.id  # the company itself was never touched


def test_accepting_can_carry_the_typed_privacy_over_to_the_record(client, login_as):
    company = _company()
    donation = _pay(client, client.post("/donate", data={**STRANGER, "name": company.name}))
    login_as(Role.DIRECTOR)
    client.post(f"/staff/online-donations/{donation.id}/donor-check",
                data={"action": "accept", "apply_preferences": "1"})
    db.session.expire_all()
    company = db.session.get(Donor, company.id)
    assert db.session.get(Donation, donation.id).donor_check is None
    assert company.anonymous is True and company.public_listing_consent is False


def test_a_matched_individual_keeps_the_record_and_the_choice_stays_on_the_gift(client):
    known = factories.donor("Phạm Thu Trang", email="trang@example.com", public_listing_consent=True,
                            address="Nhà cũ")
    appeal = factories.appeal("mo", status="open", is_public=True)
    _pay(client, client.post("/donate", data={**FORM, "address": "Nhà mới", "designation": "appeal",
                                              "appeal": "mo"}))  # consent unticked
    donation = last_donation()
    db.session.expire_all()
    assert donation.donor_id == known.id and donation.donor_check is None
    assert db.session.get(Donor, known.id).public_listing_consent is True  # record unchanged
    assert receipt_data(db.session.scalars(sa.select(Receipt)).one()).donor_address == "Nhà mới"
    # This gift is not listed publicly: the donor did not agree to it on this form.
    assert "Phạm Thu Trang" not in client.get(f"/appeals/{appeal.slug}").get_data(as_text=True)

"""Issue 12, item 28: an appeal tied to a programme designates its gifts to that programme,
whichever way they come in (online form, staff form, import)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Donation, Role
from app.services.audit import Actor
from app.services.donations import importer
from app.services.donations.ledger import record_donation
from app.timeutil import utcnow
from tests import factories
from tests.test_donate import FORM, last_donation
from tests.test_donation_pages import form as staff_form
from tests.test_import import csv_bytes


@pytest.fixture
def heart_appeal():
    return factories.appeal("trai-tim", title="Trái tim cho em", status="open", is_public=True,
                            programme_id=factories.programme("heart").id)


def test_online_gift_through_the_appeal_goes_to_its_programme(client, heart_appeal):
    page = client.get("/donate?appeal=trai-tim").get_data(as_text=True)
    assert "Chiến dịch “Trái tim cho em” — chương trình Phẫu thuật tim" in page.replace("&#34;", "\"")
    client.post("/donate", data={**FORM, "designation": "appeal", "appeal": "trai-tim"})
    donation = last_donation()
    assert donation.appeal_id == heart_appeal.id
    assert donation.programme_id == factories.programme("heart").id


def test_staff_form_puts_a_general_choice_in_the_appeals_programme(client, login_as, heart_appeal):
    login_as(Role.ACCOUNTANT)
    donor = factories.donor()
    response = client.post("/staff/donations/new", data=staff_form(
        donor_id=donor.id, appeal_id=str(heart_appeal.id), programme_id=str(factories.programme("general").id)))
    assert response.status_code == 302
    assert last_donation().programme_id == factories.programme("heart").id


def test_a_contradicting_programme_is_refused(heart_appeal):
    with pytest.raises(ValidationFailed, match="Trái tim cho em"):
        record_donation(Actor.system("test"), donor_id=factories.donor().id, amount=100_000, channel="cash",
                        received_at=utcnow(), appeal_id=heart_appeal.id,
                        programme_id=factories.programme("cleft").id)


def test_import_rows_follow_the_appeal_and_accept_names(heart_appeal):
    data = csv_bytes(
        "2024-06-01,individual,Nguyễn Văn An,,,,,500000,cash,trai-tim,,,",
        "2024-06-02,individual,Nguyễn Văn Bình,,,,,500000,cash,Trái tim cho em,,,",
        "2024-06-03,individual,Nguyễn Văn Cường,,,,,500000,cash,trai-tim,cleft,,")
    plan = importer.plan_import(data, "x.csv")
    assert [e.row for e in plan.errors] == [4] and "Trái tim cho em" in plan.errors[0].message
    assert {r.programme_id for r in plan.rows} == {factories.programme("heart").id}
    assert {r.appeal_id for r in plan.rows} == {heart_appeal.id}


def test_the_appeal_form_sets_the_programme(client, login_as):
    login_as(Role.DIRECTOR)
    heart = factories.programme("heart")
    response = client.post("/staff/appeals/new", data={"title": "Mổ tim 2027", "programme_id": str(heart.id)})
    assert response.status_code == 302
    from app.models import Appeal

    assert db.session.scalars(sa.select(Appeal)).one().programme_id == heart.id

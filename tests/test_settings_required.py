"""Issue 12, item 4: receipts and frozen commendation lists never print the shipped
placeholder settings. Money is still confirmed; the receipt follows once settings are set."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.errors import Conflict
from app.extensions import db
from app.models import Donation, FundSettings, Receipt, Role
from app.services import commendation
from app.services.audit import Actor
from app.services.receipts.issuing import allocate_receipt
from app.services.setup import DEFAULT_SETTINGS, SettingsIncomplete
from tests import factories
from tests.test_donate import FORM, last_donation


@pytest.fixture
def placeholders():
    settings = db.session.get(FundSettings, 1)
    for name in ("signatory_name", "signatory_title", "address"):
        setattr(settings, name, DEFAULT_SETTINGS[name])
    db.session.commit()


def receipts() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Receipt))


def test_online_gift_is_confirmed_and_its_receipt_waits_for_the_settings(client, login_as, placeholders):
    response = client.post("/donate", data=FORM)
    client.post(response.headers["Location"].replace("http://localhost", ""), data={"action": "pay"})
    donation = last_donation()
    assert donation.status == "confirmed" and donation.receipt_deferred and receipts() == 0

    login_as(Role.ADMIN)
    page = client.get("/staff/").get_data(as_text=True)
    assert 'data-testid="settings-banner"' in page and "họ tên người ký" in page
    assert 'href="/staff/settings"' in page
    settings = db.session.get(FundSettings, 1)
    form = {name: getattr(settings, name) or "" for name in (
        "fund_name", "operator_name", "parent_agency", "phone", "email", "bank_name", "bank_bin",
        "bank_account_number", "bank_account_name", "receipt_number_format")}
    form.update(signatory_name="Trần Thị Minh Hạnh", signatory_title="Giám đốc",
                address="Số 10 Lạch Tray, Hải Phòng", commendation_threshold="50.000.000")
    saved = client.post("/staff/settings", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Đã cấp 1 giấy chứng nhận đang chờ cài đặt" in saved
    assert receipts() == 1 and not db.session.get(Donation, donation.id).receipt_deferred
    assert 'data-testid="settings-banner"' not in saved


def test_issuing_with_placeholders_is_refused_with_a_link(client, login_as, placeholders):
    gift = factories.donation(factories.donor(), 500_000)
    assert gift.receipt_deferred and receipts() == 0
    with pytest.raises(SettingsIncomplete, match="họ tên người ký"):
        allocate_receipt(gift, Actor.system("test"))
    db.session.rollback()


def test_freezing_with_placeholders_is_refused(client, login_as, placeholders):
    with pytest.raises(Conflict, match="chốt danh sách khen thưởng"):
        commendation.freeze(2023, Actor.system("test"))
    db.session.rollback()
    login_as(Role.DIRECTOR)
    response = client.post("/staff/commendation/2023/freeze", data={"confirm": "y"})
    assert response.status_code == 409 and 'href="/staff/settings"' in response.get_data(as_text=True)


def test_directors_do_not_see_the_admin_banner(client, login_as, placeholders):
    login_as(Role.DIRECTOR)
    assert 'data-testid="settings-banner"' not in client.get("/staff/").get_data(as_text=True)

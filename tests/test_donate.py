"""The public site, the donation form's validation, donor matching, the demo checkout and
the rate limit (no Stripe server needed: demo mode)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Donor, Receipt
from app.services.public_site import CAMPAIGN_SLOGANS
from tests import factories
from tests.conftest import make_app
from tests.stripe_stub import signed_webhook

FORM = {"kind": "individual", "name": "Phạm Thu Trang", "email": "trang@example.com",
        "preset": "100000", "designation": "general", "currency": "VND"}


def errors_of(response) -> list[str]:
    return re.findall(r'invalid-feedback d-block">([^<]+)<', response.get_data(as_text=True))


def last_donation() -> Donation:
    db.session.expire_all()
    return db.session.scalars(sa.select(Donation).order_by(Donation.id.desc())).first()


# ---------------------------------------------------------------- public pages

def test_home_shows_theme_slogans_hotlines_and_open_appeals(client):
    open_ = factories.appeal("mo", title="Trái tim cho em", status="open", is_public=True, goal_amount=2_000_000)
    factories.appeal("nhap", title="Chiến dịch nháp", status="draft", is_public=False)
    factories.appeal("xong", title="Chiến dịch đã xong", status="closed", is_public=True)
    a, b = factories.donor(), factories.donor("Lê Thị Hoa")
    factories.donation(a, 500_000, appeal=open_)
    factories.donation(b, 1_000_000, appeal=open_)
    factories.donation(b, 300_000, appeal=open_, confirm=False)  # pending: not counted
    page = client.get("/").get_data(as_text=True)
    assert "Hành động thiết thực, ưu tiên nguồn lực cho trẻ em" in page
    assert len(CAMPAIGN_SLOGANS) == 12 and all(s in page for s in CAMPAIGN_SLOGANS)
    assert 'href="tel:111"' in page and 'href="tel:18006605"' in page
    assert "Trái tim cho em" in page and "Chiến dịch nháp" not in page and "Chiến dịch đã xong" not in page
    assert "1.500.000\u00a0₫" in page and "2 lượt nhà hảo tâm" in page and "75%" in page
    assert 'href="/donate?appeal=mo"' in page


def test_slogans_are_the_plan_appendix_verbatim():
    """Copied from the plan (NFC, lines joined), so a typo in the list fails here."""
    import pathlib
    import unicodedata

    source = pathlib.Path(__file__).parent / "data" / "plan-2024-appendix-slogans.txt"
    text = unicodedata.normalize("NFC", source.read_text(encoding="utf-8"))
    appendix = " ".join(text[text.index("KHẨU HIỆU TUYÊN TRUYỀN"):].split())
    for number, slogan in enumerate(CAMPAIGN_SLOGANS, start=1):
        assert f"{number}. {slogan}" in appendix


def test_appeal_page_lists_only_consenting_donors_and_hides_anonymous_names(client):
    appeal = factories.appeal("tet", title="Tết yêu thương", status="open", is_public=True,
                              story="Câu chuyện.\nĐoạn hai.", goal_amount=10_000_000)
    listed = factories.donor("Nguyễn Văn Công Khai", public_listing_consent=True)
    hidden = factories.donor("Trần Thị Kín Đáo", public_listing_consent=False)
    anon = factories.donor("Hoàng Ẩn Danh", public_listing_consent=True, anonymous=True)
    for donor in (listed, hidden, anon):
        factories.donation(donor, 200_000, appeal=appeal)
    page = client.get("/appeals/tet").get_data(as_text=True)
    assert "Câu chuyện." in page and "Nguyễn Văn Công Khai" in page
    assert "Trần Thị Kín Đáo" not in page and "Hoàng Ẩn Danh" not in page
    assert "Nhà hảo tâm" in page and "600.000\u00a0₫" in page
    assert client.get("/appeals/khong-co").status_code == 404
    factories.appeal("nhap", status="draft")
    assert client.get("/appeals/nhap").status_code == 404


# ---------------------------------------------------------------- the form

def test_donate_form_offers_presets_designations_and_the_appeal(client):
    factories.appeal("mo", title="Trái tim cho em", status="open", is_public=True)
    page = client.get("/donate?appeal=mo").get_data(as_text=True)
    for preset in ("100.000\u00a0₫", "200.000\u00a0₫", "500.000\u00a0₫", "1.000.000\u00a0₫", "5.000.000\u00a0₫"):
        assert preset in page
    assert "Chiến dịch “Trái tim cho em”" in page and "Phẫu thuật tim bẩm sinh" in page
    assert "Chế độ thử nghiệm — không trừ tiền" in page
    for label in ("Mã số thuế (MST)", "Người đại diện", "Ủng hộ ẩn danh", "Lời nhắn", "Số điện thoại"):
        assert label in page
    assert 'value="appeal" selected' in page or "selected value=\"appeal\"" in page


@pytest.mark.parametrize("changes, message", [
    ({"preset": "", "custom_amount": "5.000"}, "Số tiền tối thiểu là 10.000\u00a0₫."),
    ({"preset": "", "custom_amount": "60.000.000"}, "Thanh toán bằng thẻ tối đa 50.000.000\u00a0₫ mỗi lần."),
    ({"preset": "", "custom_amount": "mười nghìn"}, "Số tiền không hợp lệ"),
    ({"preset": "", "custom_amount": "50.000,5"}, "không được có phần thập phân"),
    ({"preset": "", "custom_amount": "-50.000"}, "không được là số âm"),
    ({"preset": ""}, "Vui lòng chọn hoặc nhập số tiền ủng hộ."),
    ({"preset": "123456"}, "Vui lòng chọn một mục trong danh sách."),
    ({"currency": "USD"}, "Quỹ chỉ nhận ủng hộ trực tuyến bằng đồng Việt Nam (VND)."),
    ({"name": ""}, "Vui lòng nhập họ tên hoặc tên tổ chức"),
    ({"email": ""}, "Vui lòng nhập email để nhận giấy chứng nhận."),
    ({"email": "khong-phai-email"}, "Địa chỉ email không hợp lệ."),
    ({"phone": "gọi tôi"}, "Số điện thoại không hợp lệ"),
    ({"kind": "organization", "tax_code": "12345"}, "Mã số thuế gồm 10 chữ số"),
    ({"kind": "robot"}, "Vui lòng chọn một mục trong danh sách."),
    ({"designation": "programme:khong-co"}, "Vui lòng chọn nơi nhận hợp lệ."),
    ({"message": "x" * 501}, "Tối đa 500 ký tự."),
])
def test_bad_input_gets_a_vietnamese_message_and_no_donation(client, changes, message):
    response = client.post("/donate", data={**FORM, **changes})
    assert response.status_code == 422
    assert any(message in e for e in errors_of(response)), errors_of(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_typed_amount_wins_and_the_browser_cannot_set_other_fields(client):
    response = client.post("/donate", data={**FORM, "preset": "5000000", "custom_amount": "123.000",
                                            "amount": "1", "status": "confirmed"})
    assert response.status_code == 303
    donation = last_donation()
    assert (donation.amount, donation.status, donation.currency) == (123_000, "pending", "VND")


def test_an_individual_cannot_send_an_mst(client):
    client.post("/donate", data={**FORM, "tax_code": "0201234567"})
    assert last_donation().donor.tax_code is None


# ---------------------------------------------------------------- donor matching

def test_a_returning_donor_is_matched_by_email_and_name_only(client):
    known = factories.donor("Phạm Thu Trang", email="trang@example.com", public_listing_consent=True)
    client.post("/donate", data={**FORM, "email": "TRANG@example.com", "name": "pham thu trang"})
    assert last_donation().donor_id == known.id
    client.post("/donate", data={**FORM, "name": "Phạm Thu Hà"})  # same email, other name
    assert last_donation().donor_id != known.id
    client.post("/donate", data={**FORM, "email": "khac@example.com"})  # same name, other email
    assert last_donation().donor_id != known.id
    db.session.expire_all()
    # The form did not tick "list me": that choice stays on the gift; the record is unchanged.
    assert db.session.get(Donor, known.id).public_listing_consent is True


def test_an_organization_is_matched_by_mst(client):
    company = factories.organization("Công ty TNHH Thép Hải Phòng", tax_code="0201234567", email="a@thep.vn")
    client.post("/donate", data={**FORM, "kind": "organization", "name": "Thép Đông Á",
                                 "tax_code": "0201234567", "email": "ketoan@thep.vn", "representative": "Ông Nam"})
    donation = last_donation()
    assert donation.donor_id == company.id
    # A differing name or e-mail only suggests the match: staff must check it.
    assert donation.donor_name == "Thép Đông Á" and "tên và email" in donation.donor_check
    client.post("/donate", data={**FORM, "kind": "organization", "name": "CTY TNHH THÉP HẢI PHÒNG",
                                 "tax_code": "0201234567", "email": "A@thep.vn"})
    assert last_donation().donor_id == company.id and last_donation().donor_check is None
    client.post("/donate", data={**FORM, "kind": "organization", "name": "Công ty Mới",
                                 "tax_code": "0209999999", "email": "moi@example.com"})
    new = last_donation().donor
    assert new.id != company.id and new.tax_code == "0209999999" and new.kind == "organization"


# ---------------------------------------------------------------- demo checkout

def test_demo_checkout_confirms_through_the_signed_webhook_path(client):
    response = client.post("/donate", data={**FORM, "preset": "", "custom_amount": "150.000"})
    checkout = response.headers["Location"].replace("http://localhost", "")
    assert checkout.startswith("/donate/demo/cs_demo_")
    page = client.get(checkout).get_data(as_text=True)
    assert "Chế độ thử nghiệm — không trừ tiền" in page and "150.000\u00a0₫" in page

    paid = client.post(checkout, data={"action": "pay"})
    assert paid.status_code == 303
    done = client.get(paid.headers["Location"]).get_data(as_text=True)
    receipt = db.session.scalars(sa.select(Receipt)).one()
    assert "Cảm ơn" in done and receipt.number in done
    donation = last_donation()
    assert donation.status == "confirmed" and donation.stripe_payment_intent_id.startswith("pi_demo_")
    from app.models import PaymentEvent

    event = db.session.scalars(sa.select(PaymentEvent)).one()
    assert (event.event_type, event.outcome) == ("checkout.session.completed", "confirmed")
    assert client.post(checkout, data={"action": "pay"}).status_code == 303  # a second click
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1


def test_demo_cancel_fails_the_donation(client):
    response = client.post("/donate", data=FORM)
    checkout = response.headers["Location"].replace("http://localhost", "")
    cancelled = client.post(checkout, data={"action": "cancel"})
    assert "/donate/cancelled?t=" in cancelled.headers["Location"]
    assert "dừng thanh toán" in client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert last_donation().status == "failed"
    assert client.get("/donate/cancelled?t=forged").status_code == 404


def test_return_page_cannot_be_found_by_guessing(client):
    factories.donation(factories.donor(), 500_000)
    assert client.get("/donate/return").status_code == 404
    assert client.get("/donate/return?session_id=1").status_code == 404
    assert client.get("/donate/demo/cs_demo_guess").status_code == 404


def test_demo_webhook_secret_verifies_in_demo_mode(client, app):
    event = {"id": "evt_x", "type": "customer.created", "object": "event", "data": {"object": {}}}
    body, headers = signed_webhook(event, app.config["STRIPE_DEMO_WEBHOOK_SECRET"])
    assert client.post("/payments/stripe/webhook", data=body, headers=headers).status_code == 200


def test_production_without_stripe_has_no_demo_and_no_unsigned_webhooks(database_uri, app):
    prod = make_app(database_uri, DEMO_MODE_ALLOWED=False, STRIPE_DEMO_WEBHOOK_SECRET=None)
    client = prod.test_client()
    db.session.commit()
    page = client.get("/donate")
    assert page.status_code == 200 and "chưa sẵn sàng" in page.get_data(as_text=True)
    assert "Chế độ thử nghiệm" not in page.get_data(as_text=True)
    assert client.post("/donate", data=FORM).status_code == 503
    event = {"id": "evt_x", "type": "customer.created", "object": "event", "data": {"object": {}}}
    body, headers = signed_webhook(event, app.config["STRIPE_DEMO_WEBHOOK_SECRET"])
    assert client.post("/payments/stripe/webhook", data=body, headers=headers).status_code == 503
    assert client.get("/donate/demo/cs_demo_x").status_code == 404
    from config import ProductionConfig

    assert ProductionConfig.DEMO_MODE_ALLOWED is False and ProductionConfig.STRIPE_DEMO_WEBHOOK_SECRET is None


def test_donation_form_is_rate_limited_per_client(database_uri):
    limited = make_app(database_uri, RATELIMIT_ENABLED=True, DONATE_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    db.session.commit()
    codes = [client.post("/donate", data={**FORM, "email": ""}).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    assert "thao tác quá nhanh" in client.post("/donate", data=FORM).get_data(as_text=True)
    assert client.get("/donate").status_code == 200  # reading the form is never limited
    other = client.post("/donate", data=FORM, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 303

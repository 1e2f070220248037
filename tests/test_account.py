"""Donor accounts: sign-in by an e-mailed one-time link, the donor's own pages, audited
changes, and that a donor reaches only their own records."""
from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.routing import IntegerConverter
import sqlalchemy as sa

from app.extensions import db
from app.models import AccountToken, AuditEntry, Donor
from app.services.receipts import issuing as receipts
from app.timeutil import local_year, utcnow
from tests import factories
from tests.account_helpers import link_in, sign_in
from tests.test_receipt_mail import mail_config, smtp_port, smtp_server  # noqa: F401 (fixtures)


def test_sign_in_by_link_over_smtp(client, mail_config, smtp_server):
    donor = factories.donor(email="an.nguyen@example.com")
    factories.donation(donor, 2_000_000)
    smtp_server.messages.clear()  # the receipt

    page = client.post("/tai-khoan/dang-nhap", data={"email": "  An.Nguyen@EXAMPLE.com "})
    assert page.status_code == 200
    assert "Vui lòng kiểm tra hộp thư" in page.get_data(as_text=True)
    [mail] = smtp_server.messages
    assert mail["To"] == "an.nguyen@example.com"
    assert mail["List-Unsubscribe"].startswith("<http://localhost/tai-khoan/huy-nhan-thu/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = link_in(mail, "/tai-khoan/dang-nhap/")
    assert "15 phút" in mail.get_body(("plain",)).get_content()

    path = link.removeprefix("http://localhost")
    assert client.get("/tai-khoan").status_code == 302  # not signed in yet
    confirm = client.get(path)  # a mail scanner's GET signs nobody in
    assert confirm.status_code == 200 and "Đăng nhập" in confirm.get_data(as_text=True)
    assert client.get("/tai-khoan").status_code == 302
    response = client.post(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/tai-khoan")
    overview = client.get("/tai-khoan").get_data(as_text=True)
    assert "Nguyễn Văn An" in overview and "2.000.000\u00a0₫" in overview
    # The token is stored only as a hash.
    raw = path.rsplit("/", 1)[1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)
                             .where(AccountToken.token_hash == raw)) == 0


def test_unknown_address_gets_the_same_page_and_no_mail(client, mail_config, smtp_server):
    factories.donor(email="an@example.com")
    known = client.post("/tai-khoan/dang-nhap", data={"email": "an@example.com"}).get_data(as_text=True)
    unknown = client.post("/tai-khoan/dang-nhap", data={"email": "ai.do@example.com"}).get_data(as_text=True)
    assert known == unknown
    assert [m["To"] for m in smtp_server.messages] == ["an@example.com"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 1


def test_at_most_three_links_per_address_per_window(client, mail_config, smtp_server):
    factories.donor(email="an@example.com")
    for _ in range(5):
        assert client.post("/tai-khoan/dang-nhap", data={"email": "an@example.com"}).status_code == 200
    assert len(smtp_server.messages) == 3


def test_sign_in_requests_are_rate_limited(database_uri, app):
    from tests.conftest import make_app

    limited = make_app(database_uri, RATELIMIT_ENABLED=True, ACCOUNT_SIGN_IN_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    db.session.commit()
    codes = [client.post("/tai-khoan/dang-nhap", data={"email": f"x{i}@example.com"}).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]


def test_invalid_address_is_a_form_error(client):
    page = client.post("/tai-khoan/dang-nhap", data={"email": "khong-phai-email"})
    assert "Địa chỉ email không hợp lệ" in page.get_data(as_text=True)


@pytest.mark.parametrize("case", ["used", "expired", "forged"])
def test_bad_links_show_a_clear_page_and_no_session(client, case):
    factories.donor(email="an@example.com")
    from app.services.accounts import signin

    token = signin.new_token(signin.SIGN_IN, "an@example.com", 15)
    db.session.commit()
    if case == "used":
        assert client.post(f"/tai-khoan/dang-nhap/{token}").status_code == 302
        client.post("/tai-khoan/dang-xuat")
    elif case == "expired":
        row = db.session.scalars(sa.select(AccountToken)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    else:
        token = token[:-4] + "AAAA"
    for response in (client.get(f"/tai-khoan/dang-nhap/{token}"), client.post(f"/tai-khoan/dang-nhap/{token}")):
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert {"used": "đã được sử dụng", "expired": "đã hết hạn", "forged": "không hợp lệ"}[case] in text
        assert "chưa được đăng nhập" in text
    assert client.get("/tai-khoan").status_code == 302


def test_a_link_is_valid_for_fifteen_minutes(client):
    factories.donor(email="an@example.com")
    from app.services.accounts import signin

    signin.new_token(signin.SIGN_IN, "an@example.com", 15)
    db.session.commit()
    row = db.session.scalars(sa.select(AccountToken)).one()
    assert timedelta(minutes=14, seconds=50) < row.expires_at - row.created_at <= timedelta(minutes=15, seconds=1)


def test_a_donor_session_never_reaches_staff_pages(client):
    factories.donor(email="an@example.com")
    sign_in(client, "an@example.com")
    for path in ("/staff/", "/staff/donors", "/staff/du-lieu-ca-nhan"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path


def test_business_account_is_the_email_on_the_record(client):
    factories.organization(email="ketoan@thep.example.com", tax_code="0201234567")
    sign_in(client, "KeToan@thep.example.com".lower())
    assert "Công ty TNHH Thép Hải Phòng" in client.get("/tai-khoan").get_data(as_text=True)


def test_contact_change_is_audited_with_the_donor_as_actor(client):
    donor = factories.donor(email="an@example.com", phone="0912345678")
    sign_in(client, "an@example.com")
    response = client.post(f"/tai-khoan/ho-so/{donor.id}", data={
        "contact-name": "Nguyễn Văn An", "contact-phone": "+84 987 654 321",
        "contact-address": "12 Lạch Tray, Ngô Quyền", "contact-submit": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    donor = db.session.get(Donor, donor.id)
    assert donor.phone == "0987654321" and donor.address == "12 Lạch Tray, Ngô Quyền"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "account.contact_update")).one()
    assert entry.actor_label == "donor:an@example.com" and entry.actor_id is None
    assert entry.before == {"phone": "0912345678", "address": None}


def test_name_or_kind_change_after_a_receipt_is_refused_with_the_reason(client):
    donor = factories.organization(email="ketoan@thep.example.com", tax_code="0201234567")
    factories.donation(donor, 5_000_000)
    sign_in(client, "ketoan@thep.example.com")
    response = client.post(f"/tai-khoan/ho-so/{donor.id}", data={
        "contact-name": "Công ty CP Thép Mới", "contact-tax_code": "0201234567", "contact-submit": "1"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Không thể tự đổi tên" in text and "chứng từ kế toán" in text
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).name == "Công ty TNHH Thép Hải Phòng"


def test_name_change_without_receipts_is_allowed(client):
    donor = factories.donor(email="an@example.com")
    sign_in(client, "an@example.com")
    client.post(f"/tai-khoan/ho-so/{donor.id}", data={"contact-name": "Nguyễn Văn Ân", "contact-submit": "1"})
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).name == "Nguyễn Văn Ân"


def test_privacy_and_preferences_take_effect_and_are_audited(client):
    donor = factories.donor(email="an@example.com", public_listing_consent=True)
    sign_in(client, "an@example.com")
    client.post(f"/tai-khoan/ho-so/{donor.id}/lua-chon", data={"settings-anonymous": "y", "settings-email_news": "y"})
    db.session.expire_all()
    donor = db.session.get(Donor, donor.id)
    assert (donor.public_listing_consent, donor.anonymous, donor.email_news, donor.email_reminders) == \
        (False, True, True, False)
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "account.settings_update")).one()
    assert entry.actor_label == "donor:an@example.com"


def test_receipt_and_statement_downloads(client):
    donor = factories.donor(email="an@example.com")
    donation = factories.donation(donor, 3_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    sign_in(client, "an@example.com")
    page = client.get("/tai-khoan").get_data(as_text=True)
    assert receipt.number in page
    pdf = client.get(f"/tai-khoan/giay-chung-nhan/{receipt.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    year = local_year(donation.received_at)
    statement = client.get(f"/tai-khoan/sao-ke/{donor.id}/{year}.pdf")
    assert statement.status_code == 200 and statement.data.startswith(b"%PDF")
    assert client.get(f"/tai-khoan/sao-ke/{donor.id}/{year - 3}.pdf").status_code == 404


def test_email_change_needs_the_new_address_to_confirm(client, mail_config, smtp_server):
    donor = factories.donor(email="an@example.com")
    sign_in(client, "an@example.com")
    client.post(f"/tai-khoan/ho-so/{donor.id}/email", data={"email-new_email": "An.Moi@Example.com"})
    [mail] = smtp_server.messages
    assert mail["To"] == "an.moi@example.com"
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).email == "an@example.com"  # not yet
    path = link_in(mail, "/tai-khoan/xac-nhan-email/").removeprefix("http://localhost")
    assert client.post(path).status_code == 302
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).email == "an.moi@example.com"
    assert "an.moi@example.com" in client.get("/tai-khoan").get_data(as_text=True)
    assert client.post(path).status_code == 400  # once


# ---------------------------------------------------------------- another donor's ids

def account_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/tai-khoan") and any(
                isinstance(c, IntegerConverter) for c in rule._converters.values()):
            yield rule


def test_every_donor_url_refuses_another_donors_ids(app, client):
    mine = factories.donor(email="an@example.com")
    other = factories.donor("Trần Thị Bình", email="binh@example.com")
    other_gift = factories.donation(other, 1_000_000)
    other_receipt = receipts.valid_receipt_for(other_gift.id)
    from app.models import RecurringGift

    other_monthly = RecurringGift(donor=other, amount=200_000, programme=factories.programme(), status="active")
    db.session.add(other_monthly)
    db.session.commit()
    ids = {"donor_id": other.id, "receipt_id": other_receipt.id, "gift_id": other_monthly.id,
           "year": local_year(other_gift.received_at)}
    sign_in(client, "an@example.com")
    checked = 0
    for rule in account_rules(app):
        url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"submit": "1"})
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked >= 10
    db.session.expire_all()
    assert db.session.get(RecurringGift, other_monthly.id).status == "active"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_label == "donor:an@example.com", AuditEntry.action != "account.sign_in")) == 0
    assert mine.id != other.id


def test_donor_pages_need_a_donor_session(app, client):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/tai-khoan") or rule.endpoint in (
                "account.sign_in", "account.link", "account.link_use", "account.sign_out",
                "account.email_confirm", "account.unsubscribe"):
            continue
        url = rule.build({k: 1 for k in rule.arguments}, append_unknown=False)[1]
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/tai-khoan/dang-nhap" in response.headers["Location"], url

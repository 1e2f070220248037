"""Personal-data rights: export, consent withdrawal at once, correction and erasure
requests, the staff queue with its deadlines; and unsubscribe links honoured at once."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, DataRequest, Donation, Donor, OutboxMessage, Receipt, Role
from app.services.accounts import rights
from app.services.accounts.unsubscribe import unsubscribe_token
from app.services.receipts import mail as outbox
from app.timeutil import local_year
from tests import factories
from tests.account_helpers import sign_in
from tests.conftest import make_app
from tests.test_receipt_mail import mail_config, smtp_port, smtp_server  # noqa: F401 (fixtures)


def test_working_day_deadlines():
    friday = date(2026, 12, 4)
    assert rights.add_working_days(friday, 2) == date(2026, 12, 8)  # Tuesday: the weekend skipped
    assert rights.add_working_days(date(2026, 12, 1), 2) == date(2026, 12, 3)
    received = datetime(2026, 12, 4, 3, 0, tzinfo=timezone.utc)  # Friday 10:00 in Hai Phong
    assert rights.deadlines(received) == (date(2026, 12, 8), date(2026, 12, 19))


def test_export_json_and_pdf_hold_everything_about_the_donor(client):
    donor = factories.donor(email="an@example.com", phone="0912345678", address="5 Điện Biên Phủ")
    donation = factories.donation(donor, 1_500_000, public_message="Chúc các em khỏe")
    receipt = db.session.scalars(sa.select(Receipt).where(Receipt.donation_id == donation.id)).one()
    other = factories.donation(factories.donor("Người khác", email="khac@example.com"), 9_000_000)
    sign_in(client, "an@example.com")
    response = client.get(f"/tai-khoan/du-lieu/{donor.id}.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["donor"]["email"] == "an@example.com" and data["donor"]["phone"] == "0912345678"
    assert data["donor"]["address"] == "5 Điện Biên Phủ"
    assert [d["amount"] for d in data["donations"]] == [1_500_000]
    assert data["donations"][0]["public_message"] == "Chúc các em khỏe"
    assert [r["number"] for r in data["receipts"]] == [receipt.number]
    assert [m["subject"] for m in data["emails"]] and "account.sign_in" in [e["action"] for e in data["record_history"]]
    assert other.id not in [d["id"] for d in data["donations"]]
    pdf = client.get(f"/tai-khoan/du-lieu/{donor.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "account.data_export")) == 2


def test_consent_withdrawal_takes_effect_at_once(client):
    appeal = factories.appeal("mua-dong", title="Mùa đông ấm", status="open", is_public=True)
    donor = factories.donor(email="an@example.com", public_listing_consent=True, email_news=True)
    factories.donation(donor, 500_000, appeal_id=appeal.id)
    assert "Nguyễn Văn An" in client.get("/appeals/mua-dong").get_data(as_text=True)
    sign_in(client, "an@example.com")
    response = client.post(f"/tai-khoan/du-lieu/{donor.id}/rut-dong-y", follow_redirects=True)
    assert "có hiệu lực ngay" in response.get_data(as_text=True)
    assert "Nguyễn Văn An" not in client.get("/appeals/mua-dong").get_data(as_text=True)
    db.session.expire_all()
    donor = db.session.get(Donor, donor.id)
    assert not donor.public_listing_consent and not donor.email_news and donor.anonymous
    request = db.session.scalars(sa.select(DataRequest)).one()
    assert request.kind == "withdraw_consent" and request.status == "done"


def test_erasure_keeps_money_records_and_tells_the_donor_what_and_why(client, login_as):
    donor = factories.donor(email="an@example.com", phone="0912345678", address="5 Điện Biên Phủ",
                            public_listing_consent=True)
    donation = factories.donation(donor, 2_000_000, public_message="Thương các em")
    receipt_number = db.session.scalars(sa.select(Receipt.number)).one()
    sign_in(client, "an@example.com")
    # Without ticking the box nothing is recorded.
    client.post(f"/tai-khoan/du-lieu/{donor.id}/yeu-cau", data={"kind": "erasure"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DataRequest)) == 0
    response = client.post(f"/tai-khoan/du-lieu/{donor.id}/yeu-cau",
                           data={"kind": "erasure", "confirm": "y"}, follow_redirects=True)
    assert "Quỹ đã nhận yêu cầu “Xóa dữ liệu cá nhân”" in response.get_data(as_text=True)
    request = db.session.scalars(sa.select(DataRequest)).one()

    login_as(Role.DIRECTOR)
    queue = client.get("/staff/du-lieu-ca-nhan").get_data(as_text=True)
    assert "Xóa dữ liệu cá nhân" in queue and request.due_on.strftime("%d/%m/%Y") in queue
    client.post(f"/staff/du-lieu-ca-nhan/{request.id}/xac-nhan", data={"outcome": "Đã gọi lại xác nhận"})
    client.post(f"/staff/du-lieu-ca-nhan/{request.id}/hoan-thanh", data={"outcome": ""})
    db.session.expire_all()
    donor = db.session.get(Donor, donor.id)
    assert (donor.email, donor.phone, donor.address) == (None, None, None)
    assert donor.anonymous and not donor.public_listing_consent and donor.erased_at is not None
    assert donor.name == "Nguyễn Văn An"  # printed on the receipt: kept for the retention period
    assert donor.retain_until == date(local_year(donation.received_at) + 10, 12, 31)
    kept = db.session.get(Donation, donation.id)
    assert kept.amount == 2_000_000 and kept.status == "confirmed" and kept.public_message is None
    assert db.session.scalars(sa.select(Receipt.number)).one() == receipt_number
    request = db.session.get(DataRequest, request.id)
    assert request.status == "done" and "Luật Kế toán 2015" in request.outcome
    answer = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "data_request")).one()
    assert answer.to_address == "an@example.com" and "10 năm" in answer.body
    steps = list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "data_requests")))
    assert steps == ["data_request.create", "data_request.acknowledge", "data_request.complete"]
    # The address is gone: no sign-in link can be had for it any more.
    from app.services.accounts import signin
    assert signin.live_donors("an@example.com") == []
    # Years later the rest goes too.
    assert rights.purge_expired(factories.SYSTEM, today=donor.retain_until + timedelta(days=1)) == 1
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).name == rights.ERASED_NAME


def test_erasure_without_money_records_removes_the_name_too():
    donor = factories.donor(email="an@example.com")
    kept = rights.erase_donor(donor.id, factories.SYSTEM)
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).name == rights.ERASED_NAME
    assert "không có khoản ủng hộ nào" in kept


def test_staff_record_a_phoned_request_and_refusal_needs_a_reason(client, login_as):
    donor = factories.donor(email="an@example.com")
    login_as(Role.ACCOUNTANT)
    assert "Nguyễn Văn An" in client.get(f"/staff/du-lieu-ca-nhan?donor_id={donor.id}").get_data(as_text=True)
    client.post("/staff/du-lieu-ca-nhan/ghi-nhan", data={
        "donor_id": donor.id, "kind": "correction", "channel": "phone",
        "details": "Gọi điện: địa chỉ đúng là 7 Trần Phú"})
    request = db.session.scalars(sa.select(DataRequest)).one()
    assert request.channel == "phone" and request.recorded_by_id is not None
    response = client.post(f"/staff/du-lieu-ca-nhan/{request.id}/tu-choi", data={"outcome": ""},
                           follow_redirects=True)
    assert "Vui lòng ghi lý do từ chối" in response.get_data(as_text=True)
    client.post(f"/staff/du-lieu-ca-nhan/{request.id}/hoan-thanh", data={"outcome": "Đã sửa địa chỉ."})
    db.session.expire_all()
    assert db.session.get(DataRequest, request.id).status == "done"
    assert client.get(f"/staff/du-lieu-ca-nhan/nha-hao-tam/{donor.id}.pdf").data.startswith(b"%PDF")


def test_overdue_requests_are_flagged():
    donor = factories.donor(email="an@example.com")
    request = rights.create_request(donor.id, "other", factories.SYSTEM, channel="email", details="Hỏi")
    assert rights.overdue(request, request.acknowledge_by) is None
    assert rights.overdue(request, request.acknowledge_by + timedelta(days=1)) == "Quá hạn xác nhận"
    assert rights.overdue(request, request.due_on + timedelta(days=1)) == "Quá hạn xử lý"


def test_other_roles_cannot_see_the_queue(client, login_as):
    login_as(Role.CASE_WORKER)
    assert client.get("/staff/du-lieu-ca-nhan").status_code == 403


# ------------------------------------------------------------------- unsubscribe

def test_receipt_mail_carries_the_unsubscribe_link_and_headers(mail_config, smtp_server):
    factories.donation(factories.donor(email="an@example.com"))
    [mail] = smtp_server.messages
    token = unsubscribe_token("an@example.com")
    assert mail["List-Unsubscribe"] == f"<http://localhost/tai-khoan/huy-nhan-thu/{token}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/tai-khoan/huy-nhan-thu/{token}" in mail.get_body(("plain",)).get_content()


def test_one_click_unsubscribe_without_csrf_is_honoured_at_once(database_uri, app, mail_config, smtp_server,
                                                               monkeypatch):
    donor = factories.donor(email="an@example.com", email_news=True)
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "off")
    outbox.queue_notice("an@example.com", "Tin tức tháng 12", "Nội dung")
    db.session.commit()
    strict = make_app(database_uri, WTF_CSRF_ENABLED=True)
    db.session.commit()
    token = unsubscribe_token("An@Example.com")
    response = strict.test_client().post(f"/tai-khoan/huy-nhan-thu/{token}",
                                         data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    donor = db.session.get(Donor, donor.id)
    assert not donor.email_news and not donor.email_reminders
    # The notice queued before the click is not sent; a receipt still is.
    outbox.deliver()
    assert [m["Subject"] for m in smtp_server.messages] == []
    assert db.session.scalars(sa.select(OutboxMessage.status)).one() == "cancelled"
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "inline")
    factories.donation(donor)
    [receipt_mail] = smtp_server.messages
    assert receipt_mail["Subject"].startswith("Giấy chứng nhận ủng hộ số ")


def test_unsubscribe_page_and_bad_token(client):
    factories.donor(email="an@example.com")
    token = unsubscribe_token("an@example.com")
    page = client.get(f"/tai-khoan/huy-nhan-thu/{token}")
    assert page.status_code == 200 and "an@example.com" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(sa.select(Donor)).one().email_reminders  # a GET changes nothing
    done = client.post(f"/tai-khoan/huy-nhan-thu/{token}")
    assert "Đã hủy nhận thư" in done.get_data(as_text=True)
    assert client.get("/tai-khoan/huy-nhan-thu/not-a-token").status_code == 404


def test_purge_command_removes_old_links_and_expired_retention(runner):
    from app.models import AccountToken
    from app.services.accounts import signin

    donor = factories.donor(email="an@example.com")
    factories.donation(donor)
    rights.erase_donor(donor.id, factories.SYSTEM)
    db.session.get(Donor, donor.id).retain_until = date(2000, 12, 31)
    signin.new_token(signin.SIGN_IN, "khac@example.com", -1)
    db.session.commit()
    result = runner.invoke(args=["accounts", "purge"])
    assert result.exit_code == 0 and "Đã ẩn danh 1 hồ sơ" in result.output and "xóa 1 đường dẫn" in result.output
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).name == rights.ERASED_NAME
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 0

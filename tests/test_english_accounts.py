"""Donor accounts, receipts and e-mails in English (issue 17): the account pages follow the
site's language; a mail composed during a request (a sign-in link) is in the language of
the page it was asked on; a mail to a donor (receipt, data-request answer, notices) is in
the donor's own language (`Donor.language`), whoever or whatever sends it; an English
donor's receipt PDF carries, after the official Vietnamese page, an English courtesy
translation; and the donor chooses the language on the profile page."""
from __future__ import annotations

import dataclasses
import shutil

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Donor, OutboxMessage, RequestKind
from app.services.accounts import rights
from app.services.receipts import documents
from app.services.receipts import issuing as receipts
from app.services.receipts import mail as outbox
from tests import factories
from tests.account_helpers import link_in, sign_in
from tests.test_receipt_mail import mail_config, smtp_port, smtp_server  # noqa: F401 (fixtures)

needs_poppler = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdfinfo")),
                                   reason="poppler-utils (pdftotext, pdfinfo) not installed")


def body_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def pdf_pages(pdf: bytes, tmp_path) -> int:
    import subprocess

    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_text(pdf: bytes, tmp_path, *options: str) -> str:
    from tests.test_receipt_pdf import pdftotext

    return pdftotext(pdf, tmp_path, *options)


# ------------------------------------------------------------------ account pages

def test_account_pages_in_english(client):
    donor = factories.donor(email="an@example.com")
    factories.donation(donor, 2_000_000)
    sign_in(client, "an@example.com")
    client.set_cookie("lang", "en")
    overview = client.get("/tai-khoan").get_data(as_text=True)
    assert "Donor account" in overview and "Donations" in overview and "2,000,000\u00a0₫" in overview
    assert "Tài khoản nhà hảo tâm" not in overview
    edit = client.get(f"/tai-khoan/ho-so/{donor.id}").get_data(as_text=True)
    assert "Contact details" in edit and "Language of the Fund's emails to you" in edit
    data = client.get("/tai-khoan/du-lieu").get_data(as_text=True)
    assert "Your personal data" in data and "Dữ liệu cá nhân của Quý vị" not in data
    client.set_cookie("lang", "vi")
    assert "Tài khoản nhà hảo tâm" in client.get("/tai-khoan").get_data(as_text=True)


def test_sign_in_page_and_flash_in_english(client):
    client.set_cookie("lang", "en")
    page = client.get("/tai-khoan/dang-nhap").get_data(as_text=True)
    assert "Sign in to your donor account" in page and "Send me a sign-in link" in page
    response = client.get("/tai-khoan", follow_redirects=True)
    assert "Please sign in to your donor account." in response.get_data(as_text=True)


# ------------------------------------------------------------------ mails in the request's language

def test_sign_in_mail_in_english_when_asked_on_the_english_site(client, mail_config, smtp_server):
    factories.donor(email="an@example.com")  # no language chosen: the page's language decides
    client.set_cookie("lang", "en")
    page = client.post("/tai-khoan/dang-nhap", data={"email": "an@example.com"}).get_data(as_text=True)
    assert "Please check your inbox" in page
    [mail] = smtp_server.messages
    assert mail["Subject"].startswith("Your sign-in link — ") and mail["Content-Language"] == "en"
    body = body_of(mail)
    assert "Follow this link to sign in (valid for 15 minutes, once)" in body
    assert "Unsubscribe here" in body and "Hủy nhận thư" not in body
    link_in(mail, "/tai-khoan/dang-nhap/")

    smtp_server.messages.clear()
    client.set_cookie("lang", "vi")
    client.post("/tai-khoan/dang-nhap", data={"email": "an@example.com"})
    [mail] = smtp_server.messages
    assert mail["Subject"].startswith("Đường dẫn đăng nhập — ")
    assert "Bấm vào đường dẫn sau để đăng nhập" in body_of(mail) and "Hủy nhận thư tại" in body_of(mail)


# ------------------------------------------------------------------ mails in the donor's language

def test_receipt_mail_in_english_for_an_english_donor(mail_config, smtp_server, tmp_path):
    donor = factories.donor(email="an@example.com", language="en")
    donation = factories.donation(donor, 50_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    [mail] = smtp_server.messages
    assert mail["Subject"].startswith(f"Donation receipt No. {receipt.number} — ") and mail["Content-Language"] == "en"
    body = body_of(mail)
    assert "Dear Nguyễn Văn An," in body and "50,000,000\u00a0₫" in body
    assert f"http://localhost/receipts/verify/{receipt.verification_token}" in body
    assert "Unsubscribe here" in body and "Kính gửi" not in body
    [attachment] = list(mail.iter_attachments())
    if shutil.which("pdfinfo"):
        assert pdf_pages(attachment.get_content(), tmp_path) == 2


def test_receipt_mail_in_vietnamese_for_a_vietnamese_donor(mail_config, smtp_server, tmp_path):
    donor = factories.donor(email="an@example.com")  # language None: Vietnamese
    donation = factories.donation(donor, 50_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    [mail] = smtp_server.messages
    assert mail["Subject"].startswith(f"Giấy chứng nhận ủng hộ số {receipt.number} — ") and mail["Content-Language"] == "vi"
    body = body_of(mail)
    assert "Kính gửi Nguyễn Văn An," in body and "50.000.000\u00a0₫" in body and "Hủy nhận thư tại" in body
    [attachment] = list(mail.iter_attachments())
    if shutil.which("pdfinfo"):
        assert pdf_pages(attachment.get_content(), tmp_path) == 1


def test_a_receipt_issued_on_the_english_site_is_mailed_in_the_donors_language(app, mail_config, smtp_server):
    vietnamese = factories.donor(email="an@example.com")
    english = factories.donor(name="Jane Smith", email="jane@example.com", language="en")
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):  # an English-speaking accountant
        factories.donation(vietnamese, 1_000_000)
        factories.donation(english, 1_000_000)
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert subjects["an@example.com"].startswith("Giấy chứng nhận ủng hộ số")
    assert subjects["jane@example.com"].startswith("Donation receipt No.")


def test_queued_mail_is_sent_in_the_donors_language_not_the_workers(app, mail_config, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "off")  # left to the worker / cron
    factories.donation(factories.donor(email="an@example.com"), 1_000_000)
    factories.donation(factories.donor(name="Jane Smith", email="jane@example.com", language="en"), 1_000_000)
    assert smtp_server.messages == []
    monkeypatch.setenv("CLI_LANG", "en")  # the worker's own language is English
    result = outbox.deliver()
    assert result.sent == 2
    bodies = {m["To"]: body_of(m) for m in smtp_server.messages}
    assert bodies["an@example.com"].startswith("Kính gửi") and "Hủy nhận thư tại" in bodies["an@example.com"]
    assert bodies["jane@example.com"].startswith("Dear") and "Unsubscribe here" in bodies["jane@example.com"]


def test_data_request_answer_in_the_donors_language(app, mail_config, smtp_server):
    donor = factories.donor(name="Jane Smith", email="jane@example.com", language="en")
    request = rights.create_request(donor.id, RequestKind.OTHER.value, factories.SYSTEM, channel="email",
                                    details="Please send me my data")
    with app.test_request_context("/", headers={"Cookie": "lang=vi"}):  # a Vietnamese-speaking staff member
        rights.complete(request.id, factories.SYSTEM, "Đã gửi / Sent")
    [mail] = smtp_server.messages
    assert mail["Subject"] == "Outcome of your request “Other request”"
    body = body_of(mail)
    assert body.startswith("Dear donor,") and "Outcome: Completed" in body and "Đã gửi / Sent" in body
    message = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "data_request")).one()
    assert message.subject.startswith("Outcome")


def test_payment_failed_notice_in_the_donors_language(app, mail_config, smtp_server):
    from app.models import RecurringGift, RecurringMethod, RecurringStatus
    from app.services.accounts import recurring_events

    donor = factories.donor(name="Jane Smith", email="jane@example.com", language="en", email_reminders=True)
    gift = RecurringGift(donor_id=donor.id, method=RecurringMethod.CARD.value, amount=500_000,
                         programme_id=factories.programme().id, status=RecurringStatus.ACTIVE.value,
                         stripe_subscription_id="sub_en")
    db.session.add(gift)
    db.session.commit()
    recurring_events.apply("invoice.payment_failed", {
        "id": "in_1", "subscription": "sub_en", "attempt_count": 1,
        "subscription_details": {"metadata": {"recurring_gift_id": str(gift.id)}}})
    db.session.commit()
    [mail] = smtp_server.messages
    assert mail["Subject"] == "Your monthly donation could not be paid"
    assert "The card was declined for a payment of 500,000\u00a0₫ (attempt 1)." in body_of(mail)
    db.session.expire_all()
    # What is kept on the gift (shown to staff, audit log) stays Vietnamese.
    assert db.session.get(RecurringGift, gift.id).failure_message.startswith("Thẻ bị từ chối")


# ------------------------------------------------------------------ the courtesy translation

@needs_poppler
def test_an_english_donors_receipt_has_a_courtesy_translation_page(tmp_path):
    donor = factories.organization(email="ketoan@thep.example.com", tax_code="0201234567", language="en")
    donation = factories.donation(donor, 50_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    pdf = documents.receipt_pdf(receipt)
    assert pdf_pages(pdf, tmp_path) == 2
    second = " ".join(pdf_text(pdf, tmp_path, "-f", "2", "-l", "2").split())
    assert "Courtesy translation — the Vietnamese receipt above is the official document" in second
    for fact in (receipt.number, "Công ty TNHH Thép Hải Phòng", "0201234567", "50,000,000 ₫",
                 "General fund, no designated purpose", "Quỹ Bảo trợ trẻ em thành phố Hải Phòng"):
        assert fact in second, fact
    first = pdf_text(pdf, tmp_path, "-f", "1", "-l", "1")
    assert "GIẤY CHỨNG NHẬN ỦNG HỘ" in first and "Courtesy" not in first
    # The official page is exactly the receipt everyone else gets.
    renderer = documents.renderer_for()
    plain = renderer.render_receipt(dataclasses.replace(documents.receipt_data(receipt), translation=None))
    assert pdf_pages(plain, tmp_path) == 1
    assert pdf_text(plain, tmp_path) == first


@needs_poppler
def test_a_vietnamese_donors_receipt_has_one_page(tmp_path):
    donation = factories.donation(factories.donor(email="an@example.com"), 2_000_000)
    pdf = documents.receipt_pdf(receipts.valid_receipt_for(donation.id))
    assert pdf_pages(pdf, tmp_path) == 1
    assert "Courtesy" not in pdf_text(pdf, tmp_path)


@needs_poppler
def test_the_receipt_stays_vietnamese_when_an_english_reader_downloads_it(client, tmp_path):
    donor = factories.donor(email="an@example.com")
    donation = factories.donation(donor, 2_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    sign_in(client, "an@example.com")
    client.set_cookie("lang", "en")
    response = client.get(f"/tai-khoan/giay-chung-nhan/{receipt.id}.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    assert "Quỹ chung, không chỉ định mục đích" in text and "2.000.000 ₫" in text
    assert pdf_pages(response.data, tmp_path) == 1


# ------------------------------------------------------------------ the profile's language choice

def test_profile_language_choice_is_saved_and_audited(client):
    donor = factories.donor(email="an@example.com")
    sign_in(client, "an@example.com")
    page = client.get(f"/tai-khoan/ho-so/{donor.id}").get_data(as_text=True)
    assert 'name="settings-language"' in page and "Tiếng Anh" in page
    response = client.post(f"/tai-khoan/ho-so/{donor.id}/lua-chon",
                           data={"settings-language": "en", "settings-email_news": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).language == "en"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "account.settings_update")).one()
    assert entry.before["language"] is None and entry.after["language"] == "en"
    page = client.get(f"/tai-khoan/ho-so/{donor.id}").get_data(as_text=True)
    assert '<option selected value="en">' in page or '<option value="en" selected>' in page

    # A post without the field (an old form) leaves the choice alone; a bad value is refused.
    client.post(f"/tai-khoan/ho-so/{donor.id}/lua-chon", data={"settings-email_news": "y"})
    client.post(f"/tai-khoan/ho-so/{donor.id}/lua-chon", data={"settings-language": "fr"})
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).language == "en"

    client.post(f"/tai-khoan/ho-so/{donor.id}/lua-chon", data={"settings-language": "vi"})
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).language == "vi"


def test_choosing_vietnamese_when_none_was_chosen_changes_nothing(client):
    donor = factories.donor(email="an@example.com")
    sign_in(client, "an@example.com")
    client.post(f"/tai-khoan/ho-so/{donor.id}/lua-chon", data={"settings-language": "vi"})
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).language is None
    for entry in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "account.settings_update")):
        assert "language" not in (entry.after or {})


def test_annual_statement_mail_in_each_donors_language(app, mail_config, smtp_server, monkeypatch):
    from datetime import datetime, timezone

    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", "off")
    english = factories.donor(name="Jane Smith", email="jane@example.com", language="en")
    vietnamese = factories.donor(email="an@example.com")
    for donor in (english, vietnamese):
        factories.donation(donor, 1_000_000, received_at=datetime(2025, 6, 1, 3, tzinfo=timezone.utc))
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    outbox.queue_statement_mails(2025, [(english.id, english.name, english.email),
                                        (vietnamese.id, vietnamese.name, vietnamese.email)])
    db.session.commit()
    assert outbox.deliver().sent == 2
    mails = {m["To"]: m for m in smtp_server.messages}
    assert mails["jane@example.com"]["Subject"].startswith("Donation statement for 2025 — ")
    assert "Unsubscribe here" in body_of(mails["jane@example.com"])
    assert mails["an@example.com"]["Subject"].startswith("Sao kê ủng hộ năm 2025 — ")
    assert "Hủy nhận thư tại" in body_of(mails["an@example.com"])


def test_staff_receipt_and_data_request_pages_in_english(client, login_as):
    from app.models import Role
    from tests.test_english_pages import leftovers, stored_texts

    donor = factories.donor(name="Jane Smith", email="jane@example.com", language="en")
    donation = factories.donation(donor, 1_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    request = rights.create_request(donor.id, RequestKind.CORRECTION.value, factories.SYSTEM, channel="email",
                                    details="Please correct my address")
    closed = rights.create_request(donor.id, RequestKind.OTHER.value, factories.SYSTEM, channel="email",
                                   details="A question")
    rights.refuse(closed.id, factories.SYSTEM, "Not possible")
    login_as(Role.ACCOUNTANT)
    client.set_cookie("lang", "en")
    data = stored_texts()
    pages = {"/staff/du-lieu-ca-nhan": "Personal data",
             f"/staff/du-lieu-ca-nhan?donor_id={donor.id}": "Record a request received by letter or phone",
             f"/staff/receipts/{receipt.id}": f"Receipt {receipt.number}",
             "/staff/receipts": "Donation receipt", "/staff/receipts/mail": "Receipt emails"}
    for url, heading in pages.items():
        html = client.get(url).get_data(as_text=True)
        assert heading in html, url
        # What is left is other areas' labels (roles, channels, audit actions), not these pages'.
        mine = [t for t in leftovers(html, data) if not any(label in t for label in OTHER_AREAS)]
        assert mine == [], (url, mine)
    assert request.kind_label == "Chỉnh sửa dữ liệu"  # outside a request: Vietnamese


#: Labels drawn on these pages that other engineers translate (models and the staff frame).
OTHER_AREAS = {"Kế toán", "Chuyển khoản ngân hàng", "Đã xác nhận", "Cấp giấy chứng nhận", "Cá nhân", "Tập thể"}

"""The public site and online giving in English (issue 17): the donation form's labels and
errors, a flashed message, the transfer page with its VietQR details, the error pages, the
API's messages (Accept-Language), and the donor's language recorded when they give."""
from __future__ import annotations

import html
import json
import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Donor, TransferPledge
from app.services.bank.transfers import sepay_payload
from tests import bank_helpers as bh
from tests import factories
from tests.test_english_pages import leftovers, stored_texts

FORM = {"kind": "individual", "name": "Phạm Thu Trang", "email": "trang@example.com",
        "preset": "100000", "designation": "general", "currency": "VND"}
TRANSFER = {**FORM, "method": "transfer", "preset": "", "custom_amount": "75,000,000"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def english(client) -> None:
    client.set_cookie("lang", "en")


def errors_of(response) -> list[str]:
    return [html.unescape(e) for e in re.findall(r'invalid-feedback d-block"[^>]*>([^<]+)<', response.get_data(as_text=True))]


def no_vietnamese(page: str, *allowed: str) -> None:
    """No Vietnamese shown but data (the fund's name, programme names, the donor's name…)."""
    assert leftovers(page, sorted({*allowed, *stored_texts()}, key=len, reverse=True)) == []


def last(model):
    db.session.expire_all()
    return db.session.scalars(sa.select(model).order_by(model.id.desc())).first()


def test_the_donate_form_reads_in_english_with_english_amounts(client, app):
    # Vietnamese first: an amount drawn in the template must not keep the first page's language.
    assert 'placeholder="Ví dụ 300.000"' in app.test_client().get("/donate").get_data(as_text=True)
    english(client)
    page = client.get("/donate").get_data(as_text=True)
    for text in ('placeholder="E.g. 300,000"', "Donate to", "How you give", "Card (online payment)", "Bank transfer / VietQR", "Frequency",
                 "Donation amount", "100,000\u00a0₫", "Other amount", "Donor details", "Continue to payment",
                 "Minimum 10,000\u00a0₫; by card at most 50,000,000\u00a0₫ at a time"):
        assert text in page, text
    no_vietnamese(page)


def test_the_donate_forms_validation_errors_are_in_english(client):
    english(client)
    response = client.post("/donate", data={**FORM, "name": "", "email": "not-an-email", "phone": "abc",
                                            "preset": "", "custom_amount": "12,50"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert "Please enter your name or your organisation's name (used on the receipt)." in errors
    assert "Invalid email address." in errors
    assert "Invalid phone number (digits only, e.g. 0912 345 678)." in errors
    assert any(e.startswith("The amount cannot have decimals") for e in errors), errors
    assert "Please check the fields marked below." in response.get_data(as_text=True)
    assert not any(re.search("[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", e) for e in errors), errors

    response = client.post("/donate", data={**FORM, "preset": "", "custom_amount": "5,000"})
    assert errors_of(response) == ["The minimum amount is 10,000\u00a0₫."]
    response = client.post("/donate", data={**FORM, "preset": "", "custom_amount": "60,000,000"})
    assert errors_of(response)[0].startswith("A card payment is at most 50,000,000\u00a0₫ at a time.")
    response = client.post("/donate", data={**TRANSFER, "name": ""})
    assert errors_of(response) == ["Please enter your name or your organisation's name (used on the receipt). "
                                   "Or leave both name and email empty to give anonymously by bank transfer."]


def test_vietnamese_stays_the_default(client):
    response = client.post("/donate", data={**FORM, "preset": "", "custom_amount": "5.000"})
    assert errors_of(response) == ["Số tiền tối thiểu là 10.000\u00a0₫."]
    assert "Hình thức ủng hộ" in client.get("/donate").get_data(as_text=True)


def test_a_flashed_message_is_in_english(client):
    english(client)
    response = client.get("/donate?appeal=khong-co", follow_redirects=True)
    assert "This appeal does not exist or has ended; you can still donate to the Fund." in response.get_data(as_text=True)


def test_the_sign_in_flash_is_in_english(client):
    english(client)
    page = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert "Please sign in to continue." in page


def test_the_transfer_page_and_its_vietqr_details_are_in_english(client):
    account = bh.account()
    english(client)
    response = client.post("/donate", data=TRANSFER)
    assert response.status_code == 303, errors_of(response)
    pledge = last(TransferPledge)
    assert pledge.amount == 75_000_000
    page = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    for text in ("Donate 75,000,000\u00a0₫ by bank transfer", "Bank", "Account number", "Account holder",
                 "Transfer description", "Save the QR image", "What happens next?", pledge.code,
                 account.account_number, "Please keep the transfer description exactly as it is",
                 f"VietQR code: transfer 75,000,000\u00a0₫ to {account.bank_name} {account.account_number}, "
                 f"description {pledge.code}", "Copy"):
        assert text in page, text
    assert re.search(r"The code is valid until \d{1,2} [A-Z][a-z]+ \d{4}\.", page)
    no_vietnamese(page, account.bank_name, account.account_name, pledge.donor_name)


def test_the_received_transfer_page_is_in_english_and_the_new_donor_keeps_english(client, app, monkeypatch):
    for name, value in bh.BANK_SECRETS.items():
        monkeypatch.setitem(app.config, name, value)
    account = bh.account()
    english(client)
    client.post("/donate", data={**TRANSFER, "email": "new@example.com"})
    pledge = last(TransferPledge)
    body = json.dumps(sepay_payload(pledge, txn_id=1)).encode()
    assert client.post("/payments/sepay/webhook", data=body, headers=bh.sepay_headers()).status_code == 200
    page = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    assert "Received — thank you!" in page and "Receipt number:" in page
    no_vietnamese(page, account.bank_name, account.account_name, pledge.donor_name)
    donor = db.session.scalars(sa.select(Donor).where(Donor.email == "new@example.com")).one()
    assert donor.language == "en"


def test_the_404_and_the_csrf_pages_are_in_english(client, app, monkeypatch):
    english(client)
    response = client.get("/khong-co-trang-nay")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "The page you asked for was not found." in page and "Error 404" in page and "Back to the home page" in page
    no_vietnamese(page)
    assert "Không tìm thấy trang bạn yêu cầu." in app.test_client().get("/khong-co-trang-nay").get_data(as_text=True)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/donate", data=FORM)
    assert response.status_code == 400
    assert "The form has expired or is invalid. Please reload the page and try again." in response.get_data(as_text=True)


def test_the_api_answers_in_the_callers_language(client):
    response = client.get("/api/v1/ledger?amount_min=abc", headers=EN)
    assert response.status_code == 400 and response.get_json()["status"] == 400
    assert response.get_json()["error"].startswith("Amount from: ")
    response = client.get("/api/v1/ledger?date_from=2024-13-01", headers=EN)
    assert response.get_json()["error"] == "From: invalid date (format YYYY-MM-DD)."
    response = client.get("/api/v1/ledger?colour=red", headers=EN)
    assert response.get_json()["error"] == "Unsupported filter: colour."
    response = client.get("/api/v1/ledger?name=", headers=EN)
    assert response.get_json()["error"] == "The parameter «name» is empty or has extra spaces."
    assert client.get("/api/v1/nothing-here", headers=EN).get_json()["error"] == "The page you asked for was not found."
    # Without an English Accept-Language: Vietnamese, as before.
    assert client.get("/api/v1/ledger?colour=red").get_json()["error"] == "Bộ lọc không được hỗ trợ: colour."


def test_a_card_donor_gets_the_sites_language_and_a_returning_donor_is_updated(client):
    english(client)
    assert client.post("/donate", data=FORM).status_code == 303
    donation = last(Donation)
    assert donation.donor.language == "en"
    known = factories.donor("Lê Văn Nam", email="nam@example.com")
    db.session.commit()
    assert known.language is None
    client.set_cookie("lang", "vi")
    client.post("/donate", data={**FORM, "name": "Lê Văn Nam", "email": "nam@example.com"})
    assert last(Donation).donor_id == known.id and db.session.get(Donor, known.id).language == "vi"
    english(client)
    client.post("/donate", data={**FORM, "name": "Lê Văn Nam", "email": "NAM@example.com"})
    assert db.session.get(Donor, known.id).language == "en"


def test_a_standing_pledge_records_the_language_on_the_donor(client):
    bh.account()
    english(client)
    response = client.post("/donate", data={**TRANSFER, "frequency": "monthly", "custom_amount": "200,000",
                                            "email": "monthly@example.com"})
    assert response.status_code == 303, errors_of(response)
    donor = db.session.scalars(sa.select(Donor).where(Donor.email == "monthly@example.com")).one()
    assert donor.language == "en"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Monthly giving of 200,000\u00a0₫ by bank transfer" in page and "Amount per month" in page


def test_the_transparency_pages_speak_english(client):
    english(client)
    page = client.get("/cong-khai/sao-ke").get_data(as_text=True)
    assert "Ledger of donations received" in page and "Clear filters" in page
    page = client.get("/ket-qua-ho-tro").get_data(as_text=True)
    assert "What your support has done for children" in page and "Supported <strong>0</strong> children" in page
    page = client.get("/cong-khai/").get_data(as_text=True)
    assert "Financial transparency" in page and "Received and spent by month" in page
    assert ">Jan<" in page and ">T1<" not in page  # the chart's months
    assert ">T1<" in client.application.test_client().get("/cong-khai/").get_data(as_text=True)
    response = client.get("/cong-khai/sao-ke?date_from=2024-02-30")
    assert response.status_code == 400 and "From: invalid date (format YYYY-MM-DD)." in response.get_data(as_text=True)
    page = client.get("/cong-khai/tra-cuu?q=BTTE-2024-999999").get_data(as_text=True)
    assert "No receipt numbered BTTE-2024-999999 was found." in page


def test_the_demo_checkout_the_return_and_the_cancelled_pages_are_in_english(client):
    english(client)
    response = client.post("/donate", data={**FORM, "preset": "", "custom_amount": "150,000"})
    checkout = response.headers["Location"].replace("http://localhost", "")
    page = client.get(checkout).get_data(as_text=True)
    assert "Test mode — no money is taken" in page and "150,000\u00a0₫" in page and ">Pay<" in page
    no_vietnamese(page)
    paid = client.post(checkout, data={"action": "pay"})
    page = client.get(paid.headers["Location"]).get_data(as_text=True)
    assert "Thank you for your donation!" in page and "Receipt number:" in page
    # (The receipt's download box below is templates/receipts/_donor_download.html, not this page's.)
    assert "Quỹ đã nhận" not in page and "Số giấy chứng nhận" not in page

    response = client.post("/donate", data=FORM)
    checkout = response.headers["Location"].replace("http://localhost", "")
    cancelled = client.post(checkout, data={"action": "cancel"})
    page = client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert "You stopped the payment" in page and "Donate again" in page
    no_vietnamese(page)


def test_a_failed_card_gift_shows_our_reason_in_english(client):
    from app.services.donations import online

    english(client)
    response = client.post("/donate", data=FORM)
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    donation = last(Donation)
    donation.status, donation.reason = "failed", online.REASON_EXPIRED
    db.session.commit()
    page = client.get(f"/donate/return?session_id={session_id}").get_data(as_text=True)
    assert "The payment did not go through" in page
    assert "The payment session expired before the donor paid." in page
    no_vietnamese(page)


def test_the_openapi_document_follows_the_callers_language(client):
    english_doc = client.get("/api/openapi.json", headers=EN).get_json()
    assert english_doc["info"]["title"] == "Open data — Hai Phong City Children's Protection Fund"
    assert english_doc["paths"]["/api/v1/ledger"]["get"]["summary"].startswith("Ledger of gifts")
    assert "Number of lines, at most 1001." in json.dumps(english_doc)
    vietnamese_doc = client.get("/api/openapi.json").get_json()
    assert vietnamese_doc["paths"]["/api/v1/ledger"]["get"]["summary"].startswith("Sao kê tiếp nhận")
    assert "Số dòng, tối đa 1001." in json.dumps(vietnamese_doc, ensure_ascii=False)
    assert set(english_doc["paths"]) == set(vietnamese_doc["paths"])

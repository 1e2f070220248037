"""Public verification and donor download; the staff receipt pages; the PDF the app makes."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa
from flask import render_template

from app.extensions import db
from app.models import Receipt, Role
from app.services.audit import Actor

SYSTEM_ACTOR = Actor.system("test")
from app.services import setup
from app.services.donations import ledger as donations
from app.services.receipts import documents as receipt_documents
from app.services.receipts import issuing as receipts
from app.vnd import amount_in_words
from tests import factories


def pdf_text(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


# ----------------------------------------------------------------- verification

def test_verify_page_shows_a_valid_receipt_without_private_details(client):
    donor = factories.organization(tax_code="0201234567", email="lienhe@thep.example.com",
                                   address="Số 5 đường Lạch Tray, phường Ngô Quyền", phone="0225123456")
    donation = factories.donation(donor, 50_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    response = client.get(f"/receipts/verify/{receipt.verification_token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert receipt.number in html and "50.000.000\u00a0₫" in html
    assert "Công ty TNHH Thép Hải Phòng" in html and "Giấy chứng nhận hợp lệ" in html
    assert "ĐÃ HỦY" not in html
    for private in ("0201234567", "lienhe@thep.example.com", "Lạch Tray", "0225123456"):
        assert private not in html
    assert response.headers["X-Robots-Tag"].startswith("noindex")


def test_verify_page_masks_an_anonymous_donor_and_shows_void(client):
    donor = factories.donor("Trần Thị Bí Mật", anonymous=True)
    donation = factories.donation(donor, 3_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    receipts.void_receipt(receipt.id, factories.SYSTEM, "Ghi nhầm")
    html = client.get(f"/receipts/verify/{receipt.verification_token}").get_data(as_text=True)
    assert "Trần Thị Bí Mật" not in html and "Nhà hảo tâm" in html
    assert "ĐÃ HỦY" in html and "Giấy chứng nhận hợp lệ" not in html
    assert receipts.valid_receipt_for(donation.id) is None


def test_verify_shows_the_net_amount_after_a_partial_refund(client):
    donation = factories.donation(amount=10_000_000)
    donations.reverse_donation(donation.id, factories.SYSTEM, reason="Hoàn một phần", amount=4_000_000)
    current = receipts.valid_receipt_for(donation.id)
    assert current.replaces is not None
    html = client.get(f"/receipts/verify/{current.verification_token}").get_data(as_text=True)
    assert "6.000.000\u00a0₫" in html and current.replaces.number in html
    old = client.get(f"/receipts/verify/{current.replaces.verification_token}").get_data(as_text=True)
    assert "ĐÃ HỦY" in old and current.number in old


@pytest.mark.parametrize("token", ["khong-co", "x" * 32, "a" * 200])
def test_unknown_token_is_a_plain_vietnamese_404(client, token):
    factories.donation()
    response = client.get(f"/receipts/verify/{token}")
    assert response.status_code == 404
    assert "Không tìm thấy giấy chứng nhận" in response.get_data(as_text=True)


def test_nothing_lists_receipts_publicly(client):
    factories.donation()
    for path in ("/receipts/", "/receipts/verify/", "/receipts/download/"):
        assert client.get(path).status_code == 404


# ----------------------------------------------------------------- donor download

def test_donor_download_link_is_signed(client, app):
    donation = factories.donation(factories.donor("Lê Minh Tuấn"), 1_500_000)
    receipt = receipts.valid_receipt_for(donation.id)
    with app.test_request_context():
        html = render_template("receipts/_donor_download.html", receipt=receipt)
    assert receipt.number in html and "Tải giấy chứng nhận (PDF)" in html
    url = html.split('href="')[1].split('"')[0]
    assert url.startswith("/receipts/download/")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 404
    # The verification token alone does not give the PDF.
    assert client.get(f"/receipts/download/{receipt.verification_token}").status_code == 404


def test_donor_download_partial_renders_nothing_without_a_receipt(app):
    with app.test_request_context():
        assert render_template("receipts/_donor_download.html", receipt=None).strip() == ""


# ----------------------------------------------------------------- the PDF the app makes

def test_app_generated_receipt_pdf_has_name_amount_words_and_number(client, login_as, tmp_path):
    donor = factories.organization("Công ty Cổ phần Xi măng Tràng Kênh Mới", tax_code="0203456789",
                                   address="Số 12 đường Bạch Đằng, phường Thủy Nguyên")
    donation = factories.donation(donor, 50_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    login_as(Role.ACCOUNTANT)
    response = client.get(f"/staff/receipts/{receipt.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    flat = " ".join(text.split())
    assert "Công ty Cổ phần Xi măng Tràng Kênh Mới" in flat
    assert receipt.number in flat
    assert "50.000.000 ₫" in flat
    assert f"Bằng chữ: {amount_in_words(50_000_000)}." in flat
    assert "Năm mươi triệu đồng chẵn" in flat
    assert "0203456789" in flat


def test_receipt_qr_code_carries_the_verification_url(client, login_as, tmp_path):
    if shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None:
        pytest.skip("pdftoppm/zbarimg not installed")
    donation = factories.donation(amount=2_000_000)
    receipt = receipts.valid_receipt_for(donation.id)
    login_as(Role.DIRECTOR)
    (tmp_path / "r.pdf").write_bytes(client.get(f"/staff/receipts/{receipt.id}/pdf").data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "r.pdf"),
                    str(tmp_path / "r")], check=True)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "r.png")],
                             capture_output=True, text=True).stdout.strip()
    assert decoded == f"http://localhost/receipts/verify/{receipt.verification_token}"


def test_renderer_is_cached_per_settings_version(tmp_path):
    first = receipt_documents.renderer_for()
    assert receipt_documents.renderer_for() is first
    setup.update_settings({"signatory_name": "Nguyễn Thị Hoa"}, factories.SYSTEM)
    db.session.commit()
    second = receipt_documents.renderer_for()
    assert second is not first
    donation = factories.donation()
    text = pdf_text(receipt_documents.receipt_pdf(receipts.valid_receipt_for(donation.id)), tmp_path)
    assert "Nguyễn Thị Hoa" in text


def test_void_receipt_pdf_is_marked(tmp_path):
    donation = factories.donation()
    receipt = receipts.valid_receipt_for(donation.id)
    receipts.void_receipt(receipt.id, factories.SYSTEM, "Sai tên")
    text = pdf_text(receipt_documents.receipt_pdf(db.session.get(Receipt, receipt.id)), tmp_path)
    assert "ĐÃ HỦY" in text


# ----------------------------------------------------------------- staff pages

def test_staff_list_searches_by_number_donor_and_state(client, login_as):
    an = factories.donation(factories.donor("Nguyễn Văn An"))
    binh = factories.donation(factories.donor("Phạm Thị Bình"))
    void = receipts.valid_receipt_for(binh.id)
    receipts.void_receipt(void.id, factories.SYSTEM, "Nhầm")
    login_as(Role.VIEWER)

    def listed(**params):
        html = client.get("/staff/receipts", query_string=params).get_data(as_text=True)
        return [r.number for r in db.session.scalars(sa.select(Receipt)) if r.number in html]

    an_number = receipts.valid_receipt_for(an.id).number
    assert sorted(listed()) == sorted([an_number, void.number])
    assert listed(q="nguyen van an") == [an_number]
    assert listed(q=void.number) == [void.number]
    assert listed(state="void") == [void.number]
    assert listed(state="valid") == [an_number]
    assert client.get("/staff/receipts", query_string={"year": "abc"}).status_code == 200


def test_viewer_reads_but_cannot_void_or_download(client, login_as):
    receipt = receipts.valid_receipt_for(factories.donation().id)
    login_as(Role.VIEWER)
    assert client.get(f"/staff/receipts/{receipt.id}").status_code == 200
    assert client.get(f"/staff/receipts/{receipt.id}/pdf").status_code == 403
    assert client.post(f"/staff/receipts/{receipt.id}/void", data={"reason": "x"}).status_code == 403
    assert not db.session.get(Receipt, receipt.id).is_void


def test_accountant_voids_with_a_reason_and_reissues(client, login_as):
    receipt = receipts.valid_receipt_for(factories.donation().id)
    login_as(Role.ACCOUNTANT)
    empty = client.post(f"/staff/receipts/{receipt.id}/void", data={"reason": ""})
    assert empty.status_code == 422
    assert "Vui lòng nhập lý do hủy" in empty.get_data(as_text=True)
    step = client.post(f"/staff/receipts/{receipt.id}/void", data={"reason": "Sai tên đơn vị"})
    assert step.status_code == 200 and 'data-testid="confirm-step"' in step.get_data(as_text=True)
    assert receipts.valid_receipt_for(receipt.donation_id) is not None  # not yet
    response = client.post(f"/staff/receipts/{receipt.id}/void", data={"reason": "Sai tên đơn vị", "confirmed": "1"},
                           follow_redirects=True)
    assert response.status_code == 200 and "ĐÃ HỦY" in response.get_data(as_text=True)
    again = client.post(f"/staff/receipts/{receipt.id}/void", data={"reason": "lần hai"})
    assert again.status_code == 409
    response = client.post(f"/staff/receipts/{receipt.id}/reissue", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f"thay thế số {receipt.number}" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 2


def test_resend_without_email_is_a_422(client, login_as):
    receipt = receipts.valid_receipt_for(factories.donation(factories.donor(email=None)).id)
    login_as(Role.DIRECTOR)
    response = client.post(f"/staff/receipts/{receipt.id}/resend", data={})
    assert response.status_code == 422
    assert "chưa có địa chỉ email" in response.get_data(as_text=True)


def test_staff_downloads_a_donors_annual_statement(client, login_as, tmp_path):
    from datetime import datetime

    from app.timeutil import local_to_utc

    donor = factories.donor("Hoàng Thị Lan")
    factories.donation(donor, 20_000_000, received_at=local_to_utc(datetime(2024, 3, 1, 9)))
    refunded = factories.donation(donor, 5_000_000, received_at=local_to_utc(datetime(2024, 6, 2, 9)))
    donations.reverse_donation(refunded.id, factories.SYSTEM, reason="Chuyển nhầm", amount=5_000_000)
    login_as(Role.ACCOUNTANT)
    listing = client.get("/staff/receipts/statements", query_string={"year": 2024}).get_data(as_text=True)
    assert "Hoàng Thị Lan" in listing
    # (the reversal was recorded today, so 2024 nets the two gifts only)
    assert "25.000.000\u00a0₫" in listing
    response = client.get(f"/staff/receipts/statements/{donor.id}/2024.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(pdf_text(response.data, tmp_path).split())
    assert "Hoàng Thị Lan" in text and "25.000.000 ₫" in text
    assert f"Bằng chữ: {amount_in_words(25_000_000)}." in text
    assert client.get(f"/staff/receipts/statements/{donor.id}/2019.pdf").status_code == 404
    assert client.get("/staff/receipts/statements", query_string={"year": "99999"}).status_code == 422


def test_donor_download_partial_follows_a_reissue(app):
    donation = factories.donation()
    old = receipts.valid_receipt_for(donation.id)
    new = receipts.reissue_receipt(old.id, factories.SYSTEM, "Sai tên")
    with app.test_request_context():
        html = render_template("receipts/_donor_download.html", receipt=db.session.get(Receipt, old.id))
    assert f"<strong>{new.number}</strong>" in html and f"Thay thế giấy chứng nhận số {old.number}" in html
    assert receipts.receipt_by_download_token(html.split('href="/receipts/download/')[1].split('"')[0]).id == new.id


def test_a_void_receipts_download_link_says_so_and_leads_to_the_replacement(client, app):
    """Issue 12, item 13: the old link never serves the void PDF."""
    donation = factories.donation(factories.donor("Lê Minh Tuấn"), 1_500_000)
    old = receipts.valid_receipt_for(donation.id)
    with app.test_request_context():
        old_url = receipts_public_url(old)
    replacement = receipts.reissue_receipt(old.id, SYSTEM_ACTOR, "Sai tên")
    response = client.get(old_url)
    page = response.get_data(as_text=True)
    assert response.status_code == 410 and response.mimetype == "text/html"
    assert "ĐÃ HỦY" in page and old.number in page and "Sai tên" in page
    assert f"số <strong>{replacement.number}</strong>" in page
    new_url = page.split('data-testid="replacement"')[1].split('href="')[1].split('"')[0]
    assert client.get(new_url).data.startswith(b"%PDF")
    # Voided with no replacement: still the notice, not the PDF.
    receipts.void_receipt(replacement.id, SYSTEM_ACTOR, "Hoàn tiền")
    again = client.get(new_url)
    assert again.status_code == 410 and b"%PDF" not in again.data


def receipts_public_url(receipt):
    from app.blueprints.receipts_public import receipt_download_url

    return receipt_download_url(receipt)

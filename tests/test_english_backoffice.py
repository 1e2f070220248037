"""Issue 17: the back office's donations, donors and appeals in English — recording a
donation (form errors and the flash), the donor's language on the donor form, the import's
row errors (on the preview and on the report written by the background job), the donations
list with English amounts. Vietnamese pages are unchanged (the other test files say so)."""
import io

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Donation, Donor, Role
from tests import factories

HEADER = "received_at,donor_kind,donor_name,tax_code,email,phone,address,amount_vnd,channel,appeal,programme,reference,note\n"


def english(client):
    client.set_cookie("lang", "en")


def donation_form(**values):
    base = {"channel": "cash", "amount": "1.000.000", "received_on": "2024-06-01", "received_time": "08:15",
            "programme_id": str(factories.programme("heart").id), "appeal_id": ""}
    base.update(values)
    return base


def test_recording_a_donation_in_english(client, login_as):
    login_as(Role.ACCOUNTANT)
    english(client)
    donor = factories.donor("Trần Thị Thu Hà")
    page = client.get(f"/staff/donations/new?donor_id={donor.id}").get_data(as_text=True)
    assert "Record a donation" in page and "Ghi nhận khoản ủng hộ" not in page
    bad = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id, amount=""))
    assert bad.status_code == 422
    assert "Please enter the amount." in bad.get_data(as_text=True)
    in_kind = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id, channel="in_kind"))
    assert in_kind.status_code == 422 and "Please describe the gift in kind." in in_kind.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 0
    done = client.post("/staff/donations/new", data=donation_form(donor_id=donor.id), follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Donation of 1,000,000\u00a0₫ from Trần Thị Thu Hà recorded." in html
    assert "Cash" in html and "Confirmed" in html


def test_the_donors_language_is_chosen_saved_and_audited(client, login_as):
    login_as(Role.DIRECTOR)
    english(client)
    form = client.get("/staff/donors/new").get_data(as_text=True)
    assert "Language" in form and '<option selected value="">Vietnamese</option>' in form
    response = client.post("/staff/donors/new", data={"kind": "individual", "name": "John Smith", "language": "en"})
    assert response.status_code == 302
    donor = db.session.scalars(sa.select(Donor).where(Donor.name == "John Smith")).one()
    assert donor.language == "en"
    created = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "donor.create")).one()
    assert created.after["language"] == "en"
    detail = client.get(f"/staff/donors/{donor.id}").get_data(as_text=True)
    assert 'data-testid="donor-language">English<' in detail
    # Back to Vietnamese (stored as None): an audited change.
    response = client.post(f"/staff/donors/{donor.id}/edit", data={"kind": "individual", "name": "John Smith",
                                                                   "language": ""})
    assert response.status_code == 302
    db.session.refresh(donor)
    assert donor.language is None
    update = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "donor.update")).one()
    assert (update.before, update.after) == ({"language": "en"}, {"language": None})
    client.set_cookie("lang", "vi")
    detail = client.get(f"/staff/donors/{donor.id}").get_data(as_text=True)
    assert 'data-testid="donor-language">Tiếng Việt<' in detail


def test_a_donor_who_gave_online_in_vietnamese_keeps_vi_when_edited(client, login_as):
    login_as(Role.DIRECTOR)
    donor = factories.donor("Lê Văn Nam")
    donor.language = "vi"
    db.session.commit()
    response = client.post(f"/staff/donors/{donor.id}/edit", data={"kind": "individual", "name": "Lê Văn Nam"})
    assert response.status_code == 302
    db.session.refresh(donor)
    assert donor.language == "vi"  # "vi" and None are both Vietnamese: no change, nothing audited
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "donor.update")) == 0


def test_an_import_with_a_bad_row_shows_its_errors_in_english(client, login_as, tmp_path, app):
    app.config["IMPORT_FOLDER"] = str(tmp_path)
    factories.programme("heart")
    data = (HEADER + "2024-06-01,individual,Nguyễn Văn An,,,,,500000,cash,,,,\n"
            + "2024-06-02,individual,Trần Thị Bình,,,,,200000,bitcoin,khong-co-chien-dich,,,\n").encode()
    try:
        login_as(Role.ACCOUNTANT)
        # Uploaded in Vietnamese...
        page = client.post("/staff/donations/import", data={"file": (io.BytesIO(data), "sao-ke.csv")},
                           content_type="multipart/form-data").get_data(as_text=True)
        assert "Dòng 3, cột channel: phải là cash, bank_transfer, card hoặc in_kind." in page
        token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/staff/donations/import/confirm",
                               data={"token": token, "file_name": "sao-ke.csv", "skip_invalid": "y"})
        assert response.status_code == 302
        assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 1
        # ... the report the job wrote is read in English.
        english(client)
        report = client.get(f"/staff/donations/import/report/{token}").get_data(as_text=True)
        assert "Import results: sao-ke.csv" in report
        assert "Row 3, column channel: must be cash, bank_transfer, card or in_kind." in report
        assert "Row 3, column appeal: no appeal has the slug or title “khong-co-chien-dich”." in report
        assert "Rows with errors skipped: 1" in report and "Dòng" not in report
        # The preview in English too.
        page = client.post("/staff/donations/import", data={"file": (io.BytesIO(data), "sao-ke.csv")},
                           content_type="multipart/form-data").get_data(as_text=True)
        assert "Row 3, column channel: must be cash, bank_transfer, card or in_kind." in page
        assert "1 error." not in page and "2 errors." in page
    finally:
        app.config.pop("IMPORT_FOLDER")


def test_an_older_report_with_vietnamese_sentences_is_still_shown(app):
    from app.services.donations import importer

    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert importer.report_error_text("Dòng 2, cột email: Địa chỉ email không hợp lệ.") == \
            "Dòng 2, cột email: Địa chỉ email không hợp lệ."
        assert importer.report_error_text({"row": 2, "column": "email", "message": "Địa chỉ email không hợp lệ.",
                                           "params": {}}) == "Row 2, column email: Invalid email address."


def test_the_donations_list_in_english(client, login_as):
    login_as(Role.ACCOUNTANT)
    english(client)
    donor = factories.donor("Công ty TNHH Thép Đình Vũ", kind="organization")
    factories.donation(donor, amount=1_000_000, channel="bank_transfer")
    page = client.get("/staff/donations").get_data(as_text=True)
    assert "Donations" in page and "Khoản ủng hộ" not in page
    assert "1,000,000\u00a0₫" in page and "1.000.000" not in page
    assert "Bank transfer" in page and "Net received (after reversals/refunds)" in page
    bad_filter = client.get("/staff/donations?date_from=2024-13-45").get_data(as_text=True)
    assert "From: invalid date (format YYYY-MM-DD, 1900–2199)." in bad_filter


def test_the_download_stays_vietnamese_for_an_english_reader(client, login_as):
    login_as(Role.ACCOUNTANT)
    english(client)
    donor = factories.donor("Nguyễn Văn An")
    factories.donation(donor, amount=1_000_000, channel="cash")
    body = client.get("/staff/donations/export.csv").get_data(as_text=True)
    assert "Thời điểm nhận" in body and "Tiền mặt" in body and "Cá nhân" in body and "Đã xác nhận" in body
    assert "Cash" not in body


def test_merging_in_english_keeps_the_notes_it_writes_vietnamese(client, login_as):
    login_as(Role.DIRECTOR)
    english(client)
    keep = factories.donor("Nguyễn Văn An", phone="0912345678")
    other = factories.donor("Nguyễn Văn An", phone="0987654321")
    page = client.get(f"/staff/donors/{keep.id}/merge?other_id={other.id}").get_data(as_text=True)
    assert "Record kept" in page and "Phone" in page
    response = client.post(f"/staff/donors/{keep.id}/merge", data={"other_id": other.id, "confirm": "y"},
                           follow_redirects=True)
    assert f"Record #{other.id} (Nguyễn Văn An) was merged into this one." in response.get_data(as_text=True)
    db.session.refresh(keep)
    assert keep.notes == f"Từ hồ sơ #{other.id} đã gộp — Điện thoại: 0987654321"
    merged = client.get(f"/staff/donors/{other.id}").get_data(as_text=True)
    assert f'This record was merged into <a href="/staff/donors/{keep.id}">record #{keep.id}</a>.' in merged


def test_appeals_in_english(client, login_as):
    login_as(Role.DIRECTOR)
    english(client)
    response = client.post("/staff/appeals/new", data={"title": "Tết 2027", "slug": "tet-2027"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Appeal “Tết 2027” created (draft). Open it when it is ready." in html and "Draft" in html
    listing = client.get("/staff/appeals").get_data(as_text=True)
    assert "+ Create an appeal" in listing and "0 donors" in listing

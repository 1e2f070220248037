"""Donor pages: search without diacritics, validation, duplicate suggestions, detail
totals per Vietnam year with the commendation threshold, and merging through the UI."""
from datetime import datetime

import sqlalchemy as sa
from flask import g

from app.extensions import db
from app.models import AuditEntry, Donation, Donor, Role
from app.timeutil import local_to_utc
from tests import factories


def test_unaccented_case_insensitive_search_and_kind_filter(client, login_as):
    login_as(Role.VIEWER)
    factories.donor("Nguyễn Văn An", phone="0912345678")
    factories.donor("Trần Thị Bình", email="binh@example.com")
    factories.organization("Công ty TNHH Thép Đình Vũ", tax_code="0201234567")
    page = client.get("/staff/donors?q=nguyen+VAN+an").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "Trần Thị Bình" not in page
    assert "Thép Đình Vũ" in client.get("/staff/donors?q=thep+dinh+vu").get_data(as_text=True)
    assert "Trần Thị Bình" in client.get("/staff/donors?q=BINH@EXAMPLE").get_data(as_text=True)
    by_phone = client.get("/staff/donors?q=%2B84+912+345+678").get_data(as_text=True)
    assert "Nguyễn Văn An" in by_phone and "Trần Thị Bình" not in by_phone
    assert "Thép Đình Vũ" in client.get("/staff/donors?q=0201234567").get_data(as_text=True)
    orgs = client.get("/staff/donors?kind=organization").get_data(as_text=True)
    assert "Thép Đình Vũ" in orgs and "Nguyễn Văn An" not in orgs
    # LIKE wildcards typed by a user are literal.
    assert "Không tìm thấy nhà hảo tâm nào" in client.get("/staff/donors?q=%25").get_data(as_text=True)


def test_list_shows_net_yearly_totals_and_paginates(client, login_as):
    login_as(Role.ACCOUNTANT)
    an = factories.donor("Nguyễn Văn An")
    gift = factories.donation(an, 3_000_000, received_at=local_to_utc(datetime(2024, 3, 1, 9, 0)))
    factories.donation(an, 1_000_000, received_at=local_to_utc(datetime(2023, 12, 31, 23, 30)))
    from app.services.donations.ledger import reverse_donation
    reverse_donation(gift.id, factories.SYSTEM, reason="Hoàn một phần", amount=500_000)
    page = client.get("/staff/donors?year=2024").get_data(as_text=True)
    assert "3.000.000\u00a0₫" in page and "1.000.000\u00a0₫" in page  # 2024, and 2023 (23:30 local on 31/12)
    # The refund is dated when it was recorded (this year) and counts there, negatively.
    assert "-500.000\u00a0₫" in client.get("/staff/donors").get_data(as_text=True)
    for n in range(30):
        db.session.add(Donor(kind="individual", name=f"Người thứ {n:02d}"))
    db.session.commit()
    first = client.get("/staff/donors").get_data(as_text=True)
    assert "trong 31 dòng" in first and "page=2" in first


def test_create_validates_in_vietnamese(client, login_as):
    login_as(Role.ACCOUNTANT)
    response = client.post("/staff/donors/new", data={"kind": "organization", "name": "Công ty A",
                                                      "tax_code": "12345", "email": "not-an-email",
                                                      "phone": "0123456789"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Mã số thuế gồm 10 chữ số" in page and "Địa chỉ email không hợp lệ" in page
    assert "di động gồm 10 chữ số" in page
    assert db.session.scalar(sa.select(sa.func.count(Donor.id))) == 0


def test_create_normalises_and_audits(client, login_as):
    login_as(Role.ACCOUNTANT)
    response = client.post("/staff/donors/new", data={"kind": "individual", "name": "  Lê  Minh Tuấn ",
                                                      "phone": "+84 912 345 678", "email": "Tuan@Example.COM"})
    assert response.status_code == 302
    donor = db.session.scalars(sa.select(Donor)).one()
    assert (donor.name, donor.phone, donor.email) == ("Lê Minh Tuấn", "0912345678", "tuan@example.com")
    assert db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "donors")).all() == ["donor.create"]


def test_duplicates_are_suggested_and_name_alone_only_suggests(client, login_as):
    login_as(Role.ACCOUNTANT)
    org = factories.organization("Công ty TNHH Thép Hải Phòng", tax_code="0201234567")
    person = factories.donor("Nguyễn Văn An", phone="0912345678")
    # Same normalised organization name: suggested, nothing written until confirmed.
    response = client.post("/staff/donors/new", data={"kind": "organization", "name": "CTY TNHH THÉP HẢI PHÒNG"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and f"#{org.id}" in page and "Cùng tên" in page
    # Same phone: a strong match.
    page = client.post("/staff/donors/new", data={"kind": "individual", "name": "Nguyen Van A",
                                                  "phone": "0912 345 678"}).get_data(as_text=True)
    assert f"#{person.id}" in page and "Cùng số điện thoại" in page
    assert db.session.scalar(sa.select(sa.func.count(Donor.id))) == 2
    # Another "Nguyễn Văn An" is a different person once the user confirms: a new record.
    response = client.post("/staff/donors/new", data={"kind": "individual", "name": "Nguyễn Văn An",
                                                      "confirm_new": "y"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Donor.id)).where(Donor.name == "Nguyễn Văn An")) == 2
    # Same MST for a second live organization is refused outright.
    response = client.post("/staff/donors/new", data={"kind": "organization", "name": "Khác hẳn",
                                                      "tax_code": "0201234567", "confirm_new": "y"})
    assert response.status_code == 409 and "đã thuộc về" in response.get_data(as_text=True)


def test_detail_shows_totals_per_vietnam_year_and_threshold(client, login_as):
    login_as(Role.VIEWER)
    org = factories.organization("Công ty Cổ phần Xi măng Tràng Kênh")
    factories.donation(org, 30_000_000, received_at=local_to_utc(datetime(2023, 6, 1, 9)))
    factories.donation(org, 20_000_000, received_at=local_to_utc(datetime(2023, 12, 31, 23, 30)))
    factories.donation(org, 10_000_000, received_at=local_to_utc(datetime(2024, 1, 1, 0, 30)))
    page = client.get(f"/staff/donors/{org.id}").get_data(as_text=True)
    table = page[page.index('data-testid="year-totals"'):page.index("</table>", page.index('data-testid="year-totals"'))]
    assert "2023" in table and "50.000.000\u00a0₫" in table and "Đạt ngưỡng" in table
    row_2024 = table[table.index("2024"):table.index("</tr>", table.index("2024"))]
    assert "10.000.000\u00a0₫" in row_2024 and "Chưa đạt" in row_2024
    assert "BTTE-" in page  # receipts listed
    assert client.get("/staff/donors/999999").status_code == 404


def test_edit_keeps_validation_and_audits_changes(client, login_as):
    login_as(Role.DIRECTOR)
    donor = factories.donor("Hoàng Thị Lan")
    response = client.post(f"/staff/donors/{donor.id}/edit", data={"kind": "individual", "name": "Hoàng Thị Lan",
                                                                   "phone": "0225 3800 000"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).phone == "02253800000"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "donor.update")).one()
    assert entry.after == {"phone": "02253800000"}
    assert client.post(f"/staff/donors/{donor.id}/edit", data={"kind": "individual", "name": ""}).status_code == 422


def test_merge_through_the_ui_with_confirmation_and_totals_follow(client, login_as):
    login_as(Role.ACCOUNTANT)
    survivor = factories.donor("Phạm Quang Vinh", phone="0987654321")
    duplicate = factories.donor("Pham Quang Vinh", email="vinh@example.com")
    factories.donation(survivor, 30_000_000, received_at=local_to_utc(datetime(2023, 5, 1, 10)))
    factories.donation(duplicate, 25_000_000, received_at=local_to_utc(datetime(2023, 8, 1, 10)))
    preview = client.get(f"/staff/donors/{survivor.id}/merge?other_id={duplicate.id}").get_data(as_text=True)
    assert "25.000.000\u00a0₫" in preview and "Hồ sơ sẽ được gộp" in preview
    unconfirmed = client.post(f"/staff/donors/{survivor.id}/merge", data={"other_id": duplicate.id})
    assert unconfirmed.status_code == 422 and "Vui lòng xác nhận" in unconfirmed.get_data(as_text=True)
    assert db.session.get(Donor, duplicate.id).merged_into_id is None
    response = client.post(f"/staff/donors/{survivor.id}/merge", data={"other_id": duplicate.id, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Donor, duplicate.id).merged_into_id == survivor.id
    page = client.get(f"/staff/donors/{survivor.id}").get_data(as_text=True)
    assert "55.000.000\u00a0₫" in page and "Đạt ngưỡng" in page and "vinh@example.com" in page
    listing = client.get("/staff/donors?year=2024&q=vinh").get_data(as_text=True)
    assert "55.000.000\u00a0₫" in listing and f"/staff/donors/{duplicate.id}\"" not in listing  # merged record hidden
    assert db.session.scalar(sa.select(sa.func.count(Donation.id)).where(Donation.donor_id == duplicate.id)) == 0
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "donor.merge")) is not None


def test_merge_refuses_mixed_kinds_in_the_ui(client, login_as):
    login_as(Role.ACCOUNTANT)
    person = factories.donor("A")
    org = factories.organization("Công ty A")
    response = client.post(f"/staff/donors/{person.id}/merge", data={"other_id": org.id, "confirm": "y"})
    assert response.status_code == 409 and "Không thể gộp tập thể với cá nhân" in response.get_data(as_text=True)


def test_lookup_json_and_roles(client, login_as):
    login_as(Role.ACCOUNTANT)
    factories.donor("Đặng Thị Hồng Nhung", phone="0901234567")
    data = client.get("/staff/donors/lookup?q=dang+thi+hong").get_json()
    assert [d["name"] for d in data] == ["Đặng Thị Hồng Nhung"]


def test_case_workers_do_not_see_donors_and_viewers_do_not_edit(app, login_as):
    for role, url in ((Role.CASE_WORKER, "/staff/donors"), (Role.CASE_WORKER, "/staff/donors/lookup?q=a"),
                      (Role.VIEWER, "/staff/donors/new")):
        g.pop("_login_user", None)  # the tests' app context outlives requests; forget the cached user
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = factories.user(role.value).get_id()
        assert client.get(url).status_code == 403, (role, url)


def test_merge_page_offers_a_choice_for_differing_values(client, login_as):
    login_as(Role.ACCOUNTANT)
    survivor = factories.donor("Nguyễn Văn An", phone="0912345678")
    other = factories.donor("Nguyen Van An", phone="0987654321")
    page = client.get(f"/staff/donors/{survivor.id}/merge?other_id={other.id}").get_data(as_text=True)
    assert 'name="keep_phone" value="merged"' in page
    client.post(f"/staff/donors/{survivor.id}/merge",
                data={"other_id": other.id, "confirm": "y", "keep_phone": "merged"})
    db.session.expire_all()
    assert db.session.get(Donor, survivor.id).phone == "0987654321"

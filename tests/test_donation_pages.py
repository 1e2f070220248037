"""Offline donations: recording (local time, inline donor, in kind), reversal/refund through
the UI, filters with net totals, CSV/XLSX downloads and who may see what."""
import csv
import io
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from flask import g
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditEntry, Donation, Donor, Receipt, Role
from app.services.donations.ledger import reverse_donation
from app.timeutil import local_to_utc
from tests import factories


def as_role(app, role):
    g.pop("_login_user", None)  # the tests' app context outlives requests; forget the cached user
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = factories.user(role.value).get_id()
    return client


def form(**values):
    base = {"channel": "cash", "amount": "5.000.000", "received_on": "2024-06-01", "received_time": "08:15",
            "programme_id": str(factories.programme("heart").id), "appeal_id": ""}
    base.update(values)
    return base


def test_record_cash_donation_for_a_picked_donor_in_local_time(client, login_as):
    login_as(Role.ACCOUNTANT)
    donor = factories.donor("Trần Thị Thu Hà")
    page = client.get(f"/staff/donations/new?donor_id={donor.id}").get_data(as_text=True)
    assert "Trần Thị Thu Hà" in page
    response = client.post("/staff/donations/new", data=form(donor_id=donor.id, reference="PT-0001", note="Phiếu thu 1"))
    assert response.status_code == 302
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.received_at == datetime(2024, 6, 1, 1, 15, tzinfo=timezone.utc)  # 08:15 in Hà Nội
    assert (donation.amount, donation.channel, donation.status, donation.reference) == (5_000_000, "cash", "confirmed", "PT-0001")
    assert db.session.scalar(sa.select(Receipt.number).where(Receipt.donation_id == donation.id)).startswith("BTTE-")
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "01/06/2024 08:15" in detail and "5.000.000\u00a0₫" in detail


def test_record_with_an_inline_new_donor_in_one_transaction(client, login_as):
    login_as(Role.DIRECTOR)
    bad = client.post("/staff/donations/new", data=form(new_kind="organization", new_name="Công ty TNHH Bao bì Hải An",
                                                        new_tax_code="0209998887", amount="0"))
    assert bad.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Donor.id))) == 0  # nothing half-written
    response = client.post("/staff/donations/new", data=form(new_kind="organization", new_name="Công ty TNHH Bao bì Hải An",
                                                             new_tax_code="0209998887", new_phone="+84 225 3812345"))
    assert response.status_code == 302
    donor = db.session.scalars(sa.select(Donor)).one()
    assert (donor.tax_code, donor.phone) == ("0209998887", "02253812345")
    assert db.session.scalar(sa.select(Donation.donor_id)) == donor.id


def test_inline_donor_matching_an_existing_one_is_suggested_first(client, login_as):
    login_as(Role.ACCOUNTANT)
    existing = factories.donor("Lê Minh Tuấn", phone="0912345678")
    response = client.post("/staff/donations/new", data=form(new_kind="individual", new_name="Le Minh Tuan",
                                                             new_phone="0912.345.678"))
    assert response.status_code == 409 and f"#{existing.id}" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 0
    # "Dùng hồ sơ này" posts donor_id.
    assert client.post("/staff/donations/new", data=form(donor_id=existing.id)).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Donor.id))) == 1


def test_in_kind_needs_a_description_and_future_dates_are_refused(client, login_as):
    login_as(Role.ACCOUNTANT)
    donor = factories.donor()
    response = client.post("/staff/donations/new", data=form(donor_id=donor.id, channel="in_kind"))
    assert response.status_code == 422 and "Vui lòng mô tả hiện vật" in response.get_data(as_text=True)
    response = client.post("/staff/donations/new", data=form(donor_id=donor.id, received_on="2099-01-01"))
    assert response.status_code == 422 and "tương lai" in response.get_data(as_text=True)
    ok = client.post("/staff/donations/new", data=form(donor_id=donor.id, channel="in_kind", amount="30.000.000",
                                                       in_kind_description="20 xe lăn"))
    assert ok.status_code == 302
    assert db.session.scalar(sa.select(Donation.in_kind_description)) == "20 xe lăn"
    response = client.post("/staff/donations/new", data=form(donor_id=donor.id, amount="1,5"))
    assert response.status_code == 422


def test_reversal_through_the_ui_keeps_both_rows_and_nets_to_zero(client, login_as):
    login_as(Role.ACCOUNTANT)
    donor = factories.donor("Hoàng Thị Lan")
    gift = factories.donation(donor, 2_000_000)
    no_reason = client.post(f"/staff/donations/{gift.id}/reverse", data={"kind": "correction", "reason": ""})
    assert no_reason.status_code == 422 and "Vui lòng nhập lý do" in no_reason.get_data(as_text=True)
    response = client.post(f"/staff/donations/{gift.id}/reverse", data={"kind": "correction", "reason": "Nhập nhầm người"})
    assert response.status_code == 302
    rows = db.session.execute(sa.select(Donation.amount, Donation.reverses_id, Donation.status, Donation.reason)
                              .order_by(Donation.id)).all()
    assert rows == [(2_000_000, None, "reversed", None), (2_000_000, gift.id, "confirmed", "Đảo bút toán: Nhập nhầm người")]
    listing = client.get("/staff/donations").get_data(as_text=True)
    totals = listing[listing.index('data-testid="net-total"'):]
    assert totals.split("<", 1)[0].endswith("0\u00a0₫") and "-2.000.000\u00a0₫" in listing
    detail = client.get(f"/staff/donations/{gift.id}").get_data(as_text=True)
    assert "Đã đảo bút toán" in detail and "Nhập nhầm người" in detail and "Đã hủy" in detail  # receipt voided
    again = client.post(f"/staff/donations/{gift.id}/reverse", data={"kind": "correction", "reason": "lần nữa"})
    assert again.status_code == 422 and "đã được đảo toàn bộ" in again.get_data(as_text=True)


def test_partial_refund_shows_net_in_list_and_summary(client, login_as):
    login_as(Role.ACCOUNTANT)
    gift = factories.donation(factories.donor(), 1_000_000)
    client.post(f"/staff/donations/{gift.id}/reverse", data={"kind": "refund", "amount": "400.000", "reason": "Nhà hảo tâm xin lại"})
    listing = client.get("/staff/donations").get_data(as_text=True)
    assert ">600.000\u00a0₫<" in listing.replace('data-testid="net-total">', ">")
    assert "600.000\u00a0₫" in client.get("/staff/donations/summary").get_data(as_text=True)
    assert db.session.scalar(sa.select(Donation.reason).where(Donation.reverses_id == gift.id)).startswith("Hoàn tiền:")


@pytest.fixture
def sample():
    an = factories.donor("Nguyễn Văn An")
    org = factories.organization("Công ty TNHH Thép Đình Vũ", tax_code="0201234567")
    appeal = factories.appeal("thang-6", title="Tháng hành động 2024")
    gifts = [
        factories.donation(an, 500_000, received_at=local_to_utc(datetime(2024, 5, 31, 23, 0)), channel="cash"),
        factories.donation(org, 50_000_000, received_at=local_to_utc(datetime(2024, 6, 1, 0, 30)), appeal_id=appeal.id,
                           programme_code="heart", reference="UNC-777"),
        factories.donation(org, 7_000_000, received_at=local_to_utc(datetime(2024, 6, 30, 23, 59))),
        factories.donation(an, 9_000_000, received_at=local_to_utc(datetime(2024, 7, 1, 0, 0))),
    ]
    reverse_donation(gifts[2].id, factories.SYSTEM, reason="Chuyển nhầm", amount=2_000_000)
    factories.donation(an, 300_000, confirm=False)  # pending: listed, never counted
    return dict(an=an, org=org, appeal=appeal, gifts=gifts)


def net_on(page: str) -> str:
    start = page.index('data-testid="net-total">') + len('data-testid="net-total">')
    return page[start:page.index("<", start)]


def test_filters_and_net_totals_of_the_filtered_set(client, login_as, sample):
    login_as(Role.VIEWER)
    june = client.get("/staff/donations?date_from=2024-06-01&date_to=2024-06-30").get_data(as_text=True)
    assert net_on(june) == "57.000.000\u00a0₫"  # local-date cut: 31/5 23:00 and 1/7 00:00 are out
    assert "Nguyễn Văn An" not in june
    assert net_on(client.get("/staff/donations").get_data(as_text=True)) == "64.500.000\u00a0₫"
    assert net_on(client.get(f"/staff/donations?appeal_id={sample['appeal'].id}").get_data(as_text=True)) == "50.000.000\u00a0₫"
    heart = factories.programme("heart").id
    assert net_on(client.get(f"/staff/donations?programme_id={heart}").get_data(as_text=True)) == "50.000.000\u00a0₫"
    assert net_on(client.get("/staff/donations?channel=cash").get_data(as_text=True)) == "500.000\u00a0₫"
    assert net_on(client.get("/staff/donations?amount_min=1.000.000&amount_max=10.000.000").get_data(as_text=True)) == "14.000.000\u00a0₫"
    assert net_on(client.get("/staff/donations?status=reversal").get_data(as_text=True)) == "-2.000.000\u00a0₫"
    pending = client.get("/staff/donations?status=pending").get_data(as_text=True)
    assert net_on(pending) == "0\u00a0₫" and "300.000\u00a0₫" in pending and "Chờ xác nhận" in pending
    assert net_on(client.get("/staff/donations?q=thep+dinh+vu").get_data(as_text=True)) == "55.000.000\u00a0₫"
    assert net_on(client.get("/staff/donations?q=UNC-777").get_data(as_text=True)) == "50.000.000\u00a0₫"
    bad = client.get("/staff/donations?date_from=31/12/2024&amount_min=abc")
    assert bad.status_code == 200 and "ngày không hợp lệ" in bad.get_data(as_text=True)


def test_csv_download_of_the_filtered_set(client, login_as, sample):
    login_as(Role.ACCOUNTANT)
    response = client.get("/staff/donations/export.csv?q=thep+dinh+vu")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Mã", "Thời điểm nhận", "Nhà hảo tâm"]
    amounts = [int(r[6]) for r in rows[1:]]
    assert sorted(amounts) == [-2_000_000, 7_000_000, 50_000_000] and sum(amounts) == 55_000_000
    first = rows[1]
    assert first[1] == "01/06/2024 00:30" and first[2] == "Công ty TNHH Thép Đình Vũ" and first[4] == "0201234567"
    assert first[9] == "Tháng hành động 2024" and first[11] == "UNC-777" and first[12].startswith("BTTE-")
    reversal = next(r for r in rows[1:] if int(r[6]) < 0)
    assert reversal[7] == "Bút toán đảo" and "Chuyển nhầm" in reversal[14]


def test_xlsx_download_has_numeric_amounts_and_the_net_total(client, login_as, sample):
    login_as(Role.DIRECTOR)
    response = client.get("/staff/donations/export.xlsx?date_from=2024-06-01&date_to=2024-06-30")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "Nhà hảo tâm" and rows[0][6] == "Số tiền (VNĐ)"
    data = rows[1:-2]
    assert all(isinstance(r[6], int) for r in data) and sum(r[6] for r in data) == 57_000_000
    assert rows[-2][0] == "Tổng cộng các dòng trên" and rows[-2][6] == 57_000_000
    assert rows[-1][0].startswith("Trong đó thực thu") and rows[-1][6] == 57_000_000
    assert sheet.cell(row=2, column=7).number_format == "#,##0"


def test_case_workers_see_totals_only(app, sample):
    worker = as_role(app, Role.CASE_WORKER)
    for url in ("/staff/donations", "/staff/donations/export.csv", "/staff/donations/export.xlsx",
                f"/staff/donations/{sample['gifts'][0].id}", "/staff/donations/new", f"/staff/donors/{sample['an'].id}"):
        assert worker.get(url).status_code == 403, url
    summary = worker.get("/staff/donations/summary?year=2024")
    page = summary.get_data(as_text=True)
    assert summary.status_code == 200 and net_on(page) == "66.500.000\u00a0₫"  # the refund is dated this year
    assert "Nguyễn Văn An" not in page and "Thép Đình Vũ" not in page
    appeal = worker.get(f"/staff/appeals/{sample['appeal'].id}").get_data(as_text=True)
    assert "50.000.000\u00a0₫" in appeal and "Thép Đình Vũ" not in appeal


def test_viewers_read_but_do_not_record_or_reverse(app, sample):
    viewer = as_role(app, Role.VIEWER)
    assert viewer.get("/staff/donations").status_code == 200
    assert viewer.get("/staff/donations/new").status_code == 403
    assert viewer.post(f"/staff/donations/{sample['gifts'][0].id}/reverse", data={"reason": "x"}).status_code == 403
    assert "Ghi bút toán đảo" not in viewer.get(f"/staff/donations/{sample['gifts'][0].id}").get_data(as_text=True)


def test_recording_is_audited(client, login_as):
    user = login_as(Role.ACCOUNTANT)
    donor = factories.donor()
    client.post("/staff/donations/new", data=form(donor_id=donor.id))
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.actor_id == user.id)).all()
    assert {"donation.record", "donation.confirm", "receipt.issue"} <= set(actions)

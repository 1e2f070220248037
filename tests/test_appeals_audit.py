"""Appeals (goal, dates, open/close, net progress) and the audit-log page."""
from datetime import datetime

import sqlalchemy as sa

from flask import g

from app.extensions import db
from app.models import Appeal, AuditEntry, Role
from app.services.donations.ledger import reverse_donation
from app.timeutil import local_to_utc
from tests import factories


def test_create_edit_open_close_appeal_with_audit(client, login_as):
    login_as(Role.DIRECTOR)
    bad = client.post("/staff/appeals/new", data={"title": "Tết 2027", "goal_amount": "0", "starts_on": "2027-02-01",
                                                  "ends_on": "2027-01-01"})
    assert bad.status_code == 422 and "Số tiền phải lớn hơn 0" in bad.get_data(as_text=True)
    response = client.post("/staff/appeals/new", data={"title": "Tết yêu thương 2027", "goal_amount": "500.000.000",
                                                       "starts_on": "2026-11-01", "ends_on": "2027-02-10",
                                                       "story": "Quà Tết cho trẻ em.", "is_public": "y"})
    assert response.status_code == 302
    appeal = db.session.scalars(sa.select(Appeal)).one()
    assert (appeal.slug, appeal.goal_amount, appeal.status, appeal.is_public) == ("tet-yeu-thuong-2027", 500_000_000, "draft", True)
    wrong_dates = client.post(f"/staff/appeals/{appeal.id}/edit", data={"title": "X", "starts_on": "2027-02-01", "ends_on": "2027-01-01"})
    assert wrong_dates.status_code == 422 and "Ngày kết thúc phải sau ngày bắt đầu" in wrong_dates.get_data(as_text=True)
    assert client.post(f"/staff/appeals/{appeal.id}/status", data={"status": "open"}).status_code == 302
    assert client.post(f"/staff/appeals/{appeal.id}/status", data={"status": "closed"}).status_code == 302
    assert client.post(f"/staff/appeals/{appeal.id}/status", data={"status": "closed"}).status_code == 409
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "appeals")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["appeal.create", "appeal.open", "appeal.close"]


def test_progress_is_net_with_donor_count(client, login_as):
    login_as(Role.CASE_WORKER)
    appeal = factories.appeal("trai-tim", title="Trái tim cho em", goal_amount=10_000_000, status="open")
    a, b = factories.donor("A"), factories.donor("B")
    factories.donation(a, 3_000_000, appeal_id=appeal.id)
    gift = factories.donation(b, 2_000_000, appeal_id=appeal.id)
    factories.donation(factories.donor("C"), 9_000_000)  # another appeal's money
    reverse_donation(gift.id, factories.SYSTEM, reason="Nhầm chiến dịch")
    page = client.get("/staff/appeals").get_data(as_text=True)
    assert "3.000.000\u00a0₫" in page and "10.000.000\u00a0₫" in page and "1 nhà hảo tâm" in page and "30%" in page


def test_audit_log_is_for_director_and_admin_with_filters(app, client, login_as):
    worker = app.test_client()
    with worker.session_transaction() as session:
        session["_user_id"] = factories.user(Role.ACCOUNTANT.value).get_id()
    assert worker.get("/staff/audit").status_code == 403
    g.pop("_login_user", None)  # the tests' app context outlives requests; forget the cached user
    login_as(Role.DIRECTOR)
    donor = factories.donor("Nguyễn Văn An")
    factories.donation(donor, 1_000_000)
    db.session.add(AuditEntry(actor_label="ketoan@example.org", action="donor.update", entity_type="donors",
                              entity_id=str(donor.id), created_at=local_to_utc(datetime(2024, 1, 2, 9)),
                              after={"phone": "0912345678"}))
    db.session.commit()
    response = client.get("/staff/audit")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-3000:]
    assert 'data-action="donation.confirm"' in page and 'data-action="receipt.issue"' in page and 'data-action="donor.update"' in page
    by_actor = client.get("/staff/audit?actor=ketoan").get_data(as_text=True)
    assert 'data-action="donor.update"' in by_actor and 'data-action="receipt.issue"' not in by_actor
    by_entity = client.get("/staff/audit?entity=receipts").get_data(as_text=True)
    assert 'data-action="receipt.issue"' in by_entity and 'data-action="donor.update"' not in by_entity
    by_date = client.get("/staff/audit?date_from=2024-01-02&date_to=2024-01-02").get_data(as_text=True)
    assert 'data-action="donor.update"' in by_date and 'data-action="receipt.issue"' not in by_date


def test_every_back_office_page_renders_with_the_demo_data(client, login_as):
    from app.models import Donation, Donor
    from app.demo.donations import seed_demo

    seed_demo()
    login_as(Role.ADMIN)
    donor_id = db.session.scalar(sa.select(Donor.id).order_by(Donor.id))
    reversed_id = db.session.scalar(sa.select(Donation.reverses_id).where(Donation.reverses_id.is_not(None)))
    appeal_id = db.session.scalar(sa.select(Appeal.id).order_by(Appeal.id))
    for url in ("/staff/donors", "/staff/donors?year=2023&sort=total", "/staff/donors?q=cong+ty&kind=organization&page=2",
                f"/staff/donors/{donor_id}", f"/staff/donors/{donor_id}/edit", f"/staff/donors/{donor_id}/merge",
                "/staff/donations", "/staff/donations?status=reversed&page=3", f"/staff/donations/{reversed_id}",
                "/staff/donations/new", "/staff/donations/summary?year=2023", "/staff/donations/import",
                "/staff/appeals", f"/staff/appeals/{appeal_id}", f"/staff/appeals/{appeal_id}/edit", "/staff/appeals/new",
                "/staff/audit", "/staff/audit?page=2", "/staff/donations/export.xlsx", "/staff/donations/export.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
    # The 2023 commendation leaders carry the star on the list sorted by total.
    assert "Đạt ngưỡng đề nghị khen thưởng" in client.get("/staff/donors?year=2023&sort=total").get_data(as_text=True)

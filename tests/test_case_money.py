"""Restricted funds: programme balances, case earmarks, approved support, reversals, races."""
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.errors import Conflict, PermissionDenied
from app.extensions import db
from app.models import Disbursement, Role
from app.services.cases import disbursements as money
from app.services.donations.ledger import reverse_donation
from tests import factories
from tests.case_helpers import fund, make_case, pay, staff


def test_balance_is_confirmed_donations_minus_approved_disbursements():
    heart = factories.programme("heart")
    fund("heart", 100_000_000)
    factories.donation(amount=7_000_000, programme_code="heart", confirm=False)  # pending: not counted
    case = make_case("approved", approved=60_000_000)
    pay(case, 30_000_000)
    pay(case, 10_000_000, approve=False)  # recorded, not yet counted
    assert money.programme_balance(heart.id) == 70_000_000
    rows = {b.programme.code: b for b in money.programme_balances()}
    assert (rows["heart"].received, rows["heart"].spent, rows["heart"].pending) == (100_000_000, 30_000_000, 10_000_000)
    assert rows["cleft"].balance == 0


def test_refused_beyond_the_programme_balance_with_a_message():
    fund("cleft", 5_000_000)
    fund("heart", 50_000_000)  # another programme's money is not available
    case = make_case("approved", programme_code="cleft", approved=20_000_000)
    with pytest.raises(Conflict, match="Vượt số dư khả dụng của chương trình"):
        pay(case, 6_000_000)


def test_refused_beyond_approved_support_including_pending():
    fund("heart", 100_000_000)
    case = make_case("approved", approved=20_000_000)
    pay(case, 15_000_000)
    with pytest.raises(Conflict, match="Vượt mức hỗ trợ đã duyệt"):
        pay(case, 6_000_000)
    db.session.rollback()
    pay(case, 3_000_000, approve=False)
    with pytest.raises(Conflict, match="còn được chi 2.000.000"):
        pay(case, 3_000_000, approve=False)


def test_money_designated_to_a_case_is_reserved_for_that_case():
    fund("heart", 10_000_000)  # the programme's free money
    child_a = make_case("approved", approved=50_000_000)
    child_b = make_case("approved", approved=50_000_000)
    fund("heart", 30_000_000, case=child_a)
    assert money.available_for(factories.programme("heart").id, child_b.id) == 10_000_000
    assert money.available_for(factories.programme("heart").id, child_a.id) == 40_000_000
    with pytest.raises(Conflict, match="chỉ định cho hồ sơ khác"):
        pay(child_b, 12_000_000)
    db.session.rollback()
    pay(child_a, 35_000_000)  # its own 30M plus 5M of the free money
    assert money.available_for(factories.programme("heart").id, child_b.id) == 5_000_000
    rows = {b.programme.code: b for b in money.programme_balances()}
    assert rows["heart"].earmarked == 0 and rows["heart"].balance == 5_000_000


def test_designation_follows_the_case_programme_and_reversal_keeps_it():
    case = make_case("approved", programme_code="motor")
    gift = fund(None, 8_000_000, case=case)
    assert gift.programme_id == factories.programme("motor").id and gift.case_id == case.id
    assert money.case_designated(case.id) == 8_000_000
    reverse_donation(gift.id, factories.SYSTEM, reason="Chuyển nhầm")
    assert money.case_designated(case.id) == 0


def test_a_case_may_top_up_from_the_general_fund_only():
    fund("general", 20_000_000)
    case = make_case("approved", programme_code="heart", approved=10_000_000)
    row = pay(case, 10_000_000, programme_id=factories.programme("general").id)
    assert row.programme_id == factories.programme("general").id
    other = make_case("approved", programme_code="heart", approved=10_000_000)
    fund("cleft", 20_000_000)
    with pytest.raises(Exception, match="Quỹ chung"):
        pay(other, 1_000_000, programme_id=factories.programme("cleft").id)


def test_only_a_director_approves_and_approval_moves_the_case_to_disbursing():
    fund("heart", 50_000_000)
    case = make_case("approved")
    row = pay(case, 10_000_000, approve=False)
    for role in (Role.ACCOUNTANT, Role.CASE_WORKER, Role.VIEWER):
        actor, role_value = staff(role)
        with pytest.raises(PermissionDenied):
            money.approve_disbursement(row.id, actor, role_value)
    director, role = staff(Role.DIRECTOR)
    money.approve_disbursement(row.id, director, role)
    db.session.expire_all()
    assert db.session.get(Disbursement, row.id).status == "approved"
    assert db.session.get(type(case), case.id).state == "disbursing"
    with pytest.raises(Conflict, match="không còn ở trạng thái chờ duyệt"):
        money.approve_disbursement(row.id, director, role)


def test_reversal_is_a_new_row_with_a_reason_and_restores_the_balance():
    fund("heart", 50_000_000)
    case = make_case("approved")
    row = pay(case, 20_000_000)
    director, role = staff(Role.DIRECTOR)
    with pytest.raises(Exception, match="lý do"):
        money.reverse_disbursement(row.id, director, role, reason="")
    db.session.rollback()
    reversal = money.reverse_disbursement(row.id, director, role, reason="Bệnh viện hoàn trả")
    db.session.expire_all()
    original = db.session.get(Disbursement, row.id)
    assert (original.status, original.amount) == ("reversed", 20_000_000)
    assert reversal.reverses_id == row.id and reversal.reason == "Bệnh viện hoàn trả"
    assert money.programme_balance(factories.programme("heart").id) == 50_000_000
    assert money.case_spent(case.id) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Disbursement)) == 2
    with pytest.raises(Conflict):
        money.reverse_disbursement(row.id, director, role, reason="lần hai")


def test_recording_needs_an_approved_case():
    fund("heart", 50_000_000)
    case = make_case("proposed")
    with pytest.raises(Conflict, match="chỉ ghi khoản chi"):
        pay(case, 1_000_000, approve=False)


def test_closing_waits_for_pending_disbursements():
    fund("heart", 50_000_000)
    case = make_case("disbursing")
    pay(case, 1_000_000, approve=False)
    worker, role = staff(Role.CASE_WORKER)
    from app.services.cases import workflow as cases
    with pytest.raises(Conflict, match="chờ duyệt"):
        cases.transition_case(case.id, "closed", worker, role)


def test_two_approvals_racing_cannot_overspend(app, monkeypatch):
    """Each payout fits alone, both together would overdraw the programme: one must lose.
    A pause between reading the balance and writing the approval widens the race window,
    so without the programme lock both would pass."""
    import time

    real_available = money.available_for

    def slow_available(*args):
        value = real_available(*args)
        time.sleep(0.3)
        return value

    monkeypatch.setattr(money, "available_for", slow_available)
    fund("cleft", 30_000_000)
    first = make_case("approved", programme_code="cleft", approved=20_000_000)
    second = make_case("approved", programme_code="cleft", approved=20_000_000)
    rows = [pay(first, 20_000_000, approve=False).id, pay(second, 20_000_000, approve=False).id]
    director, role = staff(Role.DIRECTOR)
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(row_id):
        with app.app_context():
            barrier.wait()
            try:
                money.approve_disbursement(row_id, director, role)
                outcomes.append("ok")
            except Conflict as error:
                outcomes.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(r,)) for r in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    db.session.expire_all()
    assert money.programme_balance(factories.programme("cleft").id) == 10_000_000


def test_balances_page_for_every_staff_role(client, login_as):
    fund("heart", 12_345_000)
    login_as(Role.VIEWER)
    page = client.get("/staff/programme-balances").get_data(as_text=True)
    assert 'data-testid="balance-heart">12.345.000\u00a0₫' in page


def test_accountant_records_and_director_approves_over_http(client, login_as):
    fund("heart", 50_000_000)
    case = make_case("approved", approved=30_000_000)
    login_as(Role.ACCOUNTANT)
    too_much = client.post(f"/staff/cases/{case.id}/disbursements/new", data={
        "programme_id": case.programme_id, "amount": "31.000.000", "paid_on": (date.today() - timedelta(days=1)).isoformat(),
        "payee_kind": "hospital", "payee_name": "Bệnh viện Việt Tiệp", "method": "bank_transfer"})
    assert too_much.status_code == 409 and "Vượt mức hỗ trợ đã duyệt" in too_much.get_data(as_text=True)
    ok = client.post(f"/staff/cases/{case.id}/disbursements/new", data={
        "programme_id": case.programme_id, "amount": "30.000.000", "paid_on": date.today().isoformat(),
        "payee_kind": "family", "payee_name": "", "method": "cash", "voucher_number": "PC-09"})
    assert ok.status_code == 302
    row = db.session.scalars(sa.select(Disbursement)).one()
    assert row.payee_name == "Lương Văn Kiên"  # the guardian, filled in by the service
    listing = client.get("/staff/disbursements").get_data(as_text=True)
    assert "Lương Văn Kiên" not in listing and "thông tin được bảo vệ" in listing
    assert client.post(f"/staff/disbursements/{row.id}/approve").status_code == 403


def test_accountant_designates_a_gift_to_a_case_and_the_case_shows_it(client, login_as):
    case = make_case("approved")
    donor = factories.organization("Công ty TNHH Thép Đình Vũ Xanh")
    login_as(Role.ACCOUNTANT)
    form = {"donor_id": donor.id, "amount": "15.000.000", "channel": "bank_transfer",
            "received_on": date.today().isoformat(), "reference": "FT-CASE-1"}
    assert client.post(f"/staff/cases/{case.id}/donations/new", data={**form, "donor_id": "0"}).status_code == 400
    assert client.post(f"/staff/cases/{case.id}/donations/new", data=form).status_code == 302
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Công ty TNHH Thép Đình Vũ Xanh" in page and "15.000.000\u00a0₫" in page
    assert money.case_designated(case.id) == 15_000_000
    assert money.earmarks(factories.programme("heart").id) == {case.id: 15_000_000}


def test_gifts_cannot_be_designated_to_a_closed_case():
    case = make_case("closed")
    with pytest.raises(Conflict, match="đã đóng"):
        fund(None, 1_000_000, case=case)


def test_programme_is_locked_once_money_is_designated():
    from app.services.cases import workflow as cases

    case = make_case("assessment")
    fund(None, 2_000_000, case=case)
    worker, role = staff(Role.CASE_WORKER)
    with pytest.raises(Conflict, match="không thể đổi chương trình"):
        cases.update_case(case.id, {"programme_id": factories.programme("cleft").id}, worker, role)
    db.session.rollback()
    approved = make_case("approved")
    with pytest.raises(Conflict, match="chỉ sửa được khi"):
        cases.update_case(approved.id, {"child_name": "Tên khác"}, worker, role)


@pytest.mark.parametrize("kind, name", [("hospital", "Bệnh viện Trẻ em Hải Phòng"),
                                        ("school", "Trường Tiểu học Lê Lợi"),
                                        ("other", "Bệnh viện Trẻ em Hải Phòng")])
def test_a_childs_hospital_or_school_as_payee_is_masked_without_identity_access(client, login_as, kind, name):
    """Issue 12, item 11."""
    fund("heart", 50_000_000)
    case = make_case("approved", approved=30_000_000)
    case.facility = "Bệnh viện Trẻ em Hải Phòng"
    db.session.commit()
    pay(case, 1_000_000, payee_kind=kind, payee_name=name)
    for role in (Role.ACCOUNTANT,):  # viewers have no disbursement pages
        login_as(role)
        listing = client.get("/staff/disbursements").get_data(as_text=True)
        assert name not in listing and "thông tin được bảo vệ" in listing, role
    login_as(Role.DIRECTOR)
    assert name in client.get("/staff/disbursements").get_data(as_text=True)


def test_approving_a_payout_has_a_confirmation_step(client, login_as):
    """Issue 12, item 33."""
    fund("heart", 50_000_000)
    case = make_case("approved", approved=30_000_000)
    row = pay(case, 1_000_000, approve=False)
    login_as(Role.DIRECTOR)
    step = client.post(f"/staff/disbursements/{row.id}/approve")
    assert step.status_code == 200 and "Duyệt khoản chi 1.000.000\u00a0₫?" in step.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Disbursement, row.id).status == "recorded"
    assert client.post(f"/staff/disbursements/{row.id}/approve", data={"confirmed": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Disbursement, row.id).status == "approved"

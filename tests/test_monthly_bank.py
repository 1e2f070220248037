"""Monthly giving by bank transfer: a standing pledge with one code for every month, each
transfer one donation with its receipt (SePay, Casso, a statement line), the monthly
reminder job (once a month, not when paid, not when unsubscribed), lapse after N missed
months with a frozen clock, the donor's account (waiting pledges with QR, cancel) and the
staff page (totals by method, pause/resume/stop), every step audited."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.adapters import vietqr
from app.extensions import db
from app.models import (
    AuditEntry, BankLine, Donation, Donor, OutboxMessage, Receipt, RecurringGift, Role, TransferPledge,
)
from app.services.bank import standing, statements
from app.services.bank.transfers import sepay_payload
from app.services.audit import Actor
from tests import bank_helpers as bh
from tests import bank_statements as gen
from tests import factories
from tests.account_helpers import sign_in
from tests.test_receipt_mail import mail_config, smtp_port, smtp_server  # noqa: F401 (fixtures)

FORM = {"method": "transfer", "frequency": "monthly", "kind": "individual", "name": "Đỗ Minh Khoa",
        "email": "khoa@example.com", "preset": "", "custom_amount": "300.000", "designation": "general",
        "currency": "VND"}


def at(year, month, day, hour=3) -> datetime:
    """A moment in UTC (03:00 UTC is 10:00 in Hai Phong, the same day)."""
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def secrets(app, monkeypatch):
    for name, value in bh.BANK_SECRETS.items():
        monkeypatch.setitem(app.config, name, value)


def reload_gift(gift_id: int) -> RecurringGift:
    db.session.expire_all()
    return db.session.get(RecurringGift, gift_id)


def from_donate(client, **changes) -> RecurringGift:
    response = client.post("/donate", data={**FORM, **changes})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert "/donate/transfer/" in response.headers["Location"]
    db.session.expire_all()
    return db.session.scalars(sa.select(RecurringGift).order_by(RecurringGift.id.desc())).first()


def from_account(client, email="lan@example.com", amount="200.000", started=None) -> RecurringGift:
    """A standing pledge set up from the donor's account; `started` moves its start back
    (as if it had been set up then)."""
    if not db.session.scalar(sa.select(Donor.id).where(Donor.email == email)):
        factories.donor("Hoàng Thị Lan", email=email)
    sign_in(client, email)
    page = client.get("/tai-khoan/hang-thang").get_data(as_text=True)
    assert "Ủng hộ hằng tháng bằng chuyển khoản" in page
    response = client.post("/tai-khoan/hang-thang/chuyen-khoan",
                           data={"bank-amount": amount, "bank-designation": "general"})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    gift = db.session.scalars(sa.select(RecurringGift).order_by(RecurringGift.id.desc())).first()
    assert response.headers["Location"].endswith(f"/donate/transfer/{gift.standing_pledge.token}")
    if started is not None:
        gift.started_at = gift.created_at = started
        gift.due_from = standing.first_of_month(started)
        db.session.commit()
    return gift


def sepay(client, pledge, txn_id, when=None, **kw):
    body = json.dumps(sepay_payload(pledge, txn_id=txn_id, when=when, **kw)).encode()
    response = client.post("/payments/sepay/webhook", data=body, headers=bh.sepay_headers())
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def months_of(gift_id: int) -> list[tuple[str, int, str]]:
    db.session.expire_all()
    return [(d.recurring_month, d.amount, d.status) for d in db.session.scalars(
        sa.select(Donation).where(Donation.recurring_gift_id == gift_id).order_by(Donation.recurring_month))]


def receipts_for(gift_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Receipt).join(Donation).where(
        Donation.recurring_gift_id == gift_id))


def actions(gift_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.entity_type == "recurring_gifts", AuditEntry.entity_id == str(gift_id)).order_by(AuditEntry.id)))


def reminders() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder")
                                   .order_by(OutboxMessage.id)))


def run(now, lapse_after=3):
    return standing.run_monthly(now, lapse_after=lapse_after)


# ----------------------------------------------------------------- set-up and the transfer page

def test_monthly_transfer_from_donate_gives_one_code_for_every_month_in_page_and_qr(client):
    bh.account()
    gift = from_donate(client)
    pledge = gift.standing_pledge
    assert (gift.method, gift.status, gift.amount) == ("bank", "pending", 300_000)
    assert (pledge.status, pledge.amount, pledge.recurring_gift_id) == ("standing", 300_000, gift.id)
    assert gift.donor.email == "khoa@example.com"
    html = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    for text in ("Ủng hộ hằng tháng 300.000\u00a0₫", "Chuyển tiền định kỳ", pledge.code, "0011001234567",
                 "QUY BAO TRO TRE EM HAI PHONG", "Chưa nhận được lần chuyển khoản nào"):
        assert text in html
    assert 'http-equiv="refresh"' not in html  # a page the donor keeps open while setting up the order
    png = client.get(f"/donate/transfer/{pledge.token}/qr.png")
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    decoded = vietqr.decode(found.text)
    assert (decoded.bank_bin, decoded.account, decoded.amount, decoded.memo) == (
        "970436", "0011001234567", 300_000, pledge.code)
    assert "recurring.create" in actions(gift.id)


def test_monthly_needs_transfer_and_the_monthly_limits(client):
    bh.account()
    small = client.post("/donate", data={**FORM, "custom_amount": "20.000"})
    assert small.status_code == 422 and "Số tiền hằng tháng tối thiểu là 50.000\u00a0₫" in small.get_data(as_text=True)
    big = client.post("/donate", data={**FORM, "custom_amount": "25.000.000"})
    assert big.status_code == 422 and "tối đa 20.000.000\u00a0₫ mỗi tháng" in big.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecurringGift)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TransferPledge)) == 0


def test_card_monthly_on_the_donate_page_points_to_transfer(client, stripe_on):
    bh.account()
    page = client.post("/donate", data={**FORM, "method": "card"})
    assert page.status_code == 422
    assert "Ủng hộ hằng tháng trên trang này là chuyển khoản" in page.get_data(as_text=True)


# ----------------------------------------------------------------- money arriving

def test_each_sepay_transfer_with_the_code_is_one_donation_with_receipt(client, secrets):
    bh.account()
    gift = from_donate(client)
    pledge = gift.standing_pledge
    sepay(client, pledge, 501, when=at(2026, 12, 3))
    sepay(client, pledge, 501, when=at(2026, 12, 3))  # SePay retries: nothing new
    assert months_of(gift.id) == [("2026-12", 300_000, "confirmed")]
    assert receipts_for(gift.id) == 1
    gift = reload_gift(gift.id)
    assert gift.status == "active" and gift.due_from.isoformat() == "2026-12-01"
    [mail] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "receipt")).all()
    assert mail.to_address == "khoa@example.com"
    # The next month's standing order, with the same code: a second donation and receipt.
    sepay(client, pledge, 502, when=at(2027, 1, 3))
    assert months_of(gift.id) == [("2026-12", 300_000, "confirmed"), ("2027-01", 300_000, "confirmed")]
    assert receipts_for(gift.id) == 2
    donation = db.session.scalars(sa.select(Donation).where(Donation.recurring_month == "2027-01")).one()
    assert donation.donor_id == gift.donor_id and donation.programme_id == gift.programme_id
    assert "tháng 01/2027" in donation.note
    line = db.session.scalars(sa.select(BankLine).where(BankLine.donation_id == donation.id)).one()
    assert line.state == "matched" and f"Khớp mã ủng hộ hằng tháng {pledge.code}" in line.state_reason
    assert db.session.get(TransferPledge, pledge.id).status == "standing"  # never "received"
    html = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    assert "12/2026" in html and "01/2027" in html
    assert actions(gift.id)[:3] == ["recurring.create", "recurring.start", "recurring.month_paid"]


def test_a_different_amount_confirms_what_arrived_and_says_so(client, secrets):
    bh.account()
    gift = from_donate(client)
    sepay(client, gift.standing_pledge, 601, when=at(2026, 12, 5), amount=250_000)
    assert months_of(gift.id) == [("2026-12", 250_000, "confirmed")]
    line = db.session.scalars(sa.select(BankLine)).one()
    assert "Số tiền nhận 250.000\u00a0₫ khác số đăng ký hằng tháng 300.000\u00a0₫" in line.state_reason
    html = client.get(f"/donate/transfer/{gift.standing_pledge.token}").get_data(as_text=True)
    assert "250.000\u00a0₫" in html and "(đăng ký 300.000\u00a0₫)" in html


def test_a_casso_notification_with_the_code_is_one_donation(client, secrets):
    from tests.test_bank_providers import casso_item

    bh.account()
    gift = from_donate(client)
    body, headers = bh.casso_delivery(casso_item(gift.standing_pledge, transactionDateTime="2026-12-20 09:15:00"))
    for _ in range(2):  # a retry changes nothing
        assert client.post("/payments/casso/webhook", data=body, headers=headers).status_code == 200
    assert months_of(gift.id) == [("2026-12", 300_000, "confirmed")]
    assert receipts_for(gift.id) == 1


def test_statement_lines_with_the_code_are_one_donation_each_for_consecutive_months(client):
    bh.account()
    gift = from_donate(client)
    code = gift.standing_pledge.code
    rows = [(datetime(2026, 12, 2, 9, 0), None, 300_000, f"IBFT {code} ung ho hang thang", "FT1", "DO MINH KHOA"),
            (datetime(2027, 1, 2, 9, 0), None, 300_000, f"IBFT {code} ung ho hang thang", "FT2", "DO MINH KHOA"),
            (datetime(2027, 1, 9, 9, 0), None, 300_000, f"IBFT {code} ung ho", "FT3", "DO MINH KHOA")]
    data = gen.xlsx(gen.table("vietcombank", rows))
    statements.import_file(data, "sao-ke.xlsx", Actor.system("tests"))
    # The 2nd of January pays January (December is paid); the second January transfer
    # is the donor paying ahead: February.
    assert months_of(gift.id) == [("2026-12", 300_000, "confirmed"), ("2027-01", 300_000, "confirmed"),
                                  ("2027-02", 300_000, "confirmed")]
    assert receipts_for(gift.id) == 3
    _plan, again = statements.import_file(data, "sao-ke.xlsx", Actor.system("tests"))
    assert again.new_lines == 0 and len(months_of(gift.id)) == 3


def test_a_transfer_early_in_the_month_pays_the_unpaid_month_before(client, secrets):
    bh.account()
    gift = from_account(client, started=at(2026, 11, 25))
    sepay(client, gift.standing_pledge, 701, when=at(2026, 12, 1))  # the order ran late
    sepay(client, gift.standing_pledge, 702, when=at(2026, 12, 24))
    assert [m for m, _a, _s in months_of(gift.id)] == ["2026-11", "2026-12"]


# ----------------------------------------------------------------- the monthly reminder job

def test_the_reminder_goes_once_a_month_not_when_paid_and_arrives_with_the_qr(
        client, secrets, mail_config, smtp_server):
    bh.account()
    gift = from_account(client, started=at(2026, 11, 10))
    assert run(at(2026, 11, 20)).reminded == []  # not in the month it was set up
    assert run(at(2026, 12, 5)).reminded == []  # before its day of the month (the 10th)
    assert run(at(2026, 12, 10)).reminded == [gift.id]
    assert run(at(2026, 12, 11)).reminded == [] and run(at(2026, 12, 28)).reminded == []
    [reminder] = reminders()
    assert (reminder.dedupe_key, reminder.status) == (f"bank-reminder:{gift.id}:2026-12", "sent")
    [mail] = [m for m in smtp_server.messages if "Nhắc ủng hộ hằng tháng" in m["Subject"]]
    assert mail["To"] == "lan@example.com" and "12/2026" in mail["Subject"]
    assert mail["List-Unsubscribe"].startswith("<http") and mail["List-Unsubscribe-Post"]
    text = mail.get_body(("plain",)).get_content()
    pledge = gift.standing_pledge
    for value in ("200.000\u00a0₫", "0011001234567", "QUY BAO TRO TRE EM HAI PHONG", pledge.code,
                  f"/donate/transfer/{pledge.token}/qr.png", "/tai-khoan/huy-nhan-thu/", "chuyển tiền định kỳ"):
        assert value in text
    [qr] = [part for part in mail.iter_attachments() if part.get_content_type() == "image/png"]
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.get_content())))
    assert vietqr.decode(found.text).memo == pledge.code and vietqr.decode(found.text).amount == 200_000
    # December is paid after the reminder, January before its day: no reminder in January.
    sepay(client, pledge, 800, when=at(2026, 12, 12))
    sepay(client, pledge, 801, when=at(2027, 1, 4))
    assert [m for m, _a, _s in months_of(gift.id)] == ["2026-12", "2027-01"]
    result = run(at(2027, 1, 12))
    assert result.reminded == [] and result.already_paid == [gift.id]
    assert len(reminders()) == 1
    assert "recurring.reminder" in actions(gift.id)


def test_no_reminder_to_an_unsubscribed_address_and_queued_ones_are_cancelled(client, mail_config, smtp_server):
    from app.services.accounts import preferences

    bh.account()
    gift = from_account(client, started=at(2026, 11, 3))
    assert run(at(2026, 12, 3)).reminded == [gift.id]
    assert reminders()[0].status == "sent"
    preferences.unsubscribe("lan@example.com")
    db.session.commit()
    result = run(at(2027, 1, 3))
    assert result.reminded == [] and result.unsubscribed == [gift.id]
    assert len(reminders()) == 1
    # A reminder already queued when the donor unsubscribes is not sent.
    from app.services.receipts import mail as outbox

    message = outbox.queue_notice("lan@example.com", "x", "y", kind=outbox.KIND_REMINDER)
    mail_config["MAIL_SEND_AFTER_COMMIT"] = "off"
    db.session.commit()
    outbox.deliver([message.id])
    assert db.session.get(OutboxMessage, message.id).status == "cancelled"


def test_a_pledge_from_the_public_form_gets_no_reminder_before_its_first_transfer(client):
    bh.account()
    gift = from_donate(client)
    gift.created_at = at(2026, 10, 2)
    db.session.commit()
    assert run(at(2026, 11, 20)).reminded == []
    result = run(at(2027, 1, 5))  # three months and nothing: abandoned, silently
    assert result.abandoned == [gift.id] and reload_gift(gift.id).status == "abandoned"
    assert reminders() == []


def test_the_cli_runs_the_job_as_of_a_given_moment(client, runner):
    bh.account()
    gift = from_account(client, started=at(2026, 11, 3))
    result = runner.invoke(args=["accounts", "bank-monthly", "--at", "2026-12-04T09:00+07:00"])
    assert result.exit_code == 0 and "Đã gửi nhắc 1" in result.output
    assert runner.invoke(args=["accounts", "bank-monthly", "--at", "2026-12-05T09:00+07:00"]).output.startswith(
        "Đã gửi nhắc 0")
    assert [m.dedupe_key for m in reminders()] == [f"bank-reminder:{gift.id}:2026-12"]
    bad = runner.invoke(args=["accounts", "bank-monthly", "--at", "hôm qua"])
    assert bad.exit_code != 0 and "không hợp lệ" in bad.output


# ----------------------------------------------------------------- lapse

def test_lapse_after_n_missed_months_says_so_and_a_late_transfer_revives(client, secrets, mail_config, smtp_server):
    bh.account()
    gift = from_account(client, started=at(2026, 9, 15))
    sepay(client, gift.standing_pledge, 901, when=at(2026, 9, 16))  # September paid
    assert run(at(2026, 12, 20)).lapsed == []  # October and November missed: 2 < 3
    result = run(at(2027, 1, 2))  # October, November, December missed
    assert result.lapsed == [gift.id] and result.reminded == []
    gift = reload_gift(gift.id)
    assert gift.status == "lapsed" and "3 tháng liền" in gift.end_reason and "10/2026, 11/2026, 12/2026" in gift.end_reason
    [notice] = [m for m in smtp_server.messages if "đã tạm ngừng" in m["Subject"]]
    assert gift.standing_pledge.code in notice.get_body(("plain",)).get_content()
    assert run(at(2027, 1, 20)).lapsed == [] and run(at(2027, 2, 20)).reminded == []  # lapsed: quiet
    assert len([m for m in smtp_server.messages if "đã tạm ngừng" in m["Subject"]]) == 1
    sign_in(client, "lan@example.com")
    assert "Đã ngừng (không thanh toán)" in client.get("/tai-khoan/hang-thang").get_data(as_text=True)
    # The donor's standing order runs again: the money is a gift and the pledge revives.
    sepay(client, gift.standing_pledge, 902, when=at(2027, 2, 22))
    gift = reload_gift(gift.id)
    assert gift.status == "active" and gift.due_from.isoformat() == "2027-02-01" and gift.end_reason is None
    assert [m for m, _a, _s in months_of(gift.id)] == ["2026-09", "2027-02"]
    assert "recurring.lapse" in actions(gift.id) and "recurring.revive" in actions(gift.id)


def test_the_lapse_setting_is_honoured(client):
    bh.account()
    gift = from_account(client, started=at(2026, 11, 15))
    assert run(at(2027, 1, 1), lapse_after=1).lapsed == [gift.id]


# ----------------------------------------------------------------- the donor's account

def test_the_account_shows_waiting_pledges_with_their_qr_and_the_donor_cancels(client, secrets):
    bh.account()
    gift = from_account(client)
    one_off = client.post("/donate", data={**FORM, "frequency": "once", "email": "lan@example.com",
                                           "name": "Hoàng Thị Lan", "custom_amount": "150.000"})
    assert one_off.status_code == 303
    waiting = db.session.scalars(sa.select(TransferPledge).where(TransferPledge.recurring_gift_id.is_(None))).one()
    html = client.get("/tai-khoan").get_data(as_text=True)
    assert "Chờ chuyển khoản" in html
    assert f"/donate/transfer/{gift.standing_pledge.token}/qr.png" in html and gift.standing_pledge.code in html
    assert f"/donate/transfer/{waiting.token}/qr.png" in html and waiting.code in html
    assert "200.000\u00a0₫/tháng (chuyển khoản)" in html
    monthly = client.get("/tai-khoan/hang-thang").get_data(as_text=True)
    assert gift.standing_pledge.code in monthly and "Chuyển khoản" in monthly
    response = client.post(f"/tai-khoan/hang-thang/{gift.id}/huy")
    assert response.status_code == 302
    flashed = client.get("/tai-khoan/hang-thang").get_data(as_text=True)
    assert "hủy cả lệnh chuyển tiền định kỳ" in flashed
    gift = reload_gift(gift.id)
    assert gift.status == "cancelled" and "recurring.cancel" in actions(gift.id)
    assert run(at(2030, 1, 28)).reminded == []
    # Money still arriving after a cancel is the donor's gift, recorded, and says so.
    sepay(client, gift.standing_pledge, 1001, when=at(2027, 3, 2))
    [(month, amount, status)] = months_of(gift.id)
    assert status == "confirmed" and reload_gift(gift.id).status == "cancelled"
    donation = db.session.scalars(sa.select(Donation).where(Donation.recurring_gift_id == gift.id)).one()
    assert "đã dừng; vẫn ghi nhận" in donation.note
    # Another donor cannot cancel it.
    factories.donor("Người Khác", email="khac@example.com")
    sign_in(client, "khac@example.com")
    assert client.post(f"/tai-khoan/hang-thang/{gift.id}/huy").status_code == 404


# ----------------------------------------------------------------- staff

def test_staff_see_bank_pledges_with_totals_and_pause_resume_stop(client, login_as):
    bh.account()
    active = from_account(client, amount="200.000")
    pending = from_donate(client)
    login_as(Role.VIEWER)
    page = client.get("/staff/ung-ho-hang-thang?method=bank").get_data(as_text=True)
    assert active.standing_pledge.code in page and pending.standing_pledge.code in page
    assert f"/staff/ung-ho-hang-thang/{active.id}/tam-dung" not in page  # a viewer only reads
    assert client.post(f"/staff/ung-ho-hang-thang/{active.id}/tam-dung", data={"reason": "x"}).status_code == 403
    login_as(Role.ACCOUNTANT)
    page = client.get("/staff/ung-ho-hang-thang").get_data(as_text=True)
    assert 'data-testid="committed-bank">200.000\u00a0₫' in page  # active only, not the pending one
    assert client.post(f"/staff/ung-ho-hang-thang/{active.id}/tam-dung", data={"reason": ""}).status_code == 302
    assert reload_gift(active.id).status == "active"  # a reason is required
    client.post(f"/staff/ung-ho-hang-thang/{pending.id}/dung", data={"reason": "Nhà hảo tâm gọi điện"})
    assert reload_gift(pending.id).status == "cancelled"
    client.post(f"/staff/ung-ho-hang-thang/{active.id}/tam-dung", data={"reason": "Gọi điện 02/12"})
    assert reload_gift(active.id).status == "paused"
    assert run(at(2030, 6, 28)).reminded == [] and run(at(2030, 6, 28)).lapsed == []  # paused: not due
    client.post(f"/staff/ung-ho-hang-thang/{active.id}/tiep-tuc", data={"reason": "Email 05/12"})
    gift = reload_gift(active.id)
    assert gift.status == "active" and gift.due_from == standing.first_of_month(datetime.now(timezone.utc))
    assert actions(active.id)[-2:] == ["recurring.pause", "recurring.resume"]
    assert actions(pending.id)[-1] == "recurring.cancel"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "recurring.pause")).one()
    assert "Gọi điện 02/12" in json.dumps(entry.after, ensure_ascii=False)


def test_erasure_waits_for_a_pending_pledge_and_clears_what_its_form_held(client, login_as):
    from app.errors import Conflict
    from app.services.accounts import rights

    bh.account()
    gift = from_donate(client, phone="0912 345 678", address="12 Lạch Tray")
    with pytest.raises(Conflict):
        rights.erase_donor(gift.donor_id, Actor.system("tests"))
    db.session.rollback()
    login_as(Role.ACCOUNTANT)
    client.post(f"/staff/ung-ho-hang-thang/{gift.id}/dung", data={"reason": "Yêu cầu xóa dữ liệu"})
    rights.erase_donor(gift.donor_id, Actor.system("tests"))
    db.session.expire_all()
    pledge = db.session.get(TransferPledge, gift.standing_pledge.id)
    assert (pledge.donor_email, pledge.donor_phone, pledge.donor_address) == (None, None, None)
    assert pledge.donor_name != "Đỗ Minh Khoa" and pledge.code  # the code stays: late money is still matched

"""The accountant's reconciliation: queue, bulk confirm, match by hand, create donor,
not-a-donation, undo as a reversal, statement upload → preview → import, accounts."""
from __future__ import annotations

import io

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, BankAccount, BankLine, Donation, Donor, Receipt, Role, TransferPledge
from app.services.audit import Actor
from app.services.bank import statements
from app.services.bank.pledges import create_pledge
from app.services.donations.online import DonationRequest
from app.timeutil import utcnow
from tests import bank_helpers as bh
from tests import bank_statements as gen
from tests import factories

ACTOR = Actor.system("tests")


def imported(code="QBTE7K3M9XA", rows=None):
    bh.account()
    statements.import_file(gen.xlsx(gen.table("mb", rows or gen.sample_rows(code))), "mb.xlsx", ACTOR)
    db.session.expire_all()


def line(amount):
    db.session.expire_all()
    return db.session.scalars(sa.select(BankLine).where(BankLine.amount == amount)).one()


def test_queue_shows_suggestions_with_confidence_and_reasons(client, login_as):
    imported()
    login_as(Role.ACCOUNTANT)
    html = client.get("/staff/bank").get_data(as_text=True)
    assert "CONG TY TNHH ABC UNG HO MO TIM" in html and "40%" in html and "mo tim" in html
    assert "Xác nhận các gợi ý đã chọn" in html
    assert "Khớp" in client.get("/staff/bank").get_data(as_text=True)  # balance check table
    assert "ung ho quy tre em" in client.get("/staff/bank?state=unmatched").get_data(as_text=True)


def test_bulk_confirm_creates_donor_from_sender_and_uses_the_programme(client, login_as):
    imported()
    login_as(Role.ACCOUNTANT)
    target = line(2_000_000)
    response = client.post("/staff/bank/confirm", data={"line_id": [str(target.id)]})
    assert response.status_code == 302
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.amount == 2_000_000 and donation.programme.code == "heart"
    assert donation.donor.name == "CONG TY TNHH ABC" and donation.donor.kind == "organization"
    assert line(2_000_000).state == "matched"


def test_sender_account_known_from_an_earlier_gift_is_suggested_next_time():
    bh.account()
    donor = factories.donor("Trần Thị Bích")
    rows = [(r[0], None, 300_000, "ck ung ho", f"FT{n}", "TRAN THI B") for n, r in enumerate(gen.sample_rows()[:1])]
    statements.import_file(gen.xlsx(gen.table("mb", rows)), "mb.xlsx", ACTOR)
    first = db.session.scalars(sa.select(BankLine)).one()
    db.session.execute(sa.update(BankLine).values(sender_account="190333"))
    db.session.commit()
    from app.services.bank import reconcile

    reconcile.match_by_hand(first.id, ACTOR, donor_id=donor.id)
    from app.services.bank.matching import Context, suggest

    later = BankLine(account_id=first.account_id, direction="credit", amount=100_000, booked_at=first.booked_at,
                     memo="ung ho", sender_account="190333", fingerprint="x", source="webhook")
    db.session.add(later)
    db.session.flush()
    outcome = suggest(later, Context([later]))
    assert outcome.suggestion["donor_id"] == donor.id and outcome.confidence == 80
    assert "đã ủng hộ trước đây" in outcome.reason


def test_a_name_anywhere_in_the_memo_suggests_the_donor_or_pledge_and_the_longest_name_wins():
    from app.services.bank.matching import Context, suggest

    account = bh.account()
    factories.donor("Văn An")
    nguyen = factories.donor("Nguyễn Văn An")
    pledge = create_pledge(DonationRequest(kind="individual", name="Lê Thị Hồng Nhung", email="n@example.com",
                                           amount=250_000), ACTOR, minimum=10_000, expiry_days=7)

    def outcome(memo, amount=100_000):
        line = BankLine(account_id=account.id, direction="credit", amount=amount, booked_at=utcnow(),
                        memo=memo, fingerprint=memo, source="webhook")
        db.session.add(line)
        db.session.flush()
        return suggest(line, Context([line]))

    named = outcome("MBVCB.8812.CK NGUYEN VAN AN-UNG HO QUY")
    assert named.suggestion["donor_id"] == nguyen.id and named.confidence == 60
    paid = outcome("IBFT 0071 ung ho le thi hong nhung mo tim", amount=250_000)
    assert paid.suggestion["pledge_id"] == pledge.id and paid.confidence == 75
    assert outcome("IBFT 0071 ung ho le thi hong nhung", amount=260_000).suggestion is None  # other amount
    assert outcome("chuyen tien an van").suggestion is None  # the words, not the name


def test_amount_and_name_suggest_a_pledge_whose_code_is_missing(client, login_as):
    bh.account()
    pledge = create_pledge(DonationRequest(kind="individual", name="Trần Thị B", email="b@example.com",
                                           amount=300_000), ACTOR, minimum=10_000, expiry_days=7)
    statements.import_file(gen.xlsx(gen.table("mb", gen.sample_rows())), "mb.xlsx", ACTOR)
    suggested = line(300_000)
    assert suggested.state == "suggested" and suggested.suggestion["pledge_id"] == pledge.id
    assert suggested.confidence == 75
    login_as(Role.ACCOUNTANT)
    client.post(f"/staff/bank/lines/{suggested.id}/confirm")
    db.session.expire_all()
    assert db.session.get(TransferPledge, pledge.id).status == "received"
    assert db.session.scalars(sa.select(Donation)).one().donor.email == "b@example.com"


def test_match_by_hand_ignore_and_undo(client, login_as):
    imported()
    login_as(Role.ACCOUNTANT)
    donor = factories.donor("Lê Văn C")
    unmatched = line(300_000)
    page = client.get(f"/staff/bank/lines/{unmatched.id}").get_data(as_text=True)
    assert "Khớp thủ công" in page and "Không phải khoản ủng hộ" in page
    client.post(f"/staff/bank/lines/{unmatched.id}/match", data={"donor_id": str(donor.id)})
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.donor_id == donor.id and line(300_000).state == "matched"
    receipt = db.session.scalars(sa.select(Receipt)).one()
    # undo: a reversal row, the receipt voided, the line back in the queue
    assert client.post(f"/staff/bank/lines/{unmatched.id}/undo", data={"reason": ""}).status_code == 302
    assert line(300_000).state == "matched"  # a reason is required
    client.post(f"/staff/bank/lines/{unmatched.id}/undo", data={"reason": "Nhầm nhà hảo tâm"})
    db.session.expire_all()
    assert line(300_000).state == "unmatched"
    rows = db.session.scalars(sa.select(Donation).order_by(Donation.id)).all()
    assert len(rows) == 2 and rows[1].reverses_id == rows[0].id and rows[0].status == "reversed"
    assert db.session.get(Receipt, receipt.id).voided_at is not None
    # matched again, to a new donor made from the line
    client.post(f"/staff/bank/lines/{unmatched.id}/match", data={"create_donor": "1"})
    assert line(300_000).state == "matched"
    assert db.session.scalars(sa.select(Donor).where(Donor.name == "Tran Thi B")).one()
    # interest: not a donation, with a reason
    interest = line(1_234)
    client.post(f"/staff/bank/lines/{interest.id}/ignore", data={"reason": "interest"})
    assert line(1_234).state == "ignored" and line(1_234).state_reason == "Lãi tiền gửi"
    actions = {a for (a,) in db.session.execute(sa.select(AuditEntry.action))}
    assert {"bank_line.match", "bank_line.undo", "bank_line.ignore", "donation.reverse"} <= actions


def test_debit_lines_cannot_become_donations(client, login_as):
    imported()
    login_as(Role.ACCOUNTANT)
    fee = line(11_000)
    client.post(f"/staff/bank/lines/{fee.id}/match", data={"create_donor": "1"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_statement_upload_preview_then_import(client, login_as):
    bh.account()
    login_as(Role.ACCOUNTANT)
    data = gen.xlsx(gen.table("techcombank", gen.sample_rows()))
    preview = client.post("/staff/bank/import", data={"file": (io.BytesIO(data), "tcb.xlsx"), "layout": "auto"},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "5 mới" in html and "Số dư khớp" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 0
    token = html.split('name="token" value="')[1].split('"')[0]
    client.post("/staff/bank/import/confirm", data={"token": token, "file_name": "tcb.xlsx", "layout": "auto",
                                                    "account": "0011001234567"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 5
    bad = client.post("/staff/bank/import", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "Không nhận ra mẫu sao kê" in bad.get_data(as_text=True)


def test_admin_edits_accounts_and_the_default_one_is_shown_to_donors(client, login_as):
    login_as(Role.ADMIN)
    response = client.post("/staff/bank/accounts", data={"bank_bin": "970415", "account_number": "1122334455",
                                                         "account_name": "Quy Bao tro tre em", "is_active": "1",
                                                         "is_default": "1"})
    assert response.status_code == 302
    account = db.session.scalars(sa.select(BankAccount)).one()
    assert (account.bank_name, account.account_name) == ("VietinBank", "QUY BAO TRO TRE EM")
    assert client.post("/staff/bank/accounts", data={"bank_bin": "000000", "account_number": "1",
                                                     "account_name": "x"}).status_code == 422
    assert "1122334455" in client.get("/staff/bank/accounts").get_data(as_text=True)

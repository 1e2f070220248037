"""Issue 13: a transfer given anonymously (no name, no e-mail), end to end; and the receipt
mails of a statement import sent right after its commit, not at the next cron run."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Donor, OutboxMessage, OutboxStatus, Receipt, TransferPledge
from app.services.audit import Actor
from app.services.bank import statements
from app.services.bank.pledges import create_pledge
from app.services.bank.transfers import sepay_payload
from app.services.donations.online import ANONYMOUS_DONOR_NAME, DonationRequest
from tests import bank_helpers as bh
from tests import bank_statements as gen

ACTOR = Actor.system("tests")
FORM = {"method": "transfer", "kind": "individual", "name": "", "email": "", "preset": "",
        "custom_amount": "300.000", "designation": "general", "currency": "VND"}


@pytest.fixture
def secrets(app, monkeypatch):
    for name, value in bh.BANK_SECRETS.items():
        monkeypatch.setitem(app.config, name, value)


def _latest_pledge() -> TransferPledge:
    db.session.expire_all()
    return db.session.scalars(sa.select(TransferPledge).order_by(TransferPledge.id.desc())).first()


def test_an_anonymous_transfer_is_received_with_a_receipt_on_the_transfer_page(client, secrets):
    bh.account()
    # A donor record without e-mail already exists: an anonymous gift must never land on it.
    other = Donor(kind="individual", name=ANONYMOUS_DONOR_NAME, notes="hồ sơ cũ")
    db.session.add(other)
    db.session.commit()
    response = client.post("/donate", data={**FORM, "phone": "0912345678", "address": "Số 1 Lạch Tray",
                                            "public_listing": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    pledge = _latest_pledge()
    assert (pledge.donor_name, pledge.donor_email, pledge.donor_phone, pledge.donor_address) == (
        ANONYMOUS_DONOR_NAME, None, None, None)
    assert pledge.anonymous and not pledge.public_listing and pledge.nameless and pledge.code
    page = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    assert pledge.code in page and "chỉ có trên trang này" in page

    body = json.dumps(sepay_payload(pledge, txn_id=4242)).encode()
    assert client.post("/payments/sepay/webhook", data=body, headers=bh.sepay_headers()).status_code == 200
    db.session.expire_all()
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.status == "confirmed" and donation.amount == 300_000
    assert donation.donor_id != other.id and donation.donor.name == ANONYMOUS_DONOR_NAME
    assert donation.donor.anonymous and not donation.donor.public_listing_consent and donation.donor.email is None
    assert (other.name, other.notes) == (ANONYMOUS_DONOR_NAME, "hồ sơ cũ")  # untouched
    receipt = db.session.scalars(sa.select(Receipt)).one()
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []  # no address: nothing mailed

    page = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    assert "Đã nhận" in page and receipt.number in page and "Nhà hảo tâm ẩn danh" in page
    link = page.split('class="btn btn-outline-brand btn-sm receipt-download" href="')[1].split('"')[0]
    pdf = client.get(link.replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_a_name_without_email_is_refused_with_the_anonymous_option_named(client):
    bh.account()
    response = client.post("/donate", data={**FORM, "name": "Nguyễn Văn A"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Hoặc để trống cả họ tên và email để chuyển khoản ẩn danh." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TransferPledge)) == 0
    card = client.post("/donate", data={**FORM, "method": "card"})
    assert card.status_code in (422, 503) and "để chuyển khoản ẩn danh" not in card.get_data(as_text=True)


def test_anonymous_pledges_in_one_statement_get_a_donor_each():
    bh.account()
    pledges = [create_pledge(DonationRequest(kind="individual", name="", email="", amount=500_000), ACTOR,
                             minimum=10_000, expiry_days=7) for _ in range(2)]
    rows = list(gen.sample_rows(pledges[0].code))
    when, debit, credit, _memo, _ref, sender = rows[0]
    rows.append((when, debit, credit, f"IBFT {pledges[1].code} ung ho", "FT-second", sender))
    data = gen.xlsx(gen.table("vietcombank", rows))
    _plan, record = statements.import_file(data, "vcb.xlsx", ACTOR)
    db.session.expire_all()
    donations = db.session.scalars(sa.select(Donation).order_by(Donation.id)).all()
    assert len(donations) == 2 and donations[0].donor_id != donations[1].donor_id
    assert all(d.donor.name == ANONYMOUS_DONOR_NAME and d.donor.anonymous for d in donations)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 2
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []


@pytest.mark.parametrize("mode", ["queue", "inline", "off"])
def test_statement_import_mails_are_sent_right_after_the_commit(app, monkeypatch, tmp_path, mode):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path / "mail"))
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_COMMIT", mode)
    bh.account()
    pledge = create_pledge(DonationRequest(kind="individual", name="Nguyễn Văn A", email="a@example.com",
                                           amount=500_000), ACTOR, minimum=10_000, expiry_days=7)
    data = gen.xlsx(gen.table("mb", gen.sample_rows(pledge.code)))
    statements.import_file(data, "mb.xlsx", ACTOR)
    db.session.expire_all()
    (message,) = db.session.scalars(sa.select(OutboxMessage)).all()
    sent = list((tmp_path / "mail").glob("*.eml"))
    if mode == "off":  # the baseline: without sending after commit the mail waits for cron
        assert message.status == OutboxStatus.PENDING.value and sent == []
    else:
        assert message.status == OutboxStatus.SENT.value and message.to_address == "a@example.com"
        assert len(sent) == 1 and "a@example.com" in sent[0].read_text(errors="replace")


def test_a_rolled_back_import_sends_nothing(app, monkeypatch):
    from app.services.receipts import mail

    calls = []
    monkeypatch.setattr(mail, "dispatch", calls.append)
    bh.account()
    pledge = create_pledge(DonationRequest(kind="individual", name="Nguyễn Văn A", email="a@example.com",
                                           amount=500_000), ACTOR, minimum=10_000, expiry_days=7)
    data = gen.xlsx(gen.table("mb", gen.sample_rows(pledge.code)))
    original = statements.audit.record

    def fail_on_import(actor, action, *args, **kwargs):
        if action == "bank_statement.import":
            raise RuntimeError("disk full")
        return original(actor, action, *args, **kwargs)

    monkeypatch.setattr(statements.audit, "record", fail_on_import)
    with pytest.raises(RuntimeError):
        statements.import_file(data, "mb.xlsx", ACTOR)
    monkeypatch.setattr(statements.audit, "record", original)
    bh.account("0011009999999", is_default=False)  # a later, unrelated commit
    assert calls == [] and db.session.scalars(sa.select(OutboxMessage)).all() == []

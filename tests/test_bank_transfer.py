"""The donor's transfer path: the form's choice, the pledge, the transfer page and its QR,
and a signed SePay notification confirming the gift with its receipt."""
from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.adapters import vietqr
from app.extensions import db
from app.models import (
    AuditEntry, BankLine, Donation, Donor, OutboxMessage, PledgeStatus, Receipt, TransferPledge,
)
from app.services.bank.transfers import sepay_payload
from tests import bank_helpers as bh

FORM = {"method": "transfer", "kind": "individual", "name": "Phạm Thu Trang", "email": "trang@example.com",
        "preset": "", "custom_amount": "75.000.000", "designation": "general", "currency": "VND"}


@pytest.fixture
def secrets(app, monkeypatch):
    for name, value in bh.BANK_SECRETS.items():
        monkeypatch.setitem(app.config, name, value)


def pledge_from_form(client, **changes) -> TransferPledge:
    response = client.post("/donate", data={**FORM, **changes})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert "/donate/transfer/" in response.headers["Location"]
    db.session.expire_all()
    return db.session.scalars(sa.select(TransferPledge).order_by(TransferPledge.id.desc())).first()


def notify(client, pledge, txn_id=1, **kw):
    body = json.dumps(sepay_payload(pledge, txn_id=txn_id, **kw)).encode()
    return client.post("/payments/sepay/webhook", data=body, headers=bh.sepay_headers())


def test_transfer_above_the_card_limit_gives_a_page_with_account_code_and_qr(client):
    bh.account()
    assert "Chuyển khoản / VietQR" in client.get("/donate").get_data(as_text=True)
    pledge = pledge_from_form(client)
    assert pledge.amount == 75_000_000 and pledge.status == PledgeStatus.PENDING.value
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donor)) == 0  # no donor until money
    page = client.get(f"/donate/transfer/{pledge.token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for text in ("Vietcombank", "0011001234567", "QUY BAO TRO TRE EM HAI PHONG", "75.000.000\u00a0₫", pledge.code,
                 "Lưu ảnh QR", "Điều gì xảy ra tiếp theo?"):
        assert text in html
    assert "<script>" not in html and "onclick" not in html
    png = client.get(f"/donate/transfer/{pledge.token}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    decoded = vietqr.decode(found.text)
    assert (decoded.bank_bin, decoded.account, decoded.amount, decoded.memo) == (
        "970436", "0011001234567", 75_000_000, pledge.code)
    assert client.get("/donate/transfer/khong-co").status_code == 404


def test_card_above_the_limit_points_to_transfer(client):
    bh.account()
    page = client.post("/donate", data={**FORM, "method": "card"}).get_data(as_text=True)
    assert "Thanh toán bằng thẻ tối đa 50.000.000\u00a0₫ mỗi lần" in page and "Chuyển khoản / VietQR" in page


def test_a_signed_sepay_notification_confirms_the_gift_with_receipt_and_mail(client, secrets):
    bh.account()
    pledge = pledge_from_form(client)
    response = notify(client, pledge, txn_id=9001)
    assert response.status_code == 200 and response.get_json()["success"] is True
    db.session.expire_all()
    donation = db.session.scalars(sa.select(Donation)).one()
    assert (donation.amount, donation.channel, donation.status) == (75_000_000, "bank_transfer", "confirmed")
    assert donation.donor.name == "Phạm Thu Trang" and donation.donor.email == "trang@example.com"
    receipt = db.session.scalars(sa.select(Receipt)).one()
    assert db.session.scalars(sa.select(OutboxMessage)).one().to_address == "trang@example.com"
    line = db.session.scalars(sa.select(BankLine)).one()
    assert (line.state, line.confidence, line.donation_id, line.provider) == ("matched", 100, donation.id, "sepay")
    assert db.session.get(TransferPledge, pledge.id).status == "received"
    html = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    assert "Đã nhận" in html and receipt.number in html
    # SePay retries: nothing changes, still success
    assert notify(client, pledge, txn_id=9001).get_json()["success"] is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 1


def test_a_different_amount_confirms_what_arrived_and_says_so(client, secrets):
    bh.account()
    pledge = pledge_from_form(client, custom_amount="500.000")
    notify(client, pledge, amount=300_000)
    db.session.expire_all()
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.amount == 300_000 and donation.status == "confirmed"
    assert "300.000\u00a0₫ khác số đăng ký 500.000\u00a0₫" in donation.note
    assert "khác số đăng ký" in db.session.scalars(sa.select(BankLine)).one().state_reason
    html = client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    assert "300.000\u00a0₫" in html and "ghi nhận theo số tiền thực nhận" in html


def test_an_expired_pledge_is_revived_when_its_money_arrives(client, secrets):
    from app.services.bank.pledges import expire_pledges

    bh.account()
    pledge = pledge_from_form(client, custom_amount="200.000")
    assert expire_pledges(now=datetime.now(timezone.utc) + timedelta(days=30)) == 1
    db.session.expire_all()
    assert "quá hạn" in client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    notify(client, pledge)
    db.session.expire_all()
    assert db.session.get(TransferPledge, pledge.id).status == "received"
    assert "hết hạn" in db.session.scalars(sa.select(BankLine)).one().state_reason


def test_the_code_in_a_debit_or_a_second_transfer_is_never_a_donation(client, secrets):
    bh.account()
    pledge = pledge_from_form(client, custom_amount="200.000")
    out = sepay_payload(pledge, txn_id=1)
    out["transferType"] = "out"
    client.post("/payments/sepay/webhook", data=json.dumps(out), headers=bh.sepay_headers())
    notify(client, pledge, txn_id=2)
    notify(client, pledge, txn_id=3)  # the donor pays twice
    db.session.expire_all()
    states = [l.state for l in db.session.scalars(sa.select(BankLine).order_by(BankLine.id))]
    assert states == ["ignored", "matched", "suggested"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1


def wrong(client, body, headers):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(BankLine))
    response = client.post("/payments/sepay/webhook", data=body, headers=headers)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == before
    assert response.is_json and "error" in response.get_json()
    return response.status_code


def test_sepay_refuses_what_it_cannot_trust_and_writes_nothing(client, secrets, app):
    bh.account()
    pledge = pledge_from_form(client, custom_amount="200.000")
    good = sepay_payload(pledge, txn_id=5)
    body = json.dumps(good)
    assert wrong(client, body, {"Content-Type": "application/json"}) == 401
    assert wrong(client, body, bh.sepay_headers("wrong")) == 401
    assert wrong(client, body, {"Authorization": bh.SEPAY_KEY}) == 401
    assert wrong(client, "{not json", bh.sepay_headers()) == 400
    assert wrong(client, json.dumps([1, 2]), bh.sepay_headers()) == 400
    assert wrong(client, json.dumps({**good, "transferAmount": 200000.5}), bh.sepay_headers()) == 400
    assert wrong(client, json.dumps({**good, "transferAmount": "2e5"}), bh.sepay_headers()) == 400
    assert wrong(client, json.dumps({**good, "transferType": "sideways"}), bh.sepay_headers()) == 400
    assert wrong(client, json.dumps({**good, "transactionDate": "hôm qua"}), bh.sepay_headers()) == 400
    assert wrong(client, json.dumps({k: v for k, v in good.items() if k != "id"}), bh.sepay_headers()) == 400
    assert wrong(client, json.dumps({**good, "content": "x" * 70_000}), bh.sepay_headers()) == 413
    app.config["SEPAY_API_KEY"] = None
    app.config["DEMO_MODE_ALLOWED"] = False
    try:
        assert wrong(client, body, bh.sepay_headers()) == 503
    finally:
        app.config["DEMO_MODE_ALLOWED"] = True


def test_a_notification_for_an_account_we_do_not_hold_is_acknowledged_and_ignored(client, secrets):
    bh.account()
    pledge = pledge_from_form(client, custom_amount="200.000")
    payload = {**sepay_payload(pledge, txn_id=5), "accountNumber": "999999999"}
    response = client.post("/payments/sepay/webhook", data=json.dumps(payload), headers=bh.sepay_headers())
    assert response.status_code == 200 and response.get_json()["results"] == [{"ignored": "unknown_account"}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 0


def test_the_demo_button_simulates_the_bank_in_demo_mode_only(client, app):
    bh.account()
    pledge = pledge_from_form(client, custom_amount="200.000")
    assert "Giả lập" in client.get(f"/donate/transfer/{pledge.token}").get_data(as_text=True)
    assert client.post(f"/donate/transfer/{pledge.token}/demo-paid").status_code == 303
    db.session.expire_all()
    assert db.session.get(TransferPledge, pledge.id).status == "received"
    app.config["SEPAY_API_KEY"] = "real"
    try:
        assert client.post(f"/donate/transfer/{pledge.token}/demo-paid").status_code == 404
    finally:
        app.config["SEPAY_API_KEY"] = None


def test_no_account_configured_means_a_clear_503(client):
    response = client.post("/donate", data=FORM)
    assert response.status_code == 503 and "chưa công bố tài khoản" in response.get_data(as_text=True)


# SQL statements for one delivery, audit entries apart: a query per look-up, an insert per
# table (bank/notifications.py); SQLite looks the line up with one query per condition. On
# PostgreSQL the COPYs and the pledges' pipelined UPDATE go straight through psycopg and are
# not seen here: the bound holds the statements SQLAlchemy sends.
ONE_DELIVERY = {"postgresql": 14, "sqlite": 21}


def test_a_notification_is_applied_in_few_statements_and_fully_audited(client, secrets):
    """One delivery: the line, donor, donation, receipt and mail in a bounded number of SQL
    statements (it was 28 through the ORM), and still the six audit entries, each naming its
    record."""
    from sqlalchemy import event

    bh.account()
    pledge = pledge_from_form(client, custom_amount="500.000")
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert notify(client, pledge, txn_id=4242).get_json()["success"] is True
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    audit_inserts = [s for s in seen if s.startswith("INSERT INTO audit_log")]
    postgres = db.engine.dialect.name == "postgresql"
    assert len(seen) - len(audit_inserts) <= ONE_DELIVERY[db.engine.dialect.name], \
        "\n".join(s.split("\n")[0][:90] for s in seen)
    # the six entries in one bulk insert: one executemany on SQLite, a COPY on PostgreSQL
    # (through the driver, unseen by the listener)
    assert len(audit_inserts) == (0 if postgres else 1)
    db.session.expire_all()
    donation = db.session.scalars(sa.select(Donation)).one()
    receipt = db.session.scalars(sa.select(Receipt)).one()
    line = db.session.scalars(sa.select(BankLine)).one()
    entries = {(a.action, a.entity_type, a.entity_id, a.actor_label) for a in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.actor_label == "sepay"))}
    assert entries == {("donor.create", "donors", str(donation.donor_id), "sepay"),
                       ("donation.record", "donations", str(donation.id), "sepay"),
                       ("donation.confirm", "donations", str(donation.id), "sepay"),
                       ("receipt.issue", "receipts", str(receipt.id), "sepay"),
                       ("pledge.receive", "transfer_pledges", str(pledge.id), "sepay"),
                       ("bank_line.match", "bank_lines", str(line.id), "sepay")}
    assert donation.reference == f"BANK-{line.id}" and line.donation_id == donation.id
    mail = db.session.scalars(sa.select(OutboxMessage)).one()
    assert "500.000\u00a0₫" in mail.body and receipt.number in mail.subject


def _held_group(app, deliveries):
    """Queue `deliveries` (lists of parsed lines) on the SePay group while it is held, as
    if another delivery were being applied, then let go: one of the waiting threads
    applies them all together. Returns (results or exception per delivery, the group)."""
    import threading
    import time

    from app.services.audit import Actor
    from app.services.bank import notifications

    group = notifications.group_for(Actor.system("sepay"))
    group.sizes.clear()
    outcomes: list = [None] * len(deliveries)

    def deliver(n, lines):
        with app.app_context():
            try:
                outcomes[n] = notifications.apply_lines(lines, Actor.system("sepay"))
            except Exception as error:  # noqa: BLE001 - the test looks at it
                outcomes[n] = error

    with group.ready:
        group.leading = True
    threads = [threading.Thread(target=deliver, args=(n, lines)) for n, lines in enumerate(deliveries)]
    for thread in threads:
        thread.start()
    for _ in range(500):
        with group.ready:
            if len(group.queue) == len(deliveries):
                group.leading = False
                group.ready.notify_all()
                break
        time.sleep(0.01)
    for thread in threads:
        thread.join(30)
    return outcomes, group


def _parsed(pledge, txn_id, **kw):
    from app.adapters.bank_notifications import sepay

    return sepay.parse(json.dumps(sepay_payload(pledge, txn_id=txn_id, **kw)).encode())


def test_deliveries_arriving_together_are_applied_in_one_transaction_each_once(app, client, secrets):
    """Five deliveries that arrive while another is applied (a peak campaign) are applied
    as one group: five donations, five receipts numbered without a gap, every audit entry,
    in far fewer statements than five deliveries one by one; a re-delivery changes nothing."""
    from sqlalchemy import event

    bh.account()
    pledges = [pledge_from_form(client, custom_amount=f"{n + 1}00.000", email=f"d{n}@example.com")
               for n in range(5)]
    deliveries = [_parsed(p, txn_id=500 + n) for n, p in enumerate(pledges)]
    db.session.commit()
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        outcomes, group = _held_group(app, deliveries)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert group.sizes == {5: 1}, (group.sizes, outcomes)
    assert [o[0]["state"] for o in outcomes] == ["matched"] * 5 and all(o[0]["created"] for o in outcomes)
    statements = [s for s in seen if not s.startswith("INSERT INTO audit_log")]
    # no more statements than one delivery alone: every look-up and insert is the group's
    assert len(statements) <= ONE_DELIVERY[db.engine.dialect.name], \
        "\n".join(s.split("\n")[0][:90] for s in statements)
    db.session.expire_all()
    donations = db.session.scalars(sa.select(Donation).order_by(Donation.amount)).all()
    assert [d.amount for d in donations] == [100_000, 200_000, 300_000, 400_000, 500_000]
    assert all(d.status == "confirmed" and d.reference.startswith("BANK-") for d in donations)
    assert sorted(r.sequence for r in db.session.scalars(sa.select(Receipt))) == [1, 2, 3, 4, 5]
    assert {db.session.get(TransferPledge, p.id).status for p in pledges} == {"received"}
    actions = [a.action for a in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.actor_label == "sepay"))]
    for action in ("donor.create", "donation.record", "donation.confirm", "receipt.issue", "pledge.receive",
                   "bank_line.match"):
        assert actions.count(action) == 5, action
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 5
    db.session.commit()  # (SQLite: the test's reads above hold the write lock until then)
    again, _group = _held_group(app, deliveries[:2])  # the provider retries two of them
    assert [o[0]["created"] for o in again] == [False, False]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 5


def test_a_group_tells_a_re_delivery_from_a_second_equal_transfer(app, client, secrets):
    """Within one group, the same transaction delivered twice is one line and one gift; two
    equal transfers on one day with the same memo and no bank reference stay two lines."""
    import dataclasses

    bh.account()
    pledge = pledge_from_form(client, email="twice@example.com")
    paid = _parsed(pledge, txn_id=900)
    equal = [dataclasses.replace(_parsed(pledge, txn_id=901 + n, memo="UNG HO QUY")[0], bank_reference=None)
             for n in range(2)]
    db.session.commit()
    outcomes, group = _held_group(app, [paid, paid, [equal[0]], [equal[1]]])
    assert group.sizes == {4: 1}, (group.sizes, outcomes)
    first, again, one, other = (o[0] for o in outcomes)
    assert first["created"] and not again["created"] and first["line_id"] == again["line_id"]
    assert first["state"] == again["state"] == "matched"
    assert one["created"] and other["created"] and one["line_id"] != other["line_id"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1
    fingerprints = db.session.scalars(sa.select(BankLine.fingerprint).where(
        BankLine.id.in_([one["line_id"], other["line_id"]]))).all()
    assert len(set(fingerprints)) == 2


def test_a_bad_delivery_in_a_group_fails_alone(app, client, secrets):
    """A delivery that cannot be applied fails its own request; the others of its group are
    applied again one by one and succeed, and nothing of the bad one is written."""
    import dataclasses

    from app.adapters.bank_lines import BankInputError

    bh.account()
    pledges = [pledge_from_form(client, email=f"e{n}@example.com") for n in range(3)]
    deliveries = [_parsed(p, txn_id=700 + n) for n, p in enumerate(pledges)]
    deliveries[1] = [dataclasses.replace(deliveries[1][0], amount=10 ** 15)]  # beyond any amount we keep
    db.session.commit()
    outcomes, group = _held_group(app, deliveries)
    assert group.sizes == {3: 1}
    assert isinstance(outcomes[1], BankInputError), repr(outcomes[1])
    assert not isinstance(outcomes[0], Exception), repr(outcomes[0])
    assert outcomes[0][0]["state"] == outcomes[2][0]["state"] == "matched"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 2
    assert db.session.get(TransferPledge, pledges[1].id).status == "pending"
    assert sorted(r.sequence for r in db.session.scalars(sa.select(Receipt))) == [1, 2]

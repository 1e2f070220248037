"""Issue 13, gaps found walking through "What a user gets" and "Bad input": a statement in
another currency, the balance of an account carried from one statement to the next, the
worker expiring pledges without cron, zero or negative credits and a code in a debit."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.adapters.statements import StatementError
from app.extensions import db
from app.models import BankLine, Donation, PledgeStatus, Role, TransferPledge
from app.services.audit import Actor
from app.services.bank import reconcile, statements
from app.services.bank.pledges import create_pledge
from app.services.bank.transfers import sepay_payload
from app.services.donations.online import DonationRequest
from tests import bank_helpers as bh
from tests import bank_statements as gen

ACTOR = Actor.system("tests")


def _pledge(amount=500_000):
    return create_pledge(DonationRequest(kind="individual", name="Nguyễn Văn A", email="a@example.com",
                                         amount=amount), ACTOR, minimum=10_000, expiry_days=7)


@pytest.mark.parametrize("label", ["Loại tiền: USD", "Currency/Loại tiền: EUR", "LOẠI TIỀN / CURRENCY : JPY"])
def test_a_statement_in_another_currency_is_refused_in_one_sentence(label):
    bh.account()
    cells = gen.table("vietcombank", gen.sample_rows())
    cells.insert(3, [label])
    with pytest.raises(StatementError, match="Quỹ chỉ nhận sao kê tài khoản bằng đồng Việt Nam"):
        statements.plan_statement(gen.xlsx(cells), "x.xlsx")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 0


def test_a_vnd_label_or_a_currency_word_in_a_header_is_fine():
    bh.account()
    cells = gen.table("vietcombank", gen.sample_rows())
    cells.insert(3, ["Loại tiền/Currency: VND"])
    assert len(statements.plan_statement(gen.xlsx(cells), "x.xlsx").new) == 5


def test_the_next_statement_must_open_with_the_previous_closing_balance(client, login_as):
    bh.account()
    first = gen.sample_rows()
    statements.import_file(gen.xlsx(gen.table("vietcombank", first)), "thang11-a.xlsx", ACTOR)
    closing = 10_000_000 + sum((c or 0) - (d or 0) for _w, d, c, *_ in first)
    later = [(datetime(2026, 11, 25, 9, 0), None, 700_000, "ung ho", "FT26329001", "LE VAN C")]
    statements.import_file(gen.xlsx(gen.table("vietcombank", later, opening=closing)), "ok.xlsx", ACTOR)
    gap = [(datetime(2026, 11, 27, 9, 0), None, 800_000, "ung ho", "FT26331001", "LE VAN D")]
    statements.import_file(gen.xlsx(gen.table("vietcombank", gap, opening=closing + 700_000 + 50_000)),
                           "thieu.xlsx", ACTOR)
    checks = {c.statement.file_name: c for c in reconcile.balance_checks()}
    assert checks["thang11-a.xlsx"].ok and checks["ok.xlsx"].ok
    (difference,) = checks["thieu.xlsx"].differences
    assert "khác số dư cuối kỳ" in difference and "ok.xlsx" in difference and "chênh 50.000" in difference
    login_as(Role.ACCOUNTANT)
    assert "có thể thiếu sao kê" in client.get("/staff/bank").get_data(as_text=True)


def test_the_worker_expires_pledges_every_hour(app, tmp_path, monkeypatch):
    from app.services.jobs.tasks import init_queue

    bh.account()
    pledge = _pledge()
    db.session.execute(sa.update(TransferPledge).values(expires_at=datetime.now(timezone.utc) - timedelta(days=1)))
    db.session.commit()
    saved = app.extensions["queue"]
    monkeypatch.setitem(app.config, "QUEUE_URL", f"sqlite:///{tmp_path / 'q.db'}")
    try:
        queue = init_queue(app)
        task = queue.tasks["bank.expire_pledges"]
        assert task.s().validate_datetime(datetime(2026, 12, 2, 3, 7))  # minute 7 of every hour
        assert not task.s().validate_datetime(datetime(2026, 12, 2, 3, 8))
        assert task.call_local() == 1
    finally:
        app.extensions["queue"] = saved
    db.session.expire_all()
    assert db.session.get(TransferPledge, pledge.id).status == PledgeStatus.EXPIRED.value


@pytest.fixture
def secrets(app, monkeypatch):
    for name, value in bh.BANK_SECRETS.items():
        monkeypatch.setitem(app.config, name, value)


@pytest.mark.parametrize("changes", [{"transferAmount": 0}, {"transferAmount": -500_000},
                                     {"transferType": "out"}])
def test_zero_negative_or_debit_with_a_code_is_never_a_donation(client, secrets, changes):
    bh.account()
    pledge = _pledge()
    body = {**sepay_payload(pledge, txn_id=77), **changes}
    response = client.post("/payments/sepay/webhook", data=json.dumps(body).encode(), headers=bh.sepay_headers())
    assert response.status_code in (200, 400)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0
    db.session.expire_all()
    assert db.session.get(TransferPledge, pledge.id).status == PledgeStatus.PENDING.value
    for line in db.session.scalars(sa.select(BankLine)):
        assert line.state == "ignored" and line.donation_id is None

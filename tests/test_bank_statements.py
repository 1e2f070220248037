"""Statement import: every layout, re-import adds nothing, webhook + statement are one line,
balances, broken files refused whole, and the CLI."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.adapters.statements import StatementError, detect_layout, parse_amount, read_rows
from app.extensions import db
from app.models import BankLine, BankStatementImport, Donation, Receipt, TransferPledge, OutboxMessage
from app.services.audit import Actor
from app.services.bank import statements
from app.services.bank.pledges import create_pledge
from app.services.donations.online import DonationRequest
from tests import bank_helpers as bh
from tests import bank_statements as gen

ACTOR = Actor.system("tests")


def pledge(amount=500_000, name="Nguyễn Văn A", email="a@example.com"):
    return create_pledge(DonationRequest(kind="individual", name=name, email=email, amount=amount), ACTOR,
                         minimum=10_000, expiry_days=7)


def states():
    db.session.expire_all()
    return [(l.amount, l.direction, l.state) for l in db.session.scalars(sa.select(BankLine).order_by(BankLine.booked_at, BankLine.id))]


@pytest.mark.parametrize("layout", gen.LAYOUTS)
@pytest.mark.parametrize("money", ["number", "comma", "dot"])
def test_every_layout_is_recognised_and_matched(layout, money):
    bh.account()
    factory_donor = None
    p = pledge()
    data = gen.xlsx(gen.table(layout, gen.sample_rows(p.code), money=money))
    plan, record = statements.import_file(data, f"{layout}.xlsx", ACTOR)
    assert plan.layout == layout and record.rows == 5 and record.new_lines == 5
    assert (record.opening_balance, record.closing_balance, record.differences) == (10_000_000, 12_790_234, None)
    assert states() == [(500_000, "credit", "matched"), (2_000_000, "credit", "suggested"),
                        (11_000, "debit", "ignored"), (300_000, "credit", "unmatched"), (1_234, "credit", "unmatched")]
    donation = db.session.scalars(sa.select(Donation)).one()
    assert (donation.amount, donation.status, donation.donor.name) == (500_000, "confirmed", "Nguyễn Văn A")
    assert db.session.scalars(sa.select(Receipt)).one().donation_id == donation.id
    assert db.session.scalars(sa.select(OutboxMessage)).one().to_address == "a@example.com"
    assert db.session.get(TransferPledge, p.id).status == "received"
    mo_tim = db.session.scalars(sa.select(BankLine).where(BankLine.amount == 2_000_000)).one()
    assert "mo tim" in mo_tim.state_reason and mo_tim.suggestion["programme_id"]
    again, record2 = statements.import_file(data, f"{layout}.xlsx", ACTOR)
    assert again.known == 5 and record2.new_lines == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1


def test_csv_with_comma_amounts():
    bh.account()
    p = pledge()
    plan, record = statements.import_file(gen.csv_bytes(gen.table("vietcombank", gen.sample_rows(p.code), money="comma")),
                                          "sao-ke.csv", ACTOR)
    assert plan.layout == "vietcombank" and record.new_lines == 5


def test_a_webhook_line_and_the_statement_row_of_the_same_transfer_are_one(client, app, monkeypatch):
    import json

    from app.services.bank.transfers import sepay_payload

    monkeypatch.setitem(app.config, "SEPAY_API_KEY", bh.SEPAY_KEY)
    bh.account()
    p = pledge()
    payload = sepay_payload(p, txn_id=1, when=datetime(2026, 11, 20, 2, 15, tzinfo=__import__("datetime").timezone.utc),
                            memo=f"MBVCB.4525077405.{p.code}.NGUYEN VAN A chuyen tien")
    payload["referenceCode"] = None  # no reference: the fingerprint decides
    client.post("/payments/sepay/webhook", data=json.dumps(payload), headers=bh.sepay_headers())
    plan, record = statements.import_file(gen.xlsx(gen.table("bidv", gen.sample_rows(p.code))), "bidv.xlsx", ACTOR)
    assert plan.known == 1 and record.new_lines == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1


def test_balance_differences_are_listed():
    bh.account()
    plan, record = statements.import_file(gen.xlsx(gen.table("vietcombank", gen.sample_rows(), closing=99)), "x.xlsx", ACTOR)
    assert any("chênh" in d for d in record.differences)


@pytest.mark.parametrize("make, message", [
    (lambda: b"hello, world\n1,2\n", "Không nhận ra mẫu sao kê"),
    (lambda: b"PK\x03\x04 broken", "không phải bảng tính XLSX"),
    (lambda: gen.xlsx(gen.table("vietcombank", gen.sample_rows(), account="9999999999")), "Quỹ không có tài khoản số 9999999999"),
])
def test_files_that_are_not_our_statements_get_one_clear_sentence(make, message):
    bh.account()
    with pytest.raises(StatementError, match=message):
        statements.plan_statement(make(), "x.xlsx" if make()[:2] == b"PK" else "x.csv")


def test_bad_rows_refuse_the_whole_file_with_row_numbers():
    bh.account()
    cells = gen.table("vietcombank", gen.sample_rows())
    cells[6][4] = "500.000,50"  # fractional đồng
    cells[7][1] = "32/13/2026"
    with pytest.raises(StatementError) as error:
        statements.plan_statement(gen.xlsx(cells), "x.xlsx")
    assert [row for row, _ in error.value.errors] == [7, 8]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 0


def test_an_admin_defined_layout_reads_another_bank():
    from app.models import BankLayout

    bh.account()
    db.session.add(BankLayout(name="agribank", config={
        "label": "Agribank", "titles": ["agribank"], "header_row": 3,
        "columns": {"date": "A", "memo": "B", "amount": "C", "reference": "D"},
        "date_formats": ["%d/%m/%Y"], "opening": [], "closing": [], "footer": ["tong"]}))
    db.session.commit()
    cells = [["AGRIBANK - SAO KÊ"], ["Số tài khoản: 0011001234567"], ["Ngày", "Diễn giải", "Số tiền", "Số CT"],
             ["20/11/2026", "ung ho hoc bong", "1.000.000", "AG1"], ["21/11/2026", "phi", "-5.000", "AG2"],
             ["Tổng", None, "995.000"]]
    plan = statements.plan_statement(gen.csv_bytes(cells), "agri.csv", layout="agribank")
    assert [(l.direction, l.amount) for l, _ in plan.new] == [("credit", 1_000_000), ("debit", 5_000)]
    with pytest.raises(StatementError, match="Không có mẫu sao kê “khong-co”"):
        statements.plan_statement(gen.csv_bytes(cells), "agri.csv", layout="khong-co")


@pytest.mark.nodb
@pytest.mark.parametrize("text, value", [("1,000,000", 1_000_000), ("1.000.000", 1_000_000), (1000000, 1_000_000),
                                         ("1,000,000.00", 1_000_000), ("500", 500), ("(5.000)", -5000), ("", None)])
def test_amounts_as_banks_print_them(text, value):
    assert parse_amount(text) == value


def test_cli_imports_and_reimports(runner, tmp_path):
    bh.account()
    p = pledge()
    path = tmp_path / "mb.xlsx"
    path.write_bytes(gen.xlsx(gen.table("mb", gen.sample_rows(p.code))))
    result = runner.invoke(args=["bank", "import", str(path), "--layout", "auto"])
    assert result.exit_code == 0, result.output
    assert "5 new" in result.output and "matched 1" in result.output
    result = runner.invoke(args=["bank", "import", str(path), "--account", "0011001234567", "--layout", "mb"])
    assert result.exit_code == 0 and "0 new, 5 already recorded" in result.output
    bad = runner.invoke(args=["bank", "import", str(path), "--account", "123456789"])
    assert bad.exit_code != 0 and "không phải tài khoản 123456789" in bad.output


def test_with_placeholder_settings_a_statement_confirms_the_gift_and_defers_its_receipt():
    """The bulk path follows the one-by-one rule: money confirmed, receipt issued later."""
    from app.models import FundSettings
    from app.services.receipts.issuing import issue_deferred_receipts
    from app.services.setup import DEFAULT_SETTINGS

    settings = db.session.get(FundSettings, 1)
    saved = {name: getattr(settings, name) for name in ("signatory_name", "signatory_title", "address")}
    for name in saved:
        setattr(settings, name, DEFAULT_SETTINGS[name])
    db.session.commit()
    bh.account()
    p = pledge()
    statements.import_file(gen.csv_bytes(gen.table("vietcombank", gen.sample_rows(p.code))), "vcb.csv", ACTOR)
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.status == "confirmed" and donation.receipt_deferred
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    settings = db.session.get(FundSettings, 1)
    for name, value in saved.items():
        setattr(settings, name, value)
    db.session.commit()
    assert issue_deferred_receipts(ACTOR) == 1
    assert db.session.scalars(sa.select(Receipt)).one().donation_id == donation.id


def test_a_big_statement_is_matched_set_based():
    """Importing many lines costs a bounded number of statements, not a few per line."""
    from sqlalchemy import event

    bh.account()
    pledges = [pledge(amount=100_000 + n * 1000, name=f"Nguyễn Văn {n}", email=f"n{n}@example.com")
               for n in range(30)]
    rows = [(datetime(2026, 11, 20, 9, n), None, p.amount, f"MBVCB.{n}.{p.code}.NGUYEN VAN {n} chuyen tien",
             f"FT{n:08d}", f"NGUYEN VAN {n}") for n, p in enumerate(pledges)]
    data = gen.csv_bytes(gen.table("vietcombank", rows))
    plan = statements.plan_statement(data, "vcb.csv")
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        statements.import_statement(plan, ACTOR)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 30
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 30
    assert {p.status for p in db.session.scalars(sa.select(TransferPledge))} == {"received"}
    assert len(seen) < 40, seen


def test_identical_transfers_of_one_day_stay_apart_past_the_first_look_up(client, app, monkeypatch):
    """Ten equal gifts on one day with the same memo and no bank reference: ten lines, the
    n-th with the n-th occurrence's fingerprint (the look-up tries eight first, then all),
    and a provider's re-delivery of any of them adds nothing."""
    import json

    from app.services.bank.lines import FIRST_TWINS, base_fingerprint, fingerprint

    monkeypatch.setitem(app.config, "SEPAY_API_KEY", bh.SEPAY_KEY)
    bh.account()
    when = "2026-11-20 09:15:00"
    bodies = [json.dumps({"id": 500 + n, "gateway": "VCB", "transactionDate": when, "accountNumber": "0011001234567",
                          "content": "UNG HO QUY", "transferType": "in", "transferAmount": 200000,
                          "referenceCode": None}) for n in range(FIRST_TWINS + 2)]
    for body in bodies + bodies[-3:]:
        assert client.post("/payments/sepay/webhook", data=body, headers=bh.sepay_headers()).status_code == 200
    lines = db.session.scalars(sa.select(BankLine).order_by(BankLine.id)).all()
    base = base_fingerprint("credit", 200000, lines[0].booked_at, "UNG HO QUY")
    assert [line.fingerprint for line in lines] == [fingerprint(base, n) for n in range(1, FIRST_TWINS + 3)]

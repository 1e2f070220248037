"""Statement rows the banks print that are not plain money in đồng: a row of 0 ₫ is kept as
a line set aside as "not a donation" (the file is not refused for it), and a currency column
inside the table refuses the rows in another currency, by row number (issue 13)."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.adapters.statements import StatementError, parse_statement, read_rows
from app.extensions import db
from app.models import BankLine, Donation
from app.services.audit import Actor
from app.services.bank import statements
from app.services.bank.pledges import create_pledge
from app.services.donations.online import DonationRequest
from tests import bank_helpers as bh
from tests import bank_statements as gen

ACTOR = Actor.system("tests")


@pytest.mark.parametrize("layout", gen.LAYOUTS)
def test_a_zero_row_is_kept_aside_and_the_rest_of_the_file_is_imported(layout):
    bh.account()
    pledge = create_pledge(DonationRequest(kind="individual", name="Nguyễn Văn A", email="a@example.com",
                                           amount=500_000), ACTOR, minimum=10_000, expiry_days=7)
    rows = [(datetime(2026, 11, 20, 9, 15), None, 500_000, f"MBVCB.1.{pledge.code}.chuyen tien", "FT1", "NGUYEN VAN A"),
            (datetime(2026, 11, 20, 9, 30), None, 0, "Thong bao phi 0 dong", "FT2", None),
            (datetime(2026, 11, 20, 10, 0), 0, None, "Hoan phi", "FT3", None)]
    plan, record = statements.import_file(gen.xlsx(gen.table(layout, rows)), f"{layout}.xlsx", ACTOR)
    assert record.new_lines == 3 and record.differences is None
    lines = db.session.scalars(sa.select(BankLine).order_by(BankLine.booked_at)).all()
    assert [(l.amount, l.state) for l in lines] == [(500_000, "matched"), (0, "ignored"), (0, "ignored")]
    assert lines[1].state_reason == "Số tiền bằng 0: không phải khoản ủng hộ."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1
    again, record2 = statements.import_file(gen.xlsx(gen.table(layout, rows)), f"{layout}.xlsx", ACTOR)
    assert record2.new_lines == 0  # the zero rows are known on the second import too


def _with_currency(currencies: list[str]) -> list[list]:
    rows = [(datetime(2026, 11, 20, 9, n), None, 100_000 * (n + 1), f"ung ho {n}", f"FT{n}", None)
            for n in range(len(currencies))]
    cells = gen.table("vietcombank", rows)
    header = next(i for i, row in enumerate(cells) if row and row[0] == "STT/\nNo.")
    cells[header] = [*cells[header], "Loại tiền/\nCurrency"]
    for n, currency in enumerate(currencies):
        cells[header + 1 + n] = [*cells[header + 1 + n], currency]
    return cells


def test_a_currency_column_refuses_the_rows_in_another_currency_by_number():
    cells = _with_currency(["VND", "USD", "vnd", ""])
    with pytest.raises(StatementError) as refused:
        parse_statement(read_rows(gen.xlsx(cells), "s.xlsx"), "vietcombank")
    assert refused.value.errors == [(8, "giao dịch bằng USD: Quỹ chỉ nhận tiền đồng (VND)")]
    statement = parse_statement(read_rows(gen.xlsx(_with_currency(["VND", "VNĐ", ""])), "s.xlsx"), "vietcombank")
    assert [line.amount for line in statement.lines] == [100_000, 200_000, 300_000]

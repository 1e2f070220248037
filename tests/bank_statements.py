"""Generate statement files in each bank's layout (for tests and the benchmark).

    .venv/bin/python -m tests.bank_statements OUTDIR    # writes one XLSX per layout + one CSV

Each file has the title and account rows, bilingual headers with line breaks, an opening
balance, the transactions and a total/closing-balance row, as the banks' exports do.
`rows` are (local datetime, debit, credit, memo, reference, sender) tuples.
"""
from __future__ import annotations

import csv
import io
import sys
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

ACCOUNT = "0011001234567"


def _money(value, style):
    if value is None:
        return None
    return {"number": value, "comma": f"{value:,}", "dot": f"{value:,}".replace(",", ".")}[style]


def table(layout: str, rows, *, account: str = ACCOUNT, opening: int = 10_000_000, closing: int | None = None,
          money: str = "number") -> list[list]:
    credits = sum(r[2] or 0 for r in rows)
    debits = sum(r[1] or 0 for r in rows)
    closing = opening + credits - debits if closing is None else closing
    balance = opening
    out: list[list] = []
    if layout == "vietcombank":
        out += [["NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM - VIETCOMBANK"], ["SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT"],
                [f"Số tài khoản/ Account number: {account}"], ["Số dư đầu kỳ/ Opening balance", None, None, None, None, _money(opening, money)],
                [], ["STT/\nNo.", "Ngày giao dịch/\nTransaction date", "Số tham chiếu/\nReference No.",
                     "Số tiền ghi nợ/\nDebit", "Số tiền ghi có/\nCredit", "Số dư/\nBalance",
                     "Nội dung chi tiết/\nTransactions in detail"]]
        for n, (when, debit, credit, memo, ref, _sender) in enumerate(rows, 1):
            balance += (credit or 0) - (debit or 0)
            out.append([n, when.strftime("%d/%m/%Y %H:%M:%S"), ref, _money(debit, money), _money(credit, money),
                        _money(balance, money), memo])
        out += [["Tổng/ Total", None, None, _money(debits, money), _money(credits, money)],
                ["Số dư cuối kỳ/ Closing balance", None, None, None, None, _money(closing, money)]]
    elif layout == "vietinbank":
        out += [["LỊCH SỬ GIAO DỊCH - TRANSACTION HISTORY"], [f"Số tài khoản/Account no: {account}"],
                [], ["STT", "Ngày hạch toán/\nAccounting date", "Mô tả giao dịch/\nDescription",
                     "Nợ/ Debit", "Có / Credit", "Số dư TK", "Số giao dịch", "Tên đối ứng/\nCorresponsive name"]]
        out.append([None, "Số dư đầu kỳ", None, None, None, _money(opening, money)])
        previous = None
        for n, (when, debit, credit, memo, ref, sender) in enumerate(rows, 1):
            balance += (credit or 0) - (debit or 0)
            day = when.strftime("%d/%m/%Y")
            out.append([n, None if day == previous else day, memo, _money(debit, money), _money(credit, money),
                        _money(balance, money), ref, sender])
            previous = day
        out.append([None, "Số dư cuối kỳ", None, None, None, _money(closing, money)])
    elif layout == "bidv":
        out += [["BÁO CÁO CHI TIẾT SỐ DƯ TÀI KHOẢN"], [f"Tài khoản: {account}"], [],
                ["NGÀY HIỆU LỰC", "SỐ CT", "GHI NỢ", "GHI CÓ", "SỐ DƯ", "MÔ TẢ"],
                ["DƯ ĐẦU", None, None, None, _money(opening, money), None]]
        for when, debit, credit, memo, ref, _sender in rows:
            balance += (credit or 0) - (debit or 0)
            out.append([when.strftime("%d/%m/%Y"), ref, _money(debit, money), _money(credit, money),
                        _money(balance, money), memo])
        out.append(["DƯ CUỐI", None, None, None, _money(closing, money), None])
    elif layout == "mb":
        out += [["NGÂN HÀNG TMCP QUÂN ĐỘI"], ["SAO KÊ CHI TIẾT TÀI KHOẢN"], [f"Số tài khoản: {account}"], [],
                ["STT", "NGÀY HẠCH TOÁN/POSTING DATE", "SỐ BÚT TOÁN", "PHÁT SINH NỢ", "PHÁT SINH CÓ", "SỐ DƯ",
                 "NỘI DUNG", "TÊN TK ĐỐI ỨNG", "SỐ TK ĐỐI ỨNG"],
                [None, "Số dư đầu kỳ", None, None, None, _money(opening, money)]]
        for n, (when, debit, credit, memo, ref, sender) in enumerate(rows, 1):
            balance += (credit or 0) - (debit or 0)
            out.append([n, when.strftime("%d/%m/%Y %H:%M"), ref, _money(debit, money), _money(credit, money),
                        _money(balance, money), memo, sender, None])
        out += [["Tổng cộng", None, None, _money(debits, money), _money(credits, money)],
                [None, "Số dư cuối kỳ", None, None, None, _money(closing, money)]]
    elif layout == "techcombank":
        out += [["Techcombank"], ["SAO KÊ TÀI KHOẢN/ ACCOUNT STATEMENT"], [f"Số tài khoản/ Account No.: {account}"],
                ["Số dư đầu kỳ/ Opening balance:", None, None, None, _money(opening, money)], [],
                ["Ngày giao dịch/\nTransaction Date", "Đối tác/\nRemitter", "Diễn giải/\nDetails",
                 "Nợ/Debit", "Có/Credit", "Số dư/\nBalance"]]
        for when, debit, credit, memo, ref, sender in rows:
            balance += (credit or 0) - (debit or 0)
            wrapped = memo if len(memo) < 20 else memo[:17] + "\n" + memo[17:]  # wraps mid-word
            out.append([f"{when:%d/%m/%Y}\n{ref}", sender, wrapped, _money(debit, money), _money(credit, money),
                        _money(balance, money)])
        out += [["Số dư cuối kỳ/ Closing balance:", None, None, None, _money(closing, money)]]
    else:
        raise ValueError(layout)
    return out


def xlsx(cells: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sao ke")
    for row in cells:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(cells: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["" if c is None else c for c in row] for row in cells])
    return out.getvalue().encode("utf-8-sig")


LAYOUTS = ("vietcombank", "vietinbank", "bidv", "mb", "techcombank")


def sample_rows(code: str = "QBTE7K3M9XA"):
    return [
        (datetime(2026, 11, 20, 9, 15), None, 500_000, f"MBVCB.4525077405.{code}.NGUYEN VAN A chuyen tien",
         "FT26324001", "NGUYEN VAN A"),
        (datetime(2026, 11, 20, 10, 2), None, 2_000_000, "CONG TY TNHH ABC UNG HO MO TIM", "FT26324002",
         "CONG TY TNHH ABC"),
        (datetime(2026, 11, 20, 16, 40), 11_000, None, "Phi quan ly tai khoan", "FT26324003", None),
        (datetime(2026, 11, 21, 8, 5), None, 300_000, "ung ho quy tre em", "FT26325001", "TRAN THI B"),
        (datetime(2026, 11, 21, 8, 30), None, 1_234, "Tra lai tien gui", "FT26325002", None),
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "statements")
    target.mkdir(parents=True, exist_ok=True)
    for name in LAYOUTS:
        (target / f"{name}.xlsx").write_bytes(xlsx(table(name, sample_rows())))
    (target / "vietcombank.csv").write_bytes(csv_bytes(table("vietcombank", sample_rows(), money="comma")))
    print(f"wrote {len(LAYOUTS) + 1} files to {target}")

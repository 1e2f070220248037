"""One engine for every statement layout (see __init__ and layouts.py).

Messages a person reads (a refused file, a bad row) are in the reader's language (`_`, at
run time: the staff member's on the web, CLI_LANG in the `flask` command). A statement's
balance differences are lazy (`_l`): shown in the reader's language, stored in Vietnamese
(app/services/bank/statements.py)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from app.adapters.bank_lines import CREDIT, DEBIT, VIETNAM, BankInputError, ParsedLine
from app.adapters.statements.layouts import BUILT_IN
from app.i18n import _, _l, money, ngettext
from app.text import fold

MAX_ERRORS = 50
SCAN_ROWS = 40  # title, account and header rows are within the first rows


class _Amount(int):
    """An amount inside a lazy message: grouped the reader's way when the message is shown."""

    def __str__(self) -> str:
        return money(int(self), symbol=False)


class StatementError(BankInputError):
    """The file is refused whole; `errors` lists (row number, message) when rows are bad."""

    def __init__(self, message: str, errors: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass
class Statement:
    layout: str
    account_number: str | None
    lines: list[ParsedLine] = field(default_factory=list)
    opening_balance: int | None = None
    closing_balance: int | None = None
    differences: list[str] = field(default_factory=list)  # balance checks that failed

    @property
    def credit_total(self) -> int:
        return sum(l.amount for l in self.lines if l.direction == CREDIT)

    @property
    def debit_total(self) -> int:
        return sum(l.amount for l in self.lines if l.direction == DEBIT)


# --------------------------------------------------------------------------- reading files

def read_rows(data: bytes, file_name: str) -> list[list]:
    """Cells of the first sheet (XLSX) or of a CSV (UTF-8, with or without BOM; or
    Windows-1258/1252 as some banks export). Raises StatementError for anything else."""
    name = (file_name or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any reader failure means "not a workbook we can read"
            raise StatementError(_("Tệp không phải bảng tính XLSX đọc được. Cần tệp sao kê XLSX hoặc CSV "
                                   "tải từ ngân hàng điện tử.")) from None
        sheet = book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    if name.endswith(".xls"):
        raise StatementError(_("Tệp .xls (Excel cũ) chưa được hỗ trợ: mở bằng Excel/LibreOffice và lưu lại dạng "
                               ".xlsx hoặc .csv."))
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise StatementError(_("Tệp CSV không đọc được (cần mã hóa UTF-8)."))
    if "\x00" in text:
        raise StatementError(_("Tệp không phải sao kê dạng XLSX hoặc CSV."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _cell(value) -> str:
    if type(value) is str:  # CSV cells: the fast path
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _folded(value) -> str:
    return fold(_cell(value).replace("\n", " "))


# --------------------------------------------------------------------------- layout detection

def _column_letter(text: str) -> int | None:
    if re.fullmatch(r"[A-Za-z]{1,2}", text or ""):
        n = 0
        for c in text.upper():
            n = n * 26 + ord(c) - 64
        return n - 1
    return None


def _map_header(row: list, columns: dict) -> dict[str, int]:
    cells = [_folded(c) for c in row]
    found: dict[str, int] = {}
    for key, words in columns.items():
        words = [words] if isinstance(words, str) else words
        for word in words:
            index = _column_letter(word)
            if index is not None:
                found[key] = index
                break
            word = fold(word)
            hit = next((i for i, c in enumerate(cells) if c and word in c and i not in found.values()), None)
            if hit is not None:
                found[key] = hit
                break
    return found


def _usable(found: dict[str, int]) -> bool:
    return "date" in found and ("amount" in found or ("debit" in found and "credit" in found))


def find_header(rows: list[list], layout: dict) -> tuple[int, dict[str, int]] | None:
    if layout.get("header_row"):
        index = int(layout["header_row"]) - 1
        if 0 <= index < len(rows):
            found = _map_header(rows[index], layout["columns"])
            if _usable(found):
                return index, found
        return None
    best = None
    for index, row in enumerate(rows[:SCAN_ROWS]):
        found = _map_header(row, layout["columns"])
        if _usable(found) and (best is None or len(found) > len(best[1])):
            best = (index, found)
    return best


def _top_text(rows: list[list]) -> str:
    return " | ".join(_folded(c) for row in rows[:SCAN_ROWS] for c in row if c not in (None, ""))


def detect_layout(rows: list[list], custom: dict[str, dict] | None = None) -> str:
    """The name of the layout whose title words appear at the top and whose headers are
    found; StatementError (one sentence, naming what was expected) otherwise."""
    top = _top_text(rows)
    candidates = []
    for name, layout in {**BUILT_IN, **(custom or {})}.items():
        titles = [fold(t) for t in layout.get("titles") or []]
        header = find_header(rows, layout)
        if header is None:
            continue
        score = len(header[1]) + (10 if any(t and t in top for t in titles) else 0)
        if titles and score < 10:
            continue  # a bank's layout is recognised by its title, not by headers alone
        candidates.append((score, name))
    if not candidates:
        names = ", ".join(layout.get("label", name) for name, layout in BUILT_IN.items())
        raise StatementError(_("Không nhận ra mẫu sao kê: cần tệp sao kê của %(banks)s hoặc một mẫu cột "
                               "do quản trị viên khai báo (chọn --layout TÊN).", banks=names))
    candidates.sort(reverse=True)
    return candidates[0][1]


# --------------------------------------------------------------------------- values

_GROUPED = re.compile(r"^\d{1,3}([.,]\d{3})+$")


def parse_amount(value) -> int | None:
    """Whole đồng from a cell: numbers, or text with ',' or '.' grouping ("1,000,000",
    "1.000.000", "1,000,000.00"). None for a blank cell; BankInputError for fractions."""
    if value is None:
        return None
    if type(value) is str:
        stripped = value.strip()
        if not stripped:
            return None
        if stripped.isascii() and stripped.isdecimal():  # the common case: "1500000"
            return int(stripped)
    if isinstance(value, bool):
        raise BankInputError(_("số tiền không hợp lệ"))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise BankInputError(_("số tiền %(value)s không phải số nguyên đồng", value=value))
        return int(value)
    text = str(value).strip().replace(" ", "").replace("\u00a0", "").replace("VND", "").replace("đ", "")
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    text = text.strip("-()+")
    if not text:
        return None
    match = re.fullmatch(r"(.+?)([.,])(\d{1,2})", text)
    if match and not _GROUPED.match(text):
        if int(match.group(3)) != 0:
            raise BankInputError(_("số tiền %(value)s không phải số nguyên đồng", value=value))
        text = match.group(1)
    if _GROUPED.match(text):
        text = re.sub(r"[.,]", "", text)
    if not text.isdecimal():
        raise BankInputError(_("số tiền không đọc được: %(value)s", value=repr(value)))
    amount = int(text)
    return -amount if negative else amount


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_VN_DELTA = timedelta(hours=7)  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving since 1975


def parse_date(value, formats: list[str]) -> datetime | None:
    """Aware UTC from a date cell (Vietnam local time in the file). None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and "%d/%m/%Y" in " ".join(formats):
        match = _DMY.fullmatch(value.strip())
        if match:  # the common case, without strptime
            d, m, y, hh, mm, ss = match.groups()
            try:
                local = datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            except ValueError:
                raise BankInputError(_("ngày không đọc được: %(value)s (cần dd/mm/yyyy)", value=repr(value))) from None
            return (local - _VN_DELTA).replace(tzinfo=timezone.utc)  # = local in UTC+7, as UTC
    if isinstance(value, datetime):
        local = value
    elif isinstance(value, date):
        local = datetime.combine(value, time())
    else:
        text = " ".join(str(value).split())
        for fmt in formats:
            try:
                local = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise BankInputError(_("ngày không đọc được: %(value)s (cần dd/mm/yyyy)", value=repr(value)))
    return local.replace(tzinfo=VIETNAM).astimezone(timezone.utc)


_ACCOUNT = re.compile(r"(?:so tai khoan|tai khoan|account(?: number| no\.?)?)\s*[:/]?\s*(?:[a-z ./]*:)?\s*([0-9][0-9 .]{5,22}[0-9])")


def find_account(rows: list[list]) -> str | None:
    for row in rows[:SCAN_ROWS]:
        joined = " ".join(_folded(c) for c in row if c not in (None, ""))
        match = _ACCOUNT.search(joined)
        if match:
            return re.sub(r"[ .]", "", match.group(1))
    return None


_CURRENCY = re.compile(r"(?:loai tien|currency|tien te|don vi tien|ccy)\s*[:/]?\s*(?:[a-z ./]*:)?\s*([a-z]{3})\b")


_CODES = {"VND", "USD", "EUR", "JPY", "CNY", "KRW", "GBP", "AUD", "SGD", "THB", "HKD", "CAD", "CHF", "TWD", "LAK", "KHR"}


def find_currency(rows: list[list]) -> str | None:
    """The currency a statement states above its table ("Loại tiền: VND", "Currency: USD");
    only a known currency code counts, so a label followed by other words is no answer."""
    for row in rows[:SCAN_ROWS]:
        joined = " ".join(_folded(c) for c in row if c not in (None, ""))
        for match in _CURRENCY.finditer(joined):
            if match.group(1).upper() in _CODES:
                return match.group(1).upper()
    return None


# --------------------------------------------------------------------------- parsing

_CURRENCY_HEADING = re.compile(r"^(?:loai tien(?: te)?|tien te|don vi tien(?: te)?|currency|ccy)\b")


def _currency_column(header: list, cols: dict[str, int]) -> int | None:
    """A "Loại tiền" / "Currency" column in the table itself (not one the layout reads)."""
    return next((i for i, cell in enumerate(header)
                 if i not in cols.values() and _CURRENCY_HEADING.match(_folded(cell))), None)


def parse_statement(rows: list[list], layout_name: str, layout: dict | None = None) -> Statement:
    """Parse rows with a layout. Refuses the whole file (StatementError with row numbers)
    if any row is bad; balance differences are reported, not refused."""
    layout = layout or BUILT_IN[layout_name]
    header = find_header(rows, layout)
    if header is None:
        raise StatementError(_("Không tìm thấy dòng tiêu đề cột của mẫu %(layout)s "
                               "(ngày, ghi nợ/ghi có hoặc số tiền, nội dung).", layout=layout.get("label", layout_name)))
    header_index, cols = header
    currency_col = _currency_column(rows[header_index], cols)
    currency = find_currency(rows[:header_index])
    if currency not in (None, "VND"):
        raise StatementError(_("Sao kê này bằng %(currency)s: Quỹ chỉ nhận sao kê tài khoản bằng đồng Việt Nam (VND).",
                               currency=currency))
    formats = layout.get("date_formats") or BUILT_IN["vietcombank"]["date_formats"]
    opening_words = [fold(w) for w in layout.get("opening", [])]
    closing_words = [fold(w) for w in layout.get("closing", [])]
    footer_words = [fold(w) for w in layout.get("footer", [])]
    statement = Statement(layout=layout_name, account_number=find_account(rows[:header_index + 1]))
    errors: list[tuple[int, str]] = []
    for row in rows[:header_index]:  # opening balance printed above the table
        _balance_row(row, opening_words, closing_words, statement)

    def get(row, key):
        index = cols.get(key)
        return row[index] if index is not None and index < len(row) else None

    if cols.get("sender_name") is None and cols.get("sender_account") is None:
        def sender(row):  # most layouts have no sender columns
            return None, None
    else:
        def sender(row):
            return _cell(get(row, "sender_name")) or None, _cell(get(row, "sender_account")) or None

    last_date = None
    previous_balance = statement.opening_balance
    with_reference = bool(layout.get("date_with_reference"))
    for index in range(header_index + 1, len(rows)):
        row, number = rows[index], index + 1
        try:
            blank = not "".join(row).strip()  # CSV rows: all text
        except TypeError:
            blank = not any(_cell(c) for c in row)
        if blank:
            continue
        date_cell = get(row, "date")
        booked_early = _date_or_none(date_cell, formats)  # parsed once: reused below
        if booked_early is None:  # only then can it be a balance, total or footer row
            first = " ".join(_folded(c) for c in row[:4] if c not in (None, ""))
            if _balance_row(row, opening_words, closing_words, statement, balance_col=cols.get("balance")):
                if statement.opening_balance is not None and previous_balance is None:
                    previous_balance = statement.opening_balance
                continue
            if any(first == w or first.startswith(w + " ") or first.startswith(w + ":") or first.startswith(w + "/")
                   for w in footer_words):
                continue
        try:
            raw_date = date_cell
            reference = _cell(get(row, "reference")) or None
            if with_reference and isinstance(raw_date, str) and "\n" in raw_date.strip():
                raw_date, _newline, ref_text = raw_date.strip().partition("\n")
                reference = reference or " ".join(ref_text.split()) or None
            if booked_early is not None and not (isinstance(date_cell, str) and "\n" in date_cell):
                booked = booked_early
            else:
                booked = parse_date(raw_date, formats)
            if "amount" in cols:
                signed = parse_amount(get(row, "amount"))
                debit, credit = (None, signed) if signed is None or signed >= 0 else (-signed, None)
            else:
                debit, credit = parse_amount(get(row, "debit")), parse_amount(get(row, "credit"))
            memo = " ".join(_cell(get(row, "memo")).split())
            if booked is None and debit is None and credit is None:
                if memo and statement.lines and statement.lines[-1].row_number == _last_row(statement):
                    statement.lines[-1].memo += " " + memo  # a description wrapped onto the next row
                continue
            if booked is None:
                if layout.get("fill_down_date") and last_date is not None:
                    booked = last_date
                else:
                    raise BankInputError(_("thiếu ngày giao dịch"))
            if (debit or 0) < 0 or (credit or 0) < 0:
                raise BankInputError(_("số tiền ghi nợ/ghi có âm"))
            if debit and credit:
                raise BankInputError(_("một dòng có cả ghi nợ và ghi có"))
            if debit is None and credit is None:
                raise BankInputError(_("không có số tiền ghi nợ hay ghi có"))
            if currency_col is not None:  # a currency column in the table: each row in đồng
                row_currency = _cell(row[currency_col] if currency_col < len(row) else None).strip().upper()
                if row_currency and row_currency not in ("VND", "VNĐ"):
                    raise BankInputError(_("giao dịch bằng %(currency)s: Quỹ chỉ nhận tiền đồng (VND)",
                                           currency=row_currency[:8]))
            balance = parse_amount(get(row, "balance"))
        except BankInputError as error:
            errors.append((number, str(error)))
            if len(errors) >= MAX_ERRORS:
                break
            continue
        last_date = booked
        # A row of 0 ₫ (some banks print fee reversals or notices so) is kept as a line of its
        # own, which the first look sets aside as "not a donation", instead of refusing the file.
        direction = CREDIT if credit or (credit is not None and not debit) else DEBIT
        amount = (credit if direction == CREDIT else debit) or 0
        if balance is not None and previous_balance is not None:
            expected = previous_balance + (amount if direction == CREDIT else -amount)
            if expected != balance:
                statement.differences.append(_l(
                    "Dòng %(row)s: số dư in %(printed)s khác số dư tính được %(computed)s.",
                    row=number, printed=_Amount(balance), computed=_Amount(expected)))
        if balance is not None:
            previous_balance = balance
        sender_name, sender_account = sender(row)
        statement.lines.append(ParsedLine(
            account_number=statement.account_number or "", direction=direction, amount=amount, booked_at=booked,
            memo=memo, sender_name=sender_name, sender_account=sender_account, bank_reference=reference,
            balance_after=balance, raw={"row": number, "cells": [c.strip() if type(c) is str else _cell(c) for c in row]},
            row_number=number))
    if errors:
        if len(errors) >= MAX_ERRORS:
            message = _("Tệp có %(num)d dòng lỗi (và có thể còn lỗi khác); không ghi dữ liệu nào.", num=len(errors))
        else:
            message = ngettext("Tệp có %(num)d dòng lỗi; không ghi dữ liệu nào.",
                               "Tệp có %(num)d dòng lỗi; không ghi dữ liệu nào.", len(errors))
        error = StatementError(message, errors)
        error.lines = statement.lines  # the rows that did read (the layout page's preview shows them)
        raise error
    if not statement.lines:
        raise StatementError(_("Tệp không có dòng giao dịch nào dưới dòng tiêu đề cột."))
    if statement.opening_balance is not None and statement.closing_balance is not None:
        computed = statement.opening_balance + statement.credit_total - statement.debit_total
        if computed != statement.closing_balance:
            statement.differences.append(_l(
                "Số dư đầu kỳ + ghi có − ghi nợ = %(computed)s, ngân hàng in số dư cuối kỳ %(closing)s: "
                "chênh %(difference)s.", computed=_Amount(computed), closing=_Amount(statement.closing_balance),
                difference=_Amount(statement.closing_balance - computed)))
    return statement


def _date_or_none(value, formats) -> datetime | None:
    """The cell's date (its first line), or None when it is blank or not a date."""
    if isinstance(value, str) and "\n" in value:
        value = value.split("\n", 1)[0]
    try:
        return parse_date(value, formats)
    except BankInputError:
        return None


def _last_row(statement: Statement) -> int | None:
    return statement.lines[-1].row_number if statement.lines else None


def _balance_row(row, opening_words, closing_words, statement: Statement, balance_col: int | None = None) -> bool:
    text = " ".join(_folded(c) for c in row if c not in (None, ""))
    for words, attr in ((opening_words, "opening_balance"), (closing_words, "closing_balance")):
        if any(w and w in text for w in words):
            value = None
            if balance_col is not None and balance_col < len(row):
                try:
                    value = parse_amount(row[balance_col])
                except BankInputError:
                    value = None
            if value is None:
                for cell in reversed(row):
                    try:
                        value = parse_amount(cell)
                    except BankInputError:
                        continue
                    if value is not None:
                        break
            if value is not None:
                setattr(statement, attr, value)
            return True
    return False

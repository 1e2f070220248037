"""Bulk import of donations from a CSV or XLSX file (staff spreadsheets, bank exports).

Two phases, so nothing is written unless the whole file is understood:

1. `plan_import(data, filename)` reads and validates every row (errors carry the row number
   as the spreadsheet shows it, header = row 1, and the column name), drops rows already
   imported (by reference) and matches each remaining row to a donor. It writes nothing.
2. `execute_plan(plan, actor, ...)` writes the plan in ONE transaction: new donors, then
   donations in chunks of executemany INSERT … RETURNING, then their receipts with one
   UPDATE of the year's receipt counter per chunk (so the counter moves atomically with the
   rows), then one audit entry for the whole import (counts and the file's SHA-256).

Donor matching, in order: same MST; same email or phone (unless the candidate has a
different MST); an organization also by its normalised name (legal-form words, diacritics,
case and spacing removed) when no MST contradicts it. An individual is never matched on
name alone: a same-name row without a shared email/phone becomes a new donor and is listed
in `plan.possible_duplicates` for a person to review (and merge in the back office).

Idempotency: a row with a `reference` is imported once; re-importing skips it. A row
without one gets a derived reference `IMP-<fingerprint>-<n>` where the fingerprint hashes
the row's normalised content and n counts identical rows within the file, so re-importing
the same rows (same file or a re-export of it) adds nothing, while two identical gifts in
one file are both kept.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from app.params import check_date
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.i18n import _, money
from app.models import Appeal, Channel, Donation, DonationStatus, Donor, DonorKind, Programme, Receipt
from app.services import audit
from app.services.audit import Actor
from app.services.bulk_rows import bulk_load, insert_many, reserve_ids
from app.services.donations.designation import programme_for_appeal
from app.services.donor_profiles import (
    KIND_WORDS, normalize_email, normalize_phone, normalize_tax_code,
)
from app.services.receipts.issuing import format_receipt_number
from app.services.setup import get_settings, missing_settings
from app.text import fold as _fold_uncached
from app.text import normalize_org_name as _normalize_org_name_uncached
from app.timeutil import local_to_utc, local_year, utcnow
from app.vnd import AmountError, parse_vnd

COLUMNS = ("received_at", "donor_kind", "donor_name", "tax_code", "email", "phone", "address",
           "amount_vnd", "channel", "appeal", "programme", "reference", "note")
REQUIRED_COLUMNS = ("received_at", "donor_kind", "donor_name", "amount_vnd", "channel")
# The Vietnamese headings of the downloadable template; either these or the English column
# names are accepted (case, accents and a trailing "(…)" note do not matter).
VIETNAMESE_HEADINGS = {
    "received_at": "Thời điểm nhận", "donor_kind": "Loại nhà hảo tâm", "donor_name": "Tên nhà hảo tâm",
    "tax_code": "Mã số thuế", "email": "Email", "phone": "Số điện thoại", "address": "Địa chỉ",
    "amount_vnd": "Số tiền (đồng)", "channel": "Hình thức", "appeal": "Chiến dịch",
    "programme": "Chương trình", "reference": "Mã tham chiếu", "note": "Ghi chú",
}
TEMPLATE_EXAMPLES = [
    ["2026-06-01 09:30", "tập thể", "Công ty TNHH Ví Dụ", "0200000000", "ketoan@vidu.vn", "", "Hải Phòng",
     "50.000.000", "chuyển khoản", "", "Phẫu thuật tim bẩm sinh", "UNC-0001", ""],
    ["2026-06-02", "cá nhân", "Nguyễn Văn Ví Dụ", "", "", "0912 345 678", "", "500.000", "tiền mặt",
     "", "", "", "Phiếu thu PT-01"],
]
TEMPLATE_NOTES = [
    "Mỗi dòng là một khoản ủng hộ. Dòng tiêu đề có thể bằng tiếng Việt (như mẫu) hoặc tiếng Anh: "
    + ", ".join(COLUMNS) + ".",
    "Thời điểm nhận: YYYY-MM-DD hoặc YYYY-MM-DD HH:MM, giờ Việt Nam.",
    "Loại nhà hảo tâm: cá nhân / tập thể. Hình thức: tiền mặt, chuyển khoản, thẻ, hiện vật (mô tả ở Ghi chú).",
    "Số tiền: 5000000, 5.000.000 hoặc 5.000.000 đ.",
    "Chiến dịch và Chương trình: ghi mã hoặc tên; để trống Chương trình là quỹ chung "
    "(khoản qua chiến dịch gắn chương trình thuộc chương trình đó).",
    "Dòng có Mã tham chiếu chỉ được nhập một lần.",
]


def _heading_key(text: str) -> str:
    return re.sub(r"\s*\(.*\)\s*$", "", _fold_uncached(text)).strip()


_HEADING_ALIASES = {**{c: c for c in COLUMNS},
                    **{_heading_key(v): k for k, v in VIETNAMESE_HEADINGS.items()}}


def canonical_heading(text: str) -> str:
    """The column a header cell names ("Số tiền (đồng)" and "amount_vnd" both give
    amount_vnd); unknown headers come back folded, to be reported."""
    key = _heading_key(text or "")
    return _HEADING_ALIASES.get(key, _HEADING_ALIASES.get(key.replace(" ", "_"), key))
CHUNK = 1000

# Imports repeat the same donors, kinds and channels thousands of times: cache the folds.
fold = lru_cache(maxsize=200_000)(_fold_uncached)
normalize_org_name = lru_cache(maxsize=50_000)(_normalize_org_name_uncached)
MAX_ERRORS_KEPT = 2000

CHANNEL_WORDS = {
    "cash": Channel.CASH.value, "tien mat": Channel.CASH.value,
    "bank_transfer": Channel.BANK_TRANSFER.value, "bank transfer": Channel.BANK_TRANSFER.value,
    "chuyen khoan": Channel.BANK_TRANSFER.value, "card": Channel.CARD.value, "the": Channel.CARD.value,
    "in_kind": Channel.IN_KIND.value, "in kind": Channel.IN_KIND.value, "hien vat": Channel.IN_KIND.value,
}
_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")


def N_(text: str) -> str:
    """Marks a msgid for the catalog, translated later (when the error is shown)."""
    return text


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be read (format, encoding, header)."""


@dataclass
class RowError:
    """One problem of one row. `message` is the Vietnamese source text (a catalog msgid,
    with `%(name)s` placeholders filled from `params`), so the error can be shown in the
    reader's language long after it was found (the import report, written by the worker)."""
    row: int
    column: str
    message: str
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        """The message alone, in the language being used now."""
        if not self.message:
            return ""  # gettext("") is the catalog's header
        return _(self.message, **self.params)

    def __str__(self) -> str:
        return _("Dòng %(row)s, cột %(column)s: %(message)s", row=self.row, column=self.column,
                 message=self.text())

    def as_report(self) -> dict:
        """For the import report (JSON): translated again when the report is shown."""
        return {"row": self.row, "column": self.column, "message": self.message, "params": self.params}


def report_error_text(item) -> str:
    """An error of a stored import report, in the language being used now (older reports
    kept each error as one Vietnamese sentence)."""
    if isinstance(item, dict):
        return str(RowError(item.get("row", 0), item.get("column", ""), item.get("message", ""),
                            dict(item.get("params") or {})))
    return str(item)


@dataclass
class ImportRow:
    row: int
    received_at: datetime
    kind: str
    name: str
    tax_code: str | None
    email: str | None
    phone: str | None
    address: str | None
    amount: int
    channel: str
    appeal_id: int | None
    programme_id: int
    reference: str
    reference_given: bool
    note: str | None
    donor_key: int = 0          # > 0: existing donor id; < 0: a donor created by this import
    # How the donor was found, for the preview: ("existing", donor id, how), ("same_new",
    # first row, how) or ("new", 0, ""); `how` is a msgid. Words only when shown (match_text).
    match: tuple = ()

    @property
    def match_text(self) -> str:
        what, number, how = self.match or ("new", 0, "")
        if what == "existing":
            return _("khớp hồ sơ #%(id)s theo %(how)s", id=number, how=_(how) if how else "")
        if what == "same_new":
            return _("cùng nhà hảo tâm mới ở dòng %(row)s (theo %(how)s)", row=number, how=_(how) if how else "")
        return _("tạo hồ sơ mới")


@dataclass
class NewDonor:
    key: int
    kind: str
    name: str
    tax_code: str | None
    email: str | None
    phone: str | None
    address: str | None
    first_row: int


@dataclass
class PossibleDuplicate:
    row: int
    name: str
    existing_ids: list[int]
    other_rows: list[int]


@dataclass
class ImportPlan:
    file_name: str
    sha256: str
    total_rows: int = 0
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    invalid_rows: int = 0
    already_imported: int = 0
    new_donors: list[NewDonor] = field(default_factory=list)
    matched_rows: int = 0
    possible_duplicates: list[PossibleDuplicate] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


@dataclass
class ImportResult:
    donations: int
    donors_created: int
    receipts: int
    first_id: int | None
    last_id: int | None
    audit_id: int


# --- reading ---------------------------------------------------------------------------------

def read_table(data: bytes, file_name: str) -> tuple[list[str], Iterable[tuple[int, list[Any]]]]:
    """Header (lower-cased, trimmed) and (row number, values) for each row of a CSV (UTF-8,
    BOM optional, comma or semicolon) or the first sheet of an XLSX."""
    if data[:4] == b"PK\x03\x04" or file_name.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("Tệp CSV phải được lưu với mã hóa UTF-8.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    if "\x00" in text:
        raise ImportFileError(_("Tệp CSV chứa ký tự NUL (không phải văn bản): hãy lưu lại tệp dạng CSV UTF-8."))
    reader = _csv_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = next(reader, None)
    if not header:
        raise ImportFileError(_("Tệp không có dòng tiêu đề."))
    return [canonical_heading(h) for h in header[1]], reader


def _csv_rows(reader) -> Iterable[tuple[int, list[str]]]:
    """(row number, cells), turning the csv module's errors (a cell over its 131,072-character
    limit, a stray quote) into a message naming the row."""
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger" in str(error):
                message = _("Dòng %(row)s: có ô dài quá %(limit)s ký tự. Không ghi dữ liệu nào.",
                            row=reader.line_num, limit=money(csv.field_size_limit(), symbol=False))
            else:
                message = _("Dòng %(row)s: không đọc được (%(error)s). Không ghi dữ liệu nào.",
                            row=reader.line_num, error=error)
            raise ImportFileError(message) from None
        number += 1
        yield number, row


def _read_xlsx(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook gets the same message
        raise ImportFileError(_("Không đọc được tệp Excel (.xlsx).")) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ImportFileError(_("Tệp không có dòng tiêu đề."))
    return ([canonical_heading(str(h or "")) for h in header],
            ((n, list(r)) for n, r in enumerate(rows, start=2)))


# --- validating ----------------------------------------------------------------------------------

def _cell_text(value) -> str:
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_when(value) -> datetime:
    if isinstance(value, datetime):
        local = value.replace(tzinfo=None)
    elif isinstance(value, date):
        local = datetime(value.year, value.month, value.day)
    else:
        text = _cell_text(value)
        if not _WHEN.fullmatch(text):
            raise ValueError(N_("cần dạng YYYY-MM-DD hoặc YYYY-MM-DD HH:MM (giờ Việt Nam)."))
        try:
            day = date.fromisoformat(text[:10])
            hour = minute = second = 0
            if len(text) > 10:
                parts = [int(p) for p in text[11:].split(":")]
                hour, minute = parts[0], parts[1]
                second = parts[2] if len(parts) > 2 else 0
            local = datetime(day.year, day.month, day.day, hour, minute, second)
        except ValueError:
            raise ValueError(N_("ngày giờ không tồn tại.")) from None
    check_date(local.date())  # ValueError with the accepted range
    return local_to_utc(local)


def _parse_amount(value) -> int:
    if isinstance(value, bool):
        raise AmountError(N_("Số tiền không hợp lệ."), "invalid")
    if isinstance(value, float):
        if not value.is_integer():
            raise AmountError(N_("Số tiền phải là số nguyên đồng (VNĐ không có số lẻ)."), "fraction")
        value = int(value)
    if isinstance(value, int):
        return parse_vnd(value)
    return _parse_amount_text(_cell_text(value))


@lru_cache(maxsize=100_000)
def _parse_amount_text(text: str) -> int:
    # Cached: a statement repeats the same few amounts thousands of times. (Errors are
    # raised, so never cached.)
    if text.isdecimal() and len(text) < 15 and text[0] != "0":
        return int(text)
    return parse_vnd(text)


_phone = lru_cache(maxsize=200_000)(normalize_phone)
_tax_code = lru_cache(maxsize=100_000)(normalize_tax_code)


class _Lookups:
    """Appeals by slug or (folded) title, programmes by code or (folded) name."""

    def __init__(self):
        self.appeals, self.appeal_rows = {}, {}
        for appeal in db.session.scalars(sa.select(Appeal).order_by(Appeal.id)):
            self.appeal_rows[appeal.id] = appeal
            self.appeals.setdefault(fold(appeal.title), appeal.id)
        for appeal in self.appeal_rows.values():
            self.appeals[appeal.slug.lower()] = appeal.id
        self.programmes, self.programme_names = {}, {}
        for programme in db.session.scalars(sa.select(Programme).order_by(Programme.id)):
            self.programme_names[programme.id] = programme.name
            self.programmes.setdefault(fold(programme.name), programme.id)
        for programme_id, code in db.session.execute(sa.select(Programme.id, Programme.code)):
            self.programmes[code.lower()] = programme_id
        self.general = db.session.scalar(sa.select(Programme.id).where(Programme.is_general))

    def appeal(self, text: str) -> int | None:
        return self.appeals.get(text.strip().lower()) or self.appeals.get(fold(text))

    def programme(self, text: str) -> int | None:
        return self.programmes.get(text.strip().lower()) or self.programmes.get(fold(text))


def _validate_row(number: int, values: dict[str, Any], lookups: _Lookups, now: datetime,
                  errors: list[RowError]) -> ImportRow | None:
    row_errors: list[RowError] = []

    def fail(column, message, **params):
        # `message`: a Vietnamese msgid (translated when shown), or the text of an error
        # raised elsewhere (a msgid too when it was raised in Vietnamese, e.g. by the worker).
        row_errors.append(RowError(number, column, str(message), params))

    def text(column, limit):
        value = _cell_text(values.get(column))
        if len(value) > limit:
            fail(column, N_("tối đa %(limit)s ký tự."), limit=limit)
        return value or None

    received_at = None
    raw_when = values.get("received_at")
    if raw_when in (None, ""):
        fail("received_at", N_("bắt buộc."))
    else:
        try:
            received_at = _parse_when(raw_when)
            if received_at > now:
                fail("received_at", N_("thời điểm nhận không được ở tương lai."))
        except ValueError as error:
            fail("received_at", str(error))
    kind = None
    kind = KIND_WORDS.get(fold(_cell_text(values.get("donor_kind"))))
    if kind is None:
        fail("donor_kind", N_("phải là individual/organization (hoặc cá nhân/tập thể)."))
    name = " ".join(_cell_text(values.get("donor_name")).split())
    if not name:
        fail("donor_name", N_("bắt buộc."))
    elif len(name) > 255:
        fail("donor_name", N_("tối đa %(limit)s ký tự."), limit=255)
    cleaned = {}
    for column, normalize in (("tax_code", _tax_code), ("email", normalize_email), ("phone", _phone)):
        try:
            cleaned[column] = normalize(_cell_text(values.get(column)))
        except ValidationFailed as error:
            fail(column, error.message)
    address = text("address", 500)
    amount = None
    try:
        amount = _parse_amount(values.get("amount_vnd"))
    except AmountError as error:
        fail("amount_vnd", error.message)
    channel = CHANNEL_WORDS.get(fold(_cell_text(values.get("channel"))))
    if channel is None:
        fail("channel", N_("phải là cash, bank_transfer, card hoặc in_kind."))
    note = text("note", 5000)
    if channel == Channel.IN_KIND.value and not note:
        fail("note", N_("hiện vật (in_kind) cần mô tả hiện vật trong cột note."))
    appeal_id = None
    slug = _cell_text(values.get("appeal"))
    if slug:
        appeal_id = lookups.appeal(slug)
        if appeal_id is None:
            fail("appeal", N_("không có chiến dịch với mã hoặc tên “%(value)s”."), value=slug)
    programme_id = None
    code = _cell_text(values.get("programme"))
    if code:
        programme_id = lookups.programme(code)
        if programme_id is None:
            fail("programme", N_("không có chương trình với mã hoặc tên “%(value)s”."), value=code)
    if appeal_id is not None and (programme_id is not None or not code):
        appeal = lookups.appeal_rows[appeal_id]
        try:
            programme_id = programme_for_appeal(
                appeal.programme_id, programme_id, lookups.general, appeal_title=appeal.title,
                programme_name=lookups.programme_names.get(appeal.programme_id, ""))
        except ValidationFailed as error:
            fail("programme", error.message)
    programme_id = programme_id if programme_id is not None else lookups.general
    reference = text("reference", 120)
    if row_errors:
        errors.extend(row_errors)
        return None
    return ImportRow(
        row=number, received_at=received_at, kind=kind, name=name, tax_code=cleaned["tax_code"],
        email=cleaned["email"], phone=cleaned["phone"], address=address, amount=amount,
        channel=channel, appeal_id=appeal_id, programme_id=programme_id,
        reference=reference or "", reference_given=bool(reference), note=note)


def _fingerprint(r: ImportRow) -> str:
    content = "\x1f".join(str(v) for v in (
        r.received_at.isoformat(), r.kind, fold(r.name), r.tax_code, r.email, r.phone, r.amount,
        r.channel, r.appeal_id, r.programme_id, r.note))
    return hashlib.sha256(content.encode()).hexdigest()[:24]


# --- donor matching ----------------------------------------------------------------------------

class _DonorIndex:
    """Live donors (from the database, then those this import creates) by MST, email,
    phone and name, for matching in memory."""

    def __init__(self):
        self.tax: dict[tuple[str, str], int] = {}
        self.email: dict[tuple[str, str], int] = {}
        self.phone: dict[tuple[str, str], int] = {}
        self.org_name: dict[str, list[int]] = {}
        self.person_name: dict[str, list[int]] = {}
        self.tax_of: dict[int, str | None] = {}
        self.new: dict[int, NewDonor] = {}
        rows = db.session.execute(
            sa.select(Donor.id, Donor.kind, Donor.name, Donor.tax_code, Donor.email, Donor.phone)
            .where(Donor.merged_into_id.is_(None)).order_by(Donor.id))
        for donor_id, kind, name, tax, email, phone in rows:
            self.add(donor_id, kind, name, tax, email, phone)

    def add(self, key, kind, name, tax, email, phone):
        self.tax_of[key] = tax
        if tax:
            self.tax.setdefault((kind, tax), key)
        if email:
            self.email.setdefault((kind, email.lower()), key)
        if phone:
            self.phone.setdefault((kind, phone), key)
        if kind == DonorKind.ORGANIZATION.value:
            self.org_name.setdefault(normalize_org_name(name), []).append(key)
        else:
            self.person_name.setdefault(fold(name), []).append(key)

    def contradicts(self, key: int, tax: str | None) -> bool:
        known = self.tax_of.get(key)
        return bool(tax and known and known != tax)

    def match(self, r: ImportRow) -> tuple[int | None, str]:
        if r.tax_code and (key := self.tax.get((r.kind, r.tax_code))):
            return key, N_("MST")
        for label, index, value in (("email", self.email, r.email), (N_("điện thoại"), self.phone, r.phone)):
            if value and (key := index.get((r.kind, value))) and not self.contradicts(key, r.tax_code):
                return key, label
        if r.kind == DonorKind.ORGANIZATION.value:
            for key in self.org_name.get(normalize_org_name(r.name), []):
                if not self.contradicts(key, r.tax_code):
                    return key, N_("tên tổ chức")
        return None, ""

    def fill_blanks(self, key: int, r: ImportRow) -> None:
        """A donor created by this import learns identifiers from its later rows."""
        new = self.new.get(key)
        if new is None:
            return
        for name in ("tax_code", "email", "phone", "address"):
            if getattr(new, name) is None and getattr(r, name) is not None:
                setattr(new, name, getattr(r, name))
                if name == "tax_code":
                    self.tax_of[key] = r.tax_code
                    self.tax.setdefault((new.kind, r.tax_code), key)
                elif name == "email":
                    self.email.setdefault((new.kind, r.email), key)
                elif name == "phone":
                    self.phone.setdefault((new.kind, r.phone), key)


def plan_import(data: bytes, file_name: str, *,
                progress: Callable[[str, int, int], None] | None = None) -> ImportPlan:
    """Read, validate and match every row; write nothing."""
    plan = ImportPlan(file_name=file_name, sha256=hashlib.sha256(data).hexdigest())
    header, records = read_table(data, file_name)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(_("Thiếu cột bắt buộc: %(missing)s. Các cột: %(columns)s.",
                                missing=", ".join(missing), columns=", ".join(COLUMNS)))
    plan.unknown_columns = [h for h in header if h and h not in COLUMNS]
    positions = [(c, header.index(c)) for c in COLUMNS if c in header]
    lookups = _Lookups()
    now = utcnow()
    errors: list[RowError] = []
    seen_refs: dict[str, int] = {}
    fingerprints: Counter[str] = Counter()
    for number, raw in records:
        if not any(v not in (None, "") and str(v).strip() for v in raw):
            continue  # blank line
        plan.total_rows += 1
        values = {c: (raw[i] if i < len(raw) else None) for c, i in positions}
        before = len(errors)
        row = _validate_row(number, values, lookups, now, errors)
        if row is not None and row.reference_given:
            first = seen_refs.setdefault(row.reference, number)
            if first != number:
                errors.append(RowError(number, "reference", N_("trùng mã tham chiếu với dòng %(row)s."), {"row": first}))
                row = None
        if row is None:
            plan.invalid_rows += 1 if len(errors) > before else 0
            continue
        if not row.reference_given:
            fp = _fingerprint(row)
            fingerprints[fp] += 1
            row.reference = f"IMP-{fp}-{fingerprints[fp]}"
        plan.rows.append(row)
        if progress and plan.total_rows % 5000 == 0:
            progress("validate", plan.total_rows, 0)
    plan.error_count = len(errors)
    plan.errors = errors[:MAX_ERRORS_KEPT]

    # Idempotency: drop rows whose reference is already recorded.
    existing: set[str] = set()
    refs = [r.reference for r in plan.rows]
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start:start + CHUNK]
        existing.update(db.session.scalars(sa.select(Donation.reference).where(Donation.reference.in_(chunk))))
    if existing:
        plan.already_imported = sum(1 for r in plan.rows if r.reference in existing)
        plan.rows = [r for r in plan.rows if r.reference not in existing]

    _match_donors(plan)
    return plan


def _match_donors(plan: ImportPlan) -> None:
    index = _DonorIndex()
    next_key = -1
    for r in plan.rows:
        key, how = index.match(r)
        if key is not None:
            r.donor_key = key
            if key > 0:
                plan.matched_rows += 1
                r.match = ("existing", key, how)
            else:
                r.match = ("same_new", index.new[key].first_row, how)
                index.fill_blanks(key, r)
            continue
        folded = fold(r.name)
        if r.kind == DonorKind.INDIVIDUAL.value:
            same_name = index.person_name.get(folded, [])
            if same_name:
                plan.possible_duplicates.append(PossibleDuplicate(
                    row=r.row, name=r.name, existing_ids=[k for k in same_name if k > 0][:10],
                    other_rows=[index.new[k].first_row for k in same_name if k < 0][:10]))
        new = NewDonor(next_key, r.kind, r.name, r.tax_code, r.email, r.phone, r.address, r.row)
        index.new[next_key] = new
        index.add(next_key, r.kind, r.name, r.tax_code, r.email, r.phone)
        plan.new_donors.append(new)
        r.donor_key = next_key
        r.match = ("new", 0, "")
        next_key -= 1


# --- writing -------------------------------------------------------------------------------------

def _search_text(*parts) -> str:
    return fold(" ".join(p for p in parts if p))


def execute_plan(plan: ImportPlan, actor: Actor, *, skip_invalid: bool = False,
                 issue_receipts: bool = True,
                 progress: Callable[[str, int, int], None] | None = None) -> ImportResult:
    """Write a plan in one transaction (see the module docstring). Refuses a plan with
    errors unless `skip_invalid`; the invalid rows are then left out and counted."""
    if not plan.ok and not skip_invalid:
        raise ValidationFailed(_("Tệp có %(count)s lỗi; không ghi dữ liệu nào.", count=plan.error_count))
    now = utcnow()
    donations = Donation.__table__
    donors = Donor.__table__
    try:
        with bulk_load():  # page cache (SQLite), foreign keys once per key (PostgreSQL), GC paused
            # 1. Donors this import creates, only those a remaining row uses.
            used = {r.donor_key for r in plan.rows if r.donor_key < 0}
            creating = [d for d in plan.new_donors if d.key in used]
            real_ids: dict[int, int] = {}
            for start in range(0, len(creating), CHUNK):
                chunk = creating[start:start + CHUNK]
                params = [dict(kind=d.kind, name=d.name, tax_code=d.tax_code, email=d.email, phone=d.phone,
                               address=d.address, public_listing_consent=False, anonymous=False,
                               search_text=_search_text(d.name, d.tax_code, d.email, d.phone),
                               created_at=now, updated_at=now) for d in chunk]
                ids = reserve_ids(donors, len(chunk))
                for param, new_id in zip(params, ids):
                    param["id"] = new_id
                insert_many(donors, params)
                real_ids.update(zip((d.key for d in chunk), ids))

            # 2. Donations (confirmed), and 3. their receipts, chunk by chunk.
            settings = get_settings()
            receipt_year = local_year(now)
            # Receipts print the signatory and address: while those are placeholders the gifts
            # are confirmed and their receipts deferred (issued when an admin completes them).
            defer_receipts = issue_receipts and bool(missing_settings(settings))
            issue_receipts = issue_receipts and not defer_receipts
            total = len(plan.rows)
            first_id = last_id = None
            receipt_count = 0
            for start in range(0, total, CHUNK):
                chunk = plan.rows[start:start + CHUNK]
                params = [dict(
                    donor_id=r.donor_key if r.donor_key > 0 else real_ids[r.donor_key],
                    appeal_id=r.appeal_id, programme_id=r.programme_id, amount=r.amount, currency="VND",
                    channel=r.channel,
                    in_kind_description=r.note if r.channel == Channel.IN_KIND.value else None,
                    status=DonationStatus.CONFIRMED.value, received_at=r.received_at, confirmed_at=now,
                    reference=r.reference, note=r.note if r.channel != Channel.IN_KIND.value else None,
                    recorded_by_id=actor.user_id, created_at=now, receipt_deferred=defer_receipts)
                    for r in chunk]
                ids = reserve_ids(donations, len(chunk))
                for param, new_id in zip(params, ids):
                    param["id"] = new_id
                insert_many(donations, params)
                first_id = first_id or min(ids)
                last_id = max(ids)
                if issue_receipts:
                    receipt_count += _issue_receipts(ids, receipt_year, settings.receipt_number_format, now, actor)
                if progress:
                    progress("write", min(start + CHUNK, total), total)

            entry = audit.record(actor, "donation.import", entity_type="donations", after={
                "file_name": plan.file_name, "sha256": plan.sha256, "rows_in_file": plan.total_rows,
                "imported": total, "already_imported": plan.already_imported,
                "invalid_rows_skipped": plan.invalid_rows if skip_invalid else 0,
                "errors": plan.error_count, "donors_created": len(creating),
                "rows_matched_to_existing_donors": plan.matched_rows,
                "possible_duplicates": len(plan.possible_duplicates), "receipts": receipt_count,
                "first_donation_id": first_id, "last_donation_id": last_id,
            })
            db.session.flush()
            db.session.commit()
    except Exception as error:
        db.session.rollback()
        # Another confirmation of the same rows committed first (their references are unique):
        # SQLAlchemy's IntegrityError, or psycopg's UniqueViolation from the raw COPY.
        if not (isinstance(error, sa.exc.IntegrityError) or getattr(error, "sqlstate", None) == "23505"):
            raise
        raise Conflict(_("Tệp này vừa được nhập trong một phiên khác; lần xác nhận này không ghi "
                         "dữ liệu nào. Xem danh sách khoản ủng hộ hoặc tải tệp lên lại để kiểm tra.")) from None
    if total >= CHUNK and db.session.get_bind().dialect.name == "postgresql":
        # Fresh planner statistics after a bulk load, or PostgreSQL keeps planning for the
        # tables' old size (a re-import's reference check went from 1.5 s per chunk to ms).
        db.session.execute(sa.text("ANALYZE donations, donors, receipts"))
        db.session.commit()
    return ImportResult(donations=total, donors_created=len(creating), receipts=receipt_count,
                        first_id=first_id, last_id=last_id, audit_id=entry.id)


def _issue_receipts(donation_ids: list[int], year: int, pattern: str, now: datetime, actor: Actor) -> int:
    """Number a chunk's receipts with ONE update of the year's counter (same transaction)."""
    from app.services.receipts.issuing import next_sequence_block

    last = next_sequence_block(year, len(donation_ids))
    first = last - len(donation_ids) + 1
    params = [dict(number=format_receipt_number(pattern, year, seq), year=year, sequence=seq,
                   donation_id=donation_id, issued_at=now, verification_token=secrets.token_urlsafe(24),
                   issued_by_id=actor.user_id)
              for seq, donation_id in zip(range(first, last + 1), donation_ids)]
    insert_many(Receipt.__table__, params)
    return len(params)


def import_file(data: bytes, file_name: str, actor: Actor, *, skip_invalid: bool = False,
                issue_receipts: bool = True, progress=None) -> tuple[ImportPlan, ImportResult | None]:
    """Plan and, when there are no errors (or `skip_invalid`), write. Returns the plan and
    the result (None when nothing was written because of errors)."""
    plan = plan_import(data, file_name, progress=progress)
    if not plan.ok and not skip_invalid:
        return plan, None
    return plan, execute_plan(plan, actor, skip_invalid=skip_invalid, issue_receipts=issue_receipts,
                              progress=progress)

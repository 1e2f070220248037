"""What the public sees: the list of money received (sao kê), a donor's own gift, money out
per programme and the yearly totals. Shared by /cong-khai and /api/v1 (same filters, same
figures); every total comes from app/services/reports/figures.py.

Privacy: a donor is named only when they consented to public listing and are not anonymous
(otherwise "Nhà hảo tâm"); never an e-mail, phone, address, MST or bank account. The name
search only ever matches consented names (and only letters are accepted, so it cannot be
used to test a phone number or an e-mail address). Money out names no child: the case code
(HS-2024-0007) is an internal number, and nothing else about the case is shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.i18n import vietnamese
from app.models import (
    CHANNEL_LABELS, Appeal, AppealStatus, Channel, Disbursement, Donation, Donor, PAYEE_KINDS,
    Programme, Receipt, SupportCase, TransferPledge,
)
from app.services.bank import codes as transfer_codes
from app.services.donor_profiles import escape_like
from app.services.reports import figures
from app.services.reports.period import FIRST_YEAR, Period, check_year, make_period
from app.text import fold
from app.timeutil import local_day_start_utc, local_today, to_local
from app.vnd import AmountError, parse_vnd
from flask_babel import lazy_pgettext, pgettext

from app.i18n import _, _l, money

ANONYMOUS_NAME = "Nhà hảo tâm"
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_PAGE = 1000
COUNT_CAP = 1_000  # beyond this the page says "more than 1.000 lines" (an exact count scans far)
CSV_MAX_ROWS = 50_000
LEDGER_ARGS = frozenset({"date_from", "date_to", "amount_min", "amount_max", "name", "channel",
                         "page", "per_page"})
MONEY_OUT_ARGS = frozenset({"year", "programme", "page", "per_page"})


class BadQuery(ValidationFailed):
    """A query the public pages and the API answer with 400 and this message."""

    status_code = 400


def _check_known(args, allowed: frozenset[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise BadQuery(_("Bộ lọc không được hỗ trợ: %(names)s.", names=", ".join(unknown)))


def _int_arg(args, name: str, default: int, low: int, high: int, label: str) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise BadQuery(_("%(label)s phải là số nguyên từ %(low)s đến %(high)s.", label=label, low=low, high=high))
    return int(raw)


def paging(args) -> tuple[int, int]:
    per_page = _int_arg(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, _l("Số dòng mỗi trang"))
    page = _int_arg(args, "page", 1, 1, MAX_PAGE, _l("Số trang"))
    return page, per_page


# --------------------------------------------------------------------------- sao kê

@dataclass
class LedgerFilter:
    date_from: date | None = None
    date_to: date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    name: str | None = None
    channel: str | None = None
    _donor_ids: list[int] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_args(cls, args) -> "LedgerFilter":
        """Read and check the filter; anything wrong (unknown argument, bad date, reversed
        range, bad amount) raises BadQuery."""
        _check_known(args, LEDGER_ARGS)
        f = cls()
        for attr, label in (("date_from", _l("Từ ngày")), ("date_to", _l("Đến ngày"))):
            raw = (args.get(attr) or "").strip()
            if raw:
                try:
                    value = date.fromisoformat(raw)
                except ValueError:
                    raise BadQuery(_("%(label)s: ngày không hợp lệ (định dạng YYYY-MM-DD).", label=label)) from None
                if not date(FIRST_YEAR, 1, 1) <= value <= date(local_today().year, 12, 31):
                    raise BadQuery(_("%(label)s: ngày nằm ngoài khoảng có số liệu.", label=label))
                setattr(f, attr, value)
        if f.date_from and f.date_to and f.date_from > f.date_to:
            raise BadQuery(_("Khoảng ngày bị đảo ngược: «từ ngày» phải trước «đến ngày»."))
        for attr, label in (("amount_min", _l("Số tiền từ")), ("amount_max", _l("Số tiền đến"))):
            raw = (args.get(attr) or "").strip()
            if raw:
                try:
                    setattr(f, attr, parse_vnd(raw, minimum=0))
                except AmountError as error:
                    raise BadQuery(_("%(label)s: %(message)s", label=label, message=error.message)) from None
        if f.amount_min is not None and f.amount_max is not None and f.amount_min > f.amount_max:
            raise BadQuery(_("Khoảng số tiền bị đảo ngược: «từ» phải nhỏ hơn «đến»."))
        name = " ".join((args.get("name") or "").split())
        if name:
            if len(name) > 100 or re.search(r"[\d@]", name):
                raise BadQuery(_("Tìm theo tên: chỉ nhập chữ (tối đa 100 ký tự)."))
            f.name = name
        channel = (args.get("channel") or "").strip()
        if channel:
            if channel not in {c.value for c in Channel}:
                raise BadQuery(_("Hình thức không hợp lệ: card, bank_transfer, cash hoặc in_kind."))
            f.channel = channel
        return f

    def args(self) -> dict:
        out = {"date_from": self.date_from, "date_to": self.date_to, "amount_min": self.amount_min,
               "amount_max": self.amount_max, "name": self.name, "channel": self.channel}
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in out.items() if v not in (None, "")}

    def conditions(self) -> list:
        where = [Donation.counted()]
        if self.date_from:
            where.append(Donation.received_at >= local_day_start_utc(self.date_from))
        if self.date_to:
            where.append(Donation.received_at < local_day_start_utc(self.date_to + timedelta(days=1)))
        if self.amount_min is not None:
            where.append(Donation.amount >= self.amount_min)
        if self.amount_max is not None:
            where.append(Donation.amount <= self.amount_max)
        if self.channel:
            where.append(Donation.channel == self.channel)
        if self.name:
            ids = self.named_donor_ids()
            if db.session.get_bind().dialect.name == "postgresql":
                # One array parameter: thousands of bound IN parameters cost more to send
                # and parse than the query itself (300 ms for a common name).
                where.append(Donation.donor_id == sa.any_(sa.bindparam(
                    "named_donor_ids", ids, type_=postgresql.ARRAY(sa.Integer))))
            else:
                where.append(Donation.donor_id.in_(ids))
        return where

    def named_donor_ids(self) -> list[int]:
        """The consented donors whose folded name contains the searched name, looked up once
        (the page and its count both use it). Given as a list of ids, the database reads
        those donors' gifts by ix_donations_donor_id; as a subquery, PostgreSQL misjudged
        how many donors match and walked the whole ledger probing each donor (0.3–1.4 s)."""
        if self._donor_ids is None:
            self._donor_ids = list(db.session.scalars(named_donor_select(self.name or "")))
        return self._donor_ids


def named_donor_select(name: str):
    """The ids of the consented, not anonymous donors whose folded name contains `name`."""
    return sa.select(Donor.id).where(_named(), Donor.search_text.like(f"%{escape_like(fold(name))}%", escape="\\"))


def _named():
    return sa.and_(Donor.public_listing_consent.is_(True), Donor.anonymous.is_(False))


@dataclass(frozen=True)
class LedgerLine:
    received_at: datetime  # UTC; shown in Vietnam time
    amount: int  # signed: a refund or correction is negative
    channel: str
    channel_label: str
    name: str
    is_reversal: bool

    @property
    def local_date(self) -> str:
        """The day, in the page's language (01/06/2024, or 1 June 2024)."""
        from app.i18n import date_text

        return date_text(self.received_at)

    @property
    def shown_name(self) -> str:
        """The name for a page: an unnamed gift's "Nhà hảo tâm" in the reader's language (the
        CSV and the API keep ANONYMOUS_NAME)."""
        return pgettext("one donor", "Nhà hảo tâm") if self.name == ANONYMOUS_NAME else self.name

    @property
    def kind_label(self) -> str:
        return _("Hoàn trả / điều chỉnh") if self.is_reversal else _("Ủng hộ")

    def as_json(self) -> dict:
        return {"date": to_local(self.received_at).date().isoformat(), "amount": self.amount,
                "channel": self.channel, "donor": self.name, "reversal": self.is_reversal}


@dataclass
class LedgerPage:
    items: list[LedgerLine]
    page: int
    per_page: int
    total: int  # capped at COUNT_CAP + 1
    has_next: bool
    filters: dict = field(default_factory=dict)

    @property
    def total_is_exact(self) -> bool:
        return self.total <= COUNT_CAP

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


def _ledger_select(f: LedgerFilter, *, limit: int, offset: int = 0):
    """The lines of one page, newest first. The page is cut from donations alone (read in
    order from ix_donations_ledger, stopping after `limit` lines), then joined to donors for
    the shown name: joining first made SQLite scan every donor and sort the whole ledger."""
    page = (sa.select(Donation.id, Donation.received_at, Donation.amount, Donation.reverses_id,
                      Donation.channel, Donation.donor_id)
            .where(*f.conditions()).order_by(Donation.received_at.desc(), Donation.id.desc())
            .limit(limit).offset(offset).subquery("page"))
    shown_name = sa.case((_named(), Donor.name), else_=sa.literal(ANONYMOUS_NAME))
    return (sa.select(page.c.received_at, page.c.amount, page.c.reverses_id, page.c.channel, shown_name)
            .join(Donor, Donor.id == page.c.donor_id)
            .order_by(page.c.received_at.desc(), page.c.id.desc()))


def _capped_count(f: LedgerFilter):
    """How many lines the filter shows, counting at most COUNT_CAP + 1."""
    capped = sa.select(Donation.id).where(*f.conditions()).limit(COUNT_CAP + 1).subquery()
    return sa.select(sa.func.count()).select_from(capped)


def _line(row) -> LedgerLine:
    received_at, amount, reverses_id, channel, name = row
    return LedgerLine(received_at, -int(amount) if reverses_id is not None else int(amount), channel,
                      str(CHANNEL_LABELS[Channel(channel)]), name, reverses_id is not None)


def ledger_page(f: LedgerFilter, page: int, per_page: int) -> LedgerPage:
    rows = db.session.execute(_ledger_select(f, limit=per_page + 1, offset=(page - 1) * per_page)).all()
    total = int(db.session.scalar(_capped_count(f)))
    return LedgerPage([_line(r) for r in rows[:per_page]], page, per_page, total,
                      len(rows) > per_page, f.args())


def ledger_rows(f: LedgerFilter) -> list[LedgerLine]:
    """Every line the filter shows, for the CSV download (at most CSV_MAX_ROWS)."""
    rows = db.session.execute(_ledger_select(f, limit=CSV_MAX_ROWS + 1)).all()
    if len(rows) > CSV_MAX_ROWS:
        raise BadQuery(_("Bộ lọc cho hơn %(count)s dòng; vui lòng thu hẹp khoảng ngày.", count=money(CSV_MAX_ROWS, symbol=False)))
    return [_line(r) for r in rows]


#: In the reader's language, like the rows (str() them for the file: `ledger_csv_headings`).
LEDGER_CSV_HEADINGS = (_l("Ngày"), _l("Số tiền (đồng)"), _l("Hình thức"), lazy_pgettext("one donor", "Nhà hảo tâm"), _l("Loại"))


def ledger_csv_headings() -> list[str]:
    return [str(heading) for heading in LEDGER_CSV_HEADINGS]


def ledger_csv_rows(lines: list[LedgerLine]) -> list[list]:
    return [[to_local(x.received_at).date().isoformat(), x.amount, str(x.channel_label), x.shown_name, x.kind_label]
            for x in lines]


# --------------------------------------------------------------------------- find my gift

@dataclass(frozen=True)
class FoundGift:
    receipt_number: str | None  # None: a transfer whose receipt is not issued yet
    transfer_code: str | None
    received_on: date
    amount: int  # the gift's net amount after any partial refund
    channel_label: str
    name: str
    counted: bool
    receipt_valid: bool

    def as_json(self) -> dict:
        return {"receipt_number": self.receipt_number, "transfer_code": self.transfer_code,
                "date": self.received_on.isoformat(), "amount": self.amount, "channel": self.channel_label,
                "donor": self.name, "counted": self.counted, "receipt_valid": self.receipt_valid}


LOOKUP_HINT = _l("Vui lòng nhập số giấy chứng nhận (ví dụ BTTE-2024-000123) hoặc mã chuyển khoản (ví dụ QBTE7K3M9XA).")


def find_gift(number_or_code: str) -> FoundGift:
    """One gift by its receipt number or by the transfer code the donor put in the memo:
    a single line, nothing about anyone else. A transfer code not (yet) matched to money
    received reads the same as an unknown one, so the lookup says nothing of other pledges."""
    raw = (number_or_code or "").strip().upper()
    if not raw or len(raw) > 60:
        raise BadQuery(str(LOOKUP_HINT))
    code = transfer_codes.squeeze(raw)
    if transfer_codes.is_valid(code):
        donation = db.session.scalar(sa.select(Donation).join(TransferPledge, TransferPledge.donation_id == Donation.id)
                                     .where(TransferPledge.code == code))
        if donation is None:
            raise NotFound(_("Chưa ghi nhận khoản chuyển khoản nào với mã %(code)s. Khoản ủng hộ được ghi nhận "
                             "sau khi tiền về tài khoản của Quỹ, thường trong 1–2 ngày làm việc.", code=code))
        receipt = db.session.scalars(sa.select(Receipt).where(Receipt.donation_id == donation.id)
                                     .order_by(Receipt.voided_at.is_not(None), Receipt.id.desc())).first()
        return _found(donation, receipt, code)
    row = db.session.execute(sa.select(Receipt, Donation).join(Donation, Donation.id == Receipt.donation_id)
                             .where(Receipt.number == raw)).first()
    if row is None:
        raise NotFound(_("Không tìm thấy giấy chứng nhận số %(number)s.", number=raw))
    receipt, donation = row
    return _found(donation, receipt, None)


def _found(donation: Donation, receipt: Receipt | None, code: str | None) -> FoundGift:
    donor = donation.donor
    returned = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Donation.amount), 0))
                                     .where(Donation.reverses_id == donation.id, Donation.counted())))
    name = donor.name if donor.public_listing_consent and not donor.anonymous else pgettext("one donor", "Nhà hảo tâm")
    net = donation.amount - returned
    return FoundGift(receipt.number if receipt else None, code, to_local(donation.received_at).date(), net,
                     str(donation.channel_label), name, donation.status in ("confirmed", "reversed") and net > 0,
                     receipt is not None and not receipt.is_void)


# --------------------------------------------------------------------------- money out

@dataclass(frozen=True)
class MoneyOutLine:
    paid_on: date
    programme: str
    programme_code: str
    kind: str  # a lazy label (PAYEE_KINDS): the page shows it in the reader's language
    amount: int  # signed: a reversal is negative
    case_code: str

    def as_json(self) -> dict:
        with vietnamese():  # the open-data API does not change with Accept-Language
            kind = str(self.kind)
        return {"date": self.paid_on.isoformat(), "programme": self.programme_code,
                "programme_name": self.programme, "kind": kind, "amount": self.amount,
                "case": self.case_code}


@dataclass
class MoneyOutPage:
    year: int
    programme: str | None
    items: list[MoneyOutLine]
    page: int
    per_page: int
    total: int
    amount: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def programme_codes() -> dict[str, str]:
    return dict(db.session.execute(sa.select(Programme.code, Programme.name).order_by(Programme.sort_order)).all())


def money_out_args(args) -> tuple[int, str | None, int, int]:
    _check_known(args, MONEY_OUT_ARGS)
    year = _year_arg(args)
    code = (args.get("programme") or "").strip() or None
    if code is not None and code not in programme_codes():
        raise BadQuery(_("Không có chương trình «%(code)s».", code=code))
    page, per_page = paging(args)
    return year, code, page, per_page


def _year_arg(args) -> int:
    raw = (args.get("year") or "").strip()
    try:
        return check_year(raw) if raw else local_today().year
    except ValidationFailed as error:
        raise BadQuery(error.message) from None


def money_out(year: int, code: str | None, page: int, per_page: int) -> MoneyOutPage:
    period = make_period(year)
    where = [Disbursement.counted(), Disbursement.paid_on >= period.start, Disbursement.paid_on <= period.end]
    if code:
        where.append(Programme.code == code)
    base = (sa.select(Disbursement.paid_on, Programme.name, Programme.code, Disbursement.payee_kind,
                      Disbursement.amount, Disbursement.reverses_id, SupportCase.code)
            .join(Programme, Programme.id == Disbursement.programme_id)
            .join(SupportCase, SupportCase.id == Disbursement.case_id).where(*where))
    total, amount = db.session.execute(
        sa.select(sa.func.count(), Disbursement.net_sum()).select_from(Disbursement)
        .join(Programme, Programme.id == Disbursement.programme_id).where(*where)).one()
    rows = db.session.execute(base.order_by(Disbursement.paid_on.desc(), Disbursement.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    items = [MoneyOutLine(paid_on, name, pcode, PAYEE_KINDS.get(kind, kind),
                          -int(a) if rev is not None else int(a), case_code)
             for paid_on, name, pcode, kind, a, rev, case_code in rows]
    return MoneyOutPage(year, code, items, page, per_page, int(total), int(amount))


# --------------------------------------------------------------------------- totals

@dataclass(frozen=True)
class AppealTotal:
    slug: str
    title: str
    status_label: str
    goal: int | None
    raised: int  # all time, net
    raised_in_year: int
    donors: int

    @property
    def percent(self) -> int | None:
        if not self.goal:
            return None
        return min(100, max(0, self.raised) * 100 // self.goal)

    def as_json(self) -> dict:
        return {"slug": self.slug, "title": self.title, "status": self.status_label, "goal": self.goal,
                "raised": self.raised, "raised_in_year": self.raised_in_year, "donors": self.donors,
                "percent": self.percent}


@dataclass(frozen=True)
class YearSummary:
    period: Period
    received: figures.Received
    spent: int
    monthly_received: list[int]
    monthly_spent: list[int]
    flows: figures.ProgrammeFlows
    appeals: list[AppealTotal]
    children: object  # ChildCount

    def as_json(self) -> dict:
        r = self.received
        return {"year": self.period.year, "received": r.total, "received_money": r.money,
                "received_in_kind": r.in_kind, "gifts": r.gifts, "donors": r.donors, "spent": self.spent,
                "children_supported": self.children.as_json(),
                "by_channel": {line.key: line.amount for line in r.by_channel},
                "by_source": {line.key: line.amount for line in r.by_source},
                "months": [{"month": m + 1, "received": a, "spent": b}
                           for m, (a, b) in enumerate(zip(self.monthly_received, self.monthly_spent))]}


def public_appeal_totals(period: Period) -> list[AppealTotal]:
    appeals = db.session.scalars(sa.select(Appeal).where(Appeal.is_public, Appeal.status != AppealStatus.DRAFT.value)
                                 .order_by(Appeal.starts_on.desc().nulls_last(), Appeal.id.desc())).all()
    if not appeals:
        return []
    ids = [a.id for a in appeals]
    total = dict(db.session.execute(sa.select(Donation.appeal_id, Donation.net_sum()).where(
        Donation.counted(), Donation.appeal_id.in_(ids)).group_by(Donation.appeal_id)).all())
    in_year = dict(db.session.execute(sa.select(Donation.appeal_id, Donation.net_sum()).where(
        Donation.counted(), Donation.appeal_id.in_(ids), Donation.received_at >= period.start_utc,
        Donation.received_at < period.end_utc).group_by(Donation.appeal_id)).all())
    donors = dict(db.session.execute(sa.select(Donation.appeal_id, sa.func.count(sa.distinct(Donation.donor_id)))
                                     .where(Donation.counted(), Donation.reverses_id.is_(None),
                                            Donation.appeal_id.in_(ids)).group_by(Donation.appeal_id)).all())
    return [AppealTotal(a.slug, a.title, str(AppealStatus(a.status).label), a.goal_amount, int(total.get(a.id, 0)),
                        int(in_year.get(a.id, 0)), int(donors.get(a.id, 0))) for a in appeals]


def year_summary(year: int) -> YearSummary:
    period = make_period(year)
    flows = figures.programme_flows(period)
    return YearSummary(period, figures.received(period), flows.total("spent"), figures.monthly_received(period),
                       figures.monthly_spent(period), flows, public_appeal_totals(period),
                       figures.children_reached(period))


def year_arg(args, allowed: frozenset[str] = frozenset({"year"})) -> int:
    _check_known(args, allowed)
    return _year_arg(args)


def years_with_data() -> list[int]:
    first = db.session.scalar(sa.select(sa.func.min(Donation.received_at)).where(Donation.counted()))
    this = local_today().year
    start = to_local(first).year if first else this
    return list(range(this, start - 1, -1))

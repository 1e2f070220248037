"""Reading donations for the back office: the filtered list, its net totals, the rows of
the CSV/XLSX download and the donor-free summary case workers see."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from app.params import parse_date, parse_id
from app.errors import NotFound
from app.extensions import db
from app.i18n import _, _l, vietnamese
from app.models import (
    CHANNEL_LABELS, Appeal, Channel, Donation, DonationStatus, Donor, DonorKind, Programme, Receipt,
)
from app.models.donation import STATUS_LABELS
from app.services.donor_profiles import escape_like, search_condition
from app.services.paging import Page, paginate
from app.timeutil import local_day_start_utc, local_year, to_local, year_bounds_utc
from app.vnd import AmountError, parse_vnd

def lock_donation(donation_id: int) -> Donation:
    """Load a donation for update (a row lock on PostgreSQL; SQLite already holds the
    database write lock for the whole transaction)."""
    donation = db.session.scalars(
        sa.select(Donation).where(Donation.id == donation_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if donation is None:
        raise NotFound(_("Không tìm thấy khoản ủng hộ."))
    return donation


def reversed_total(donation_id: int) -> int:
    """How much of a donation has been reversed so far (read from the database, not from a
    possibly stale in-memory collection)."""
    return db.session.scalar(
        sa.select(sa.cast(sa.func.coalesce(sa.func.sum(Donation.amount), 0), sa.BigInteger))
        .where(Donation.reverses_id == donation_id, Donation.counted())
    )


# The list's status filter: the stored statuses plus the reversal rows themselves.
STATUS_CHOICES = {
    "confirmed": _l("Đã xác nhận (còn hiệu lực)"),
    "reversed": _l("Đã đảo toàn bộ"),
    "reversal": _l("Bút toán đảo / hoàn tiền"),
    "pending": _l("Chờ xác nhận"),
    "failed": _l("Không thành công"),
}
# The receipt filter: confirmed gifts still waiting for a valid receipt (the accountant's
# dashboard counts exactly these).
RECEIPT_CHOICES = {"missing": _l("Chưa có giấy chứng nhận")}


def without_receipt():
    """Confirmed gifts (not reversal rows, not fully reversed) with no valid receipt."""
    valid = aliased(Receipt)  # the list query joins Receipt itself
    return sa.and_(Donation.status == DonationStatus.CONFIRMED.value, Donation.reverses_id.is_(None),
                   ~sa.exists().where(valid.donation_id == Donation.id, valid.voided_at.is_(None)))


@dataclass
class DonationFilter:
    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None
    appeal_id: int | None = None
    programme_id: int | None = None
    status: str | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    q: str | None = None
    donor_id: int | None = None
    receipt: str | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "DonationFilter":
        """Read the filter from query-string arguments; a bad value is dropped with a
        message in `errors`, in the reader's language (never a 500)."""
        f = cls()

        def day(name, label):
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return parse_date(raw)
            except ValueError:
                f.errors.append(_("%(label)s: ngày không hợp lệ (định dạng YYYY-MM-DD, 1900–2199).", label=label))
                return None

        def integer(name):
            return parse_id(args.get(name))

        def amount(name, label):
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return parse_vnd(raw, minimum=0)
            except AmountError as error:
                f.errors.append(_("%(label)s: %(message)s", label=label, message=error.message))
                return None

        f.date_from, f.date_to = day("date_from", _("Từ ngày")), day("date_to", _("Đến ngày"))
        channel = args.get("channel") or None
        f.channel = channel if channel in {c.value for c in Channel} else None
        f.appeal_id, f.programme_id = integer("appeal_id"), integer("programme_id")
        f.donor_id = integer("donor_id")
        status = args.get("status") or None
        f.status = status if status in STATUS_CHOICES else None
        receipt = args.get("receipt") or None
        f.receipt = receipt if receipt in RECEIPT_CHOICES else None
        f.amount_min = amount("amount_min", _("Số tiền từ"))
        f.amount_max = amount("amount_max", _("Số tiền đến"))
        f.q = (args.get("q") or "").strip() or None
        return f

    def conditions(self) -> list:
        where = []
        if self.date_from:
            where.append(Donation.received_at >= local_day_start_utc(self.date_from))
        if self.date_to:
            where.append(Donation.received_at < local_day_start_utc(self.date_to + timedelta(days=1)))
        if self.channel:
            where.append(Donation.channel == self.channel)
        if self.appeal_id:
            where.append(Donation.appeal_id == self.appeal_id)
        if self.programme_id:
            where.append(Donation.programme_id == self.programme_id)
        if self.donor_id:
            where.append(Donation.donor_id == self.donor_id)
        if self.amount_min is not None:
            where.append(Donation.amount >= self.amount_min)
        if self.amount_max is not None:
            where.append(Donation.amount <= self.amount_max)
        if self.receipt == "missing":
            where.append(without_receipt())
        if self.status == "reversal":
            where.append(Donation.reverses_id.is_not(None))
        elif self.status == "confirmed":
            where += [Donation.status == DonationStatus.CONFIRMED.value, Donation.reverses_id.is_(None)]
        elif self.status:
            where.append(Donation.status == self.status)
        if self.q:
            condition = search_condition(self.q)
            condition = sa.false() if condition is None else condition
            pattern = f"%{escape_like(self.q)}%"
            original = aliased(Donation)
            # A reversal has no reference of its own: it follows its original's.
            by_reference = sa.or_(
                Donation.reference.ilike(pattern, escape="\\"),
                Donation.reverses_id.in_(sa.select(original.id).where(original.reference.ilike(pattern, escape="\\"))))
            where.append(sa.or_(Donation.donor_id.in_(sa.select(Donor.id).where(condition)), by_reference))
        return where

    def query_args(self) -> dict:
        """The filter as query-string arguments (for pagination and download links)."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "channel": self.channel, "appeal_id": self.appeal_id, "programme_id": self.programme_id,
            "status": self.status, "amount_min": self.amount_min, "amount_max": self.amount_max,
            "q": self.q, "donor_id": self.donor_id, "receipt": self.receipt,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class Totals:
    rows: int = 0
    gifts: int = 0           # counted originals
    gross: int = 0           # their amounts
    reversed: int = 0        # counted reversal rows' amounts
    net: int = 0
    pending: int = 0         # rows not counted (pending/failed)


def totals(f: DonationFilter) -> Totals:
    """Net totals of the filtered set. Only counted rows carry money; a reversal counts
    negatively, so `net` is what the fund really holds from these rows."""
    is_rev = Donation.reverses_id.is_not(None)
    counted = Donation.counted()
    big = lambda expr: sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), sa.BigInteger)  # noqa: E731
    row = db.session.execute(
        sa.select(
            sa.func.count(Donation.id),
            sa.func.count(Donation.id).filter(counted, ~is_rev),
            big(sa.case((sa.and_(counted, ~is_rev), Donation.amount), else_=0)),
            big(sa.case((sa.and_(counted, is_rev), Donation.amount), else_=0)),
            sa.func.count(Donation.id).filter(~counted),
        ).where(*f.conditions())).one()
    result = Totals(rows=row[0], gifts=row[1], gross=int(row[2]), reversed=int(row[3]), pending=row[4])
    result.net = result.gross - result.reversed
    return result


def page_of(f: DonationFilter, page: int, per_page: int) -> Page:
    stmt = (sa.select(Donation, Receipt.number)
            .options(joinedload(Donation.donor), joinedload(Donation.appeal), joinedload(Donation.programme))
            .outerjoin(Receipt, sa.and_(Receipt.donation_id == Donation.id, Receipt.voided_at.is_(None)))
            .where(*f.conditions())
            .order_by(Donation.received_at.desc(), Donation.id.desc()))
    return paginate(stmt, page, per_page)


EXPORT_HEADINGS = (
    "Mã", "Thời điểm nhận", "Nhà hảo tâm", "Loại", "Mã số thuế", "Hình thức", "Số tiền (VNĐ)",
    "Trạng thái", "Đảo cho mã", "Chiến dịch", "Chương trình", "Mã tham chiếu", "Số giấy chứng nhận",
    "Mô tả hiện vật", "Ghi chú / lý do",
)
STATUS_TEXT = {s.value: STATUS_LABELS[s] for s in DonationStatus}  # lazy: str() them
AMOUNT_COLUMN = EXPORT_HEADINGS.index("Số tiền (VNĐ)")


def export_rows(f: DonationFilter) -> list[list]:
    """Plain rows for the CSV/XLSX download, oldest first; times are naive local
    (Vietnam) datetimes, amounts signed ints (a reversal is negative). The download stays
    Vietnamese in either language (its headings are the importer's), labels included."""
    with vietnamese():
        return _export_rows(f)


def _export_rows(f: DonationFilter) -> list[list]:
    stmt = (sa.select(Donation.id, Donation.received_at, Donor.name, Donor.kind, Donor.tax_code,
                      Donation.channel, Donation.amount, Donation.reverses_id, Donation.status,
                      Appeal.title, Programme.name, Donation.reference, Receipt.number,
                      Donation.in_kind_description, Donation.note, Donation.reason)
            .join(Donor, Donor.id == Donation.donor_id)
            .join(Programme, Programme.id == Donation.programme_id)
            .outerjoin(Appeal, Appeal.id == Donation.appeal_id)
            .outerjoin(Receipt, sa.and_(Receipt.donation_id == Donation.id, Receipt.voided_at.is_(None)))
            .where(*f.conditions())
            .order_by(Donation.received_at, Donation.id))
    rows = []
    for (id_, received_at, donor, kind, tax, channel, amount, reverses_id, status, appeal,
         programme, reference, receipt, in_kind, note, reason) in db.session.execute(stmt):
        rows.append([
            id_, to_local(received_at).replace(tzinfo=None), donor, DonorKind(kind).label,
            tax or "", str(CHANNEL_LABELS[Channel(channel)]), -amount if reverses_id else amount,
            _("Bút toán đảo") if reverses_id else str(STATUS_TEXT.get(status, status)),
            reverses_id or "", appeal or "", programme, reference or "", receipt or "",
            in_kind or "", reason if reverses_id else (note or ""),
        ])
    return rows


def summary(year: int) -> dict:
    """Net totals for a Vietnam year by programme, by appeal and by channel: no donor names,
    so case workers may see it."""
    start, end = year_bounds_utc(year)
    where = (Donation.counted(), Donation.received_at >= start, Donation.received_at < end)

    def grouped(column, *joins):
        stmt = sa.select(column, Donation.net_sum()).where(*where).group_by(column).order_by(column)
        return [(label, int(net)) for label, net in db.session.execute(stmt)]

    by_programme = db.session.execute(
        sa.select(Programme.name, Donation.net_sum()).join(Programme, Programme.id == Donation.programme_id)
        .where(*where).group_by(Programme.id, Programme.name, Programme.sort_order)
        .order_by(Programme.sort_order)).all()
    by_appeal = db.session.execute(
        sa.select(sa.func.coalesce(Appeal.title, _("(Không thuộc chiến dịch)")), Donation.net_sum())
        .outerjoin(Appeal, Appeal.id == Donation.appeal_id)
        .where(*where).group_by(Appeal.title).order_by(Appeal.title)).all()
    by_channel = [(str(CHANNEL_LABELS[Channel(c)]), n) for c, n in grouped(Donation.channel)]
    net = db.session.scalar(sa.select(Donation.net_sum()).where(*where))
    donors = db.session.scalar(sa.select(sa.func.count(sa.distinct(Donation.donor_id))).where(*where))
    return {"net": int(net), "donors": donors, "by_programme": by_programme,
            "by_appeal": by_appeal, "by_channel": by_channel}


def years_with_donations() -> list[int]:
    first = db.session.scalar(sa.select(sa.func.min(Donation.received_at)))
    last = db.session.scalar(sa.select(sa.func.max(Donation.received_at)))
    if first is None:
        return []
    return list(range(local_year(last), local_year(first) - 1, -1))

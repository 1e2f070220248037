"""The figures every report is built from, each computed here and only here.

Money in is the ledger of donations: counted rows (`Donation.counted()`) summed by
`Donation.net_sum()`, so a reversal or refund counts negatively in the period it was
recorded, and an in-kind gift counts at its valuation (channel `in_kind`). Money out is the
ledger of disbursements: approved rows net of their reversals (`Disbursement.counted()`),
dated by the local day they were paid (`paid_on`). The balance rule of a programme is the
one of app/services/cases/disbursements.py, cut at the period's bounds:

    opening  = received before the period - spent before the period
    closing  = opening + received in the period - spent in the period
    reserved = money designated to a particular child's case and not yet spent on it, at
               the end of the period (the case's "earmark", see disbursements.earmarks)
    committed = support approved for open cases and not yet paid out (today's figure:
               approvals are not dated history) plus payouts recorded and awaiting approval
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm

from app.extensions import db
from app.i18n import _l, vietnamese
from app.models import (
    CHANNEL_LABELS, COUNTED_STATUSES, CaseState, Channel, Disbursement, DisbursementStatus, Donation, Donor,
    DonorKind, PAYEE_KINDS, Programme, SupportCase,
)
from app.services.reports.period import ChildCount, Period
from app.timeutil import local_day_start_utc, to_local

# Labels are made in the language being drawn (str() below): Vietnamese in a report, which is
# built inside `vietnamese()` (app/services/reports/catalogue.py); the page's on a dashboard.
SOURCE_LABELS = {DonorKind.ORGANIZATION.value: _l("Tổ chức, doanh nghiệp (tập thể)"),
                 DonorKind.INDIVIDUAL.value: _l("Cá nhân")}
_Reversal = sa.orm.aliased(Donation, name="reversal")
OPEN_CASE_STATES = (CaseState.APPROVED.value, CaseState.DISBURSING.value)


def _in_period(period: Period):
    return sa.and_(Donation.counted(), Donation.received_at >= period.start_utc,
                   Donation.received_at < period.end_utc)


def _spent_in(start: date | None, end: date | None):
    where = [Disbursement.counted()]
    if start is not None:
        where.append(Disbursement.paid_on >= start)
    if end is not None:
        where.append(Disbursement.paid_on <= end)
    return sa.and_(*where)


# --------------------------------------------------------------------------- money in

@dataclass(frozen=True)
class Line:
    """One labelled figure: an amount and how many gifts (or donors) make it."""

    key: str
    label: str
    amount: int
    count: int = 0


@dataclass(frozen=True)
class Received:
    total: int
    money: int  # cash, transfer, card
    in_kind: int  # valuation of gifts in kind
    gifts: int  # gifts (not reversal rows) in the period
    donors: int
    by_channel: list[Line]
    by_source: list[Line]  # count = donors


def received(period: Period, *, appeal_id: int | None = None, extra=None) -> Received:
    where = [_in_period(period)]
    if appeal_id is not None:
        where.append(Donation.appeal_id == appeal_id)
    if extra is not None:
        where.append(extra)
    # One pass over the period's rows: net amount and gifts per donor and channel; the
    # channel and source figures are then sums over those (far fewer) rows. (Three passes,
    # each with its own COUNT(DISTINCT), took 7 s over a million rows on PostgreSQL.)
    gift = Donation.reverses_id.is_(None)
    per_donor = (sa.select(Donation.donor_id, Donation.channel, Donation.net_sum().label("amount"),
                           sa.func.count().filter(gift).label("gifts"))
                 .where(*where).group_by(Donation.donor_id, Donation.channel).cte("per_donor"))
    channels: dict[str, tuple[int, int]] = {}
    sources: dict[str, tuple[int, int]] = {}
    by_channel_q = sa.select(sa.literal("c").label("part"), per_donor.c.channel.label("key"),
                             sa.func.sum(per_donor.c.amount).label("amount"), sa.func.sum(per_donor.c.gifts).label("n")
                             ).group_by(per_donor.c.channel)
    by_source_q = (sa.select(sa.literal("k").label("part"), Donor.kind.label("key"), sa.func.sum(per_donor.c.amount),
                             sa.func.count(sa.distinct(per_donor.c.donor_id)))
                   .join(Donor, Donor.id == per_donor.c.donor_id).group_by(Donor.kind))
    for part, key, amount, n in db.session.execute(sa.union_all(by_channel_q, by_source_q)):
        (channels if part == "c" else sources)[key] = (int(amount or 0), int(n or 0))
    return _received(channels, sources)


def _received(channels: dict[str, tuple[int, int]], sources: dict[str, tuple[int, int]]) -> Received:
    """Money in from (amount, gifts) per channel and (amount, donors) per donor kind."""
    donors = sum(n for _amount, n in sources.values())  # a donor has one kind
    by_channel = [Line(c.value, str(CHANNEL_LABELS[c]), *channels.get(c.value, (0, 0))) for c in Channel]
    by_source = [Line(k, str(label), *sources.get(k, (0, 0))) for k, label in SOURCE_LABELS.items()]
    total = sum(line.amount for line in by_channel)
    in_kind = channels.get(Channel.IN_KIND.value, (0, 0))[0]
    return Received(total=total, money=total - in_kind, in_kind=in_kind,
                    gifts=sum(line.count for line in by_channel), donors=donors,
                    by_channel=by_channel, by_source=by_source)


@dataclass(frozen=True)
class YearPass:
    """What the yearly disclosure takes from the year's donations, read in one pass."""

    received: Received  # as received(period)
    programme_received: dict[int, int]  # net received per programme (programme_flows)
    listed_donors: list  # the commendation list's rows (commendation.build_list(totals=...))


# Up to this many programmes, their received column is summed in the same scan as the
# channels (one conditional sum each); beyond, by a GROUP BY of its own.
YEAR_PASS_PROGRAMME_COLUMNS = 24


def year_pass(period: Period, floor: int, also_donor_ids) -> YearPass:
    """The figures of `received(period)`, the received column of `programme_flows(period)`
    and the rows of the commendation list (`commendation.listed_donors_select`), from two
    statements over the period's counted donations instead of four:

    * one GROUP BY donor (net; and net, gifts and rows credited to the donor), the
      commendation rows and the money per kind of donor taken from it in the same statement;
    * one scan without GROUP BY: money and gifts per channel and money per programme as
      conditional sums.

    The same sums over the same rows as the separate queries. SQLite sorts the year's rows
    once (by donor, a single integer key) instead of three times; PostgreSQL hashes them once.
    For a whole year only: the commendation list is of a calendar year."""
    from app.services import commendation

    assert period.is_whole_year, "the commendation list is of a whole year"
    signed, gift = Donation.signed_amount, Donation.reverses_id.is_(None)
    credited = Donation.donor_check.is_(None)  # Donation.credited() within counted rows
    per_donor = (sa.select(Donation.donor_id, Donation.net_sum().label("net"),
                           sa.func.sum(signed).filter(credited).label("credited_net"),
                           sa.func.count().filter(sa.and_(credited, gift)).label("credited_gifts"),
                           sa.func.count().filter(credited).label("credited_rows"))
                 .where(_in_period(period)).group_by(Donation.donor_id).cte("year_donors"))
    credited_donors = (sa.select(per_donor.c.donor_id,
                                 sa.cast(per_donor.c.credited_net, sa.BigInteger).label("net"),
                                 per_donor.c.credited_gifts.label("gifts"))
                       .where(per_donor.c.credited_rows > 0).subquery("credited_donors"))
    listed = commendation.listed_donors_select(credited_donors, floor, also_donor_ids).subquery("listed")
    nothing = sa.null()
    statement = sa.union_all(
        sa.select(sa.literal("d").label("part"), listed.c.id, listed.c.kind, listed.c.name, listed.c.tax_code,
                  listed.c.address, listed.c.anonymous, listed.c.public_listing_consent,
                  listed.c.net, listed.c.gifts),
        sa.select(sa.literal("k"), sa.cast(nothing, sa.Integer), Donor.kind, sa.cast(nothing, sa.String),
                  sa.cast(nothing, sa.String), sa.cast(nothing, sa.String), sa.cast(nothing, sa.Boolean),
                  sa.cast(nothing, sa.Boolean), sa.func.sum(per_donor.c.net), sa.func.count())
        .join(Donor, Donor.id == per_donor.c.donor_id).group_by(Donor.kind),
    )
    sources: dict[str, tuple[int, int]] = {}
    listed_rows = []
    for part, *row in db.session.execute(statement):
        if part == "d":
            listed_rows.append(tuple(row))
        else:
            sources[row[1]] = (int(row[7] or 0), int(row[8] or 0))

    programme_ids = list(db.session.scalars(sa.select(Programme.id).order_by(Programme.id)))
    few = len(programme_ids) <= YEAR_PASS_PROGRAMME_COLUMNS
    columns = []
    for channel in Channel:
        on_channel = Donation.channel == channel.value
        columns += [sa.func.sum(signed).filter(on_channel), sa.func.count().filter(sa.and_(on_channel, gift))]
    if few:
        columns += [sa.func.sum(signed).filter(Donation.programme_id == p) for p in programme_ids]
    values = [int(v or 0) for v in db.session.execute(sa.select(*columns).where(_in_period(period))).one()]
    channels = {channel.value: (values[2 * i], values[2 * i + 1]) for i, channel in enumerate(Channel)}
    if few:
        programmes = dict(zip(programme_ids, values[2 * len(Channel):]))
    else:
        programmes = _by_programme(sa.select(Donation.programme_id, Donation.net_sum())
                                   .where(_in_period(period)).group_by(Donation.programme_id))
    return YearPass(_received(channels, sources), programmes, listed_rows)


@dataclass(frozen=True)
class InKindGift:
    received_on: date
    description: str
    amount: int


def in_kind_gifts(period: Period, *, appeal_id: int | None = None) -> list[InKindGift]:
    """The in-kind gifts of the period (net of reversals), described without the donor."""
    # The channel as a literal: SQLite uses the partial index ix_donations_in_kind only when
    # the query's condition visibly implies the index's (a bound parameter does not).
    where = [_in_period(period), Donation.channel == sa.literal_column(f"'{Channel.IN_KIND.value}'"),
             Donation.reverses_id.is_(None)]
    if appeal_id is not None:
        where.append(Donation.appeal_id == appeal_id)
    rows = db.session.execute(sa.select(Donation.id, Donation.received_at, Donation.in_kind_description,
                                        Donation.amount)
                              .where(*where).order_by(Donation.received_at, Donation.id)).all()
    # Reversals are few (read through ix_donations_reversals), so they are summed once
    # rather than looked up gift by gift.
    returned = {original: int(total) for original, total in db.session.execute(
        sa.select(_Reversal.reverses_id, sa.func.sum(_Reversal.amount))
        .where(_Reversal.reverses_id.is_not(None), _Reversal.status.in_(COUNTED_STATUSES),
               _Reversal.channel == Channel.IN_KIND.value)
        .group_by(_Reversal.reverses_id))}
    gifts = [InKindGift(to_local(at).date(), text or "Hiện vật", int(amount) - returned.get(gift_id, 0))
             for gift_id, at, text, amount in rows]
    return [g for g in gifts if g.amount > 0]


def monthly_received(period: Period) -> list[int]:
    """Net received per month of the period's year (12 figures, one scan of the year)."""
    bounds = [local_day_start_utc(date(period.year, m, 1)) for m in range(1, 13)]
    bounds.append(local_day_start_utc(date(period.year + 1, 1, 1)))
    columns = [sa.cast(sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(Donation.received_at >= bounds[i], Donation.received_at < bounds[i + 1]),
         Donation.signed_amount), else_=0)), 0), sa.BigInteger) for i in range(12)]
    row = db.session.execute(sa.select(*columns).where(
        Donation.counted(), Donation.received_at >= bounds[0], Donation.received_at < bounds[12])).one()
    return [int(v) for v in row]


def monthly_spent(period: Period) -> list[int]:
    bounds = [date(period.year, m, 1) for m in range(1, 13)] + [date(period.year + 1, 1, 1)]
    columns = [sa.cast(sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(Disbursement.paid_on >= bounds[i], Disbursement.paid_on < bounds[i + 1]),
         Disbursement.signed_amount), else_=0)), 0), sa.BigInteger) for i in range(12)]
    row = db.session.execute(sa.select(*columns).where(
        _spent_in(bounds[0], bounds[12] - timedelta(days=1)))).one()
    return [int(v) for v in row]


# --------------------------------------------------------------------------- programmes

@dataclass(frozen=True)
class ProgrammeFlow:
    programme_id: int
    code: str
    name: str
    opening: int
    received: int
    spent: int
    reserved: int
    committed: int

    @property
    def closing(self) -> int:
        return self.opening + self.received - self.spent

    @property
    def available(self) -> int:
        """Closing balance not reserved for a particular child."""
        return self.closing - self.reserved


@dataclass(frozen=True)
class ProgrammeFlows:
    rows: list[ProgrammeFlow]

    def total(self, attribute: str) -> int:
        return sum(getattr(row, attribute) for row in self.rows)

    @property
    def totals(self) -> dict[str, int]:
        return {name: self.total(name) for name in
                ("opening", "received", "spent", "reserved", "committed", "closing", "available")}


def _by_programme(query) -> dict[int, int]:
    return {p: int(v) for p, v in db.session.execute(query)}


def programme_flows(period: Period, *, received: dict[int, int] | None = None) -> ProgrammeFlows:
    """Per programme (restricted fund): opening, received, spent, reserved, committed, closing.
    `received`: the period's net received per programme when already summed (`year_pass`)."""
    # `programme_id + 0`: grouped by the plain column, SQLite walked ix_donations_programme_id
    # (the whole table, to save a sort of the few programmes) instead of reading the rows
    # before the period from ix_donations_reports alone.
    programme = Donation.programme_id + sa.literal_column("0")
    before = _by_programme(sa.select(programme, Donation.net_sum()).where(
        Donation.counted(), Donation.received_at < period.start_utc).group_by(programme))
    during = received if received is not None else _by_programme(
        sa.select(Donation.programme_id, Donation.net_sum()).where(_in_period(period)).group_by(Donation.programme_id))
    spent_before = _by_programme(sa.select(Disbursement.programme_id, Disbursement.net_sum()).where(
        _spent_in(None, period.start - timedelta(days=1))).group_by(Disbursement.programme_id))
    spent_during = _by_programme(sa.select(Disbursement.programme_id, Disbursement.net_sum()).where(
        _spent_in(period.start, period.end)).group_by(Disbursement.programme_id))
    # Earmarks at the end of the period: designated to a case, less that case's spending
    # from the same programme up to then; never below zero per case.
    designated = db.session.execute(
        sa.select(Donation.programme_id, Donation.case_id, Donation.net_sum())
        .where(Donation.counted(), Donation.case_id.is_not(None), Donation.received_at < period.end_utc)
        .group_by(Donation.programme_id, Donation.case_id)).all()
    case_spent = {(p, c): int(v) for p, c, v in db.session.execute(
        sa.select(Disbursement.programme_id, Disbursement.case_id, Disbursement.net_sum())
        .where(_spent_in(None, period.end)).group_by(Disbursement.programme_id, Disbursement.case_id))}
    reserved: dict[int, int] = {}
    for programme_id, case_id, amount in designated:
        left = max(0, int(amount) - case_spent.get((programme_id, case_id), 0))
        reserved[programme_id] = reserved.get(programme_id, 0) + left
    # Committed (today): approved support of open cases not yet paid, plus recorded payouts.
    approved = db.session.execute(
        sa.select(SupportCase.id, SupportCase.programme_id, SupportCase.support_approved)
        .where(SupportCase.state.in_(OPEN_CASE_STATES), SupportCase.support_approved.is_not(None))).all()
    paid_per_case = {c: int(v) for c, v in db.session.execute(
        sa.select(Disbursement.case_id, Disbursement.net_sum()).where(Disbursement.counted())
        .group_by(Disbursement.case_id))}
    committed: dict[int, int] = {}
    for case_id, programme_id, amount in approved:
        left = max(0, int(amount) - paid_per_case.get(case_id, 0))
        committed[programme_id] = committed.get(programme_id, 0) + left
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.sort_order, Programme.id)).all()
    rows = [ProgrammeFlow(p.id, p.code, p.name,
                          opening=before.get(p.id, 0) - spent_before.get(p.id, 0),
                          received=during.get(p.id, 0), spent=spent_during.get(p.id, 0),
                          reserved=reserved.get(p.id, 0), committed=committed.get(p.id, 0))
            for p in programmes]
    return ProgrammeFlows([r for r in rows if r.opening or r.received or r.spent or r.reserved
                           or r.committed or any(p.id == r.programme_id and p.is_active for p in programmes)])


# --------------------------------------------------------------------------- use of money

@dataclass(frozen=True)
class KindOfSupport:
    key: str
    label: str
    children: ChildCount
    amount: int


@dataclass(frozen=True)
class ProgrammeUse:
    code: str
    name: str
    children: ChildCount
    amount: int
    lowest: int  # smallest total paid for one child in the period
    highest: int
    kinds: list[KindOfSupport] = field(default_factory=list)

    @property
    def average(self) -> int:
        return self.amount // self.children.value if self.children.value else 0


def programme_use(period: Period, *, public: bool = True, appeal_case_ids=None) -> list[ProgrammeUse]:
    """How the money was used, per programme and kind of support (who was paid: hospital,
    family, school…): children reached (cases paid a net positive amount in the period),
    amounts and the level per child. Counts only, never a child's identity."""
    where = [_spent_in(period.start, period.end)]
    if appeal_case_ids is not None:
        where.append(Disbursement.case_id.in_(appeal_case_ids))
    per_case = db.session.execute(
        sa.select(Disbursement.programme_id, Disbursement.case_id, Disbursement.payee_kind,
                  Disbursement.net_sum())
        .where(*where).group_by(Disbursement.programme_id, Disbursement.case_id, Disbursement.payee_kind)).all()
    programmes = {p.id: p for p in db.session.scalars(sa.select(Programme))}
    cases: dict[int, dict[int, int]] = {}
    kinds: dict[int, dict[str, dict[int, int]]] = {}
    for programme_id, case_id, payee_kind, amount in per_case:
        cases.setdefault(programme_id, {})
        cases[programme_id][case_id] = cases[programme_id].get(case_id, 0) + int(amount)
        bucket = kinds.setdefault(programme_id, {}).setdefault(payee_kind, {})
        bucket[case_id] = bucket.get(case_id, 0) + int(amount)
    out = []
    for programme_id in sorted(cases, key=lambda p: (programmes[p].sort_order, p)):
        paid = [v for v in cases[programme_id].values() if v > 0]
        total = sum(cases[programme_id].values())
        with vietnamese():  # the statutory reports' wording: stays Vietnamese
            kind_rows = [KindOfSupport(k, str(PAYEE_KINDS.get(k, k)),
                                       ChildCount(sum(1 for v in per.values() if v > 0), public),
                                       sum(per.values()))
                         for k, per in sorted(kinds[programme_id].items())]
        p = programmes[programme_id]
        out.append(ProgrammeUse(p.code, p.name, ChildCount(len(paid), public), total,
                                min(paid, default=0), max(paid, default=0), kind_rows))
    return out


def children_reached(period: Period, *, public: bool = True, appeal_case_ids=None) -> ChildCount:
    """Distinct children (cases) paid a net positive amount in the period, whatever the
    programme (a child helped by two programmes counts once)."""
    where = [_spent_in(period.start, period.end)]
    if appeal_case_ids is not None:
        where.append(Disbursement.case_id.in_(appeal_case_ids))
    paid = (sa.select(Disbursement.case_id).where(*where).group_by(Disbursement.case_id)
            .having(Disbursement.net_sum() > 0).subquery())
    return ChildCount(int(db.session.scalar(sa.select(sa.func.count()).select_from(paid))), public)


def disbursements_pending() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).where(
        Disbursement.status == DisbursementStatus.RECORDED.value)))

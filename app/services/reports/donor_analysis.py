"""Donor analysis for the fund's staff (internal: names are shown): first-time donors of the
period, LYBUNT (gave last year, not in this period), SYBUNT (gave in some earlier year but
neither last year nor in this period — disjoint from LYBUNT, so the two add up), the top
donors of the period and the donors near the commendation threshold."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Donor, DonorKind
from app.renderers.reports import Column, Paragraph, ReportDocument, Section, Table
from app.services import commendation
from app.services.reports import layout
from app.services.reports.documents import FundInfo, fund_info
from app.services.reports.period import Period
from app.timeutil import local_day_start_utc

LIST_LIMIT = 50


@dataclass(frozen=True)
class DonorLine:
    donor_id: int
    name: str
    kind_label: str
    amount: int  # net in the period (top, first-time) or in the year it refers to


@dataclass(frozen=True)
class DonorGroup:
    count: int
    amount: int
    top: list[DonorLine]


@dataclass(frozen=True)
class DonorAnalysis:
    period: Period
    fund: FundInfo
    donors: int
    total: int
    first_time: DonorGroup
    lybunt: DonorGroup  # amount: what they gave last year
    sybunt: DonorGroup  # amount: what they gave before last year
    top: list[DonorLine]
    threshold: int
    near_threshold: list[DonorLine]


def _per_donor(where) -> dict[int, int]:
    return {d: int(v) for d, v in db.session.execute(
        sa.select(Donation.donor_id, Donation.net_sum()).where(Donation.counted(), *where)
        .group_by(Donation.donor_id))}


def _lines(amounts: dict[int, int], limit: int = LIST_LIMIT) -> list[DonorLine]:
    chosen = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    donors = {d.id: d for d in db.session.scalars(sa.select(Donor).where(Donor.id.in_([k for k, _ in chosen])))}
    return [DonorLine(k, donors[k].name, str(DonorKind(donors[k].kind).label), v) for k, v in chosen]


def _group(amounts: dict[int, int]) -> DonorGroup:
    return DonorGroup(len(amounts), sum(amounts.values()), _lines(amounts))


def donor_analysis(period: Period) -> DonorAnalysis:
    last_year = (local_day_start_utc(date(period.year - 1, 1, 1)), local_day_start_utc(date(period.year, 1, 1)))
    this = {d: v for d, v in _per_donor([Donation.received_at >= period.start_utc,
                                         Donation.received_at < period.end_utc]).items() if v > 0}
    earlier = {d: v for d, v in _per_donor([Donation.received_at < period.start_utc]).items() if v > 0}
    last = {d: v for d, v in _per_donor([Donation.received_at >= last_year[0],
                                         Donation.received_at < min(last_year[1], period.start_utc)]).items() if v > 0}
    before_last = {d: v for d, v in _per_donor([Donation.received_at < last_year[0]]).items() if v > 0}
    first_time = {d: v for d, v in this.items() if d not in earlier}
    lybunt = {d: v for d, v in last.items() if d not in this}
    sybunt = {d: v for d, v in before_last.items() if d not in this and d not in last}
    clist = commendation.build_list(period.year)
    return DonorAnalysis(
        period=period, fund=fund_info(), donors=len(this), total=sum(this.values()), first_time=_group(first_time),
        lybunt=_group(lybunt), sybunt=_group(sybunt), top=_lines(this, 20), threshold=clist.threshold,
        near_threshold=[DonorLine(e.donor_id, e.printed_name, e.group_label, e.amount) for e in clist.near_threshold])


def _table(lines: list[DonorLine], amount_label: str, empty: str) -> Table:
    return layout.donor_table([(d.name, d.kind_label, d.amount) for d in lines], amount_label,
                              name_label="Nhà hảo tâm", empty_text=empty)


def document(report: DonorAnalysis, *, number: str | None = None) -> ReportDocument:
    p = report.period
    summary = Table((Column("Nhóm nhà hảo tâm", 70), Column("Số người", 20, "count"), Column("Số tiền (đồng)", 30, "money")),
                    (("Ủng hộ trong kỳ", report.donors, report.total),
                     ("Lần đầu ủng hộ (trong kỳ)", report.first_time.count, report.first_time.amount),
                     (f"Ủng hộ năm {p.year - 1}, chưa ủng hộ trong kỳ (LYBUNT)", report.lybunt.count, report.lybunt.amount),
                     (f"Ủng hộ trước năm {p.year - 1}, chưa ủng hộ lại (SYBUNT)", report.sybunt.count, report.sybunt.amount)))
    return layout.report_document(
        report.fund, number=number, slug=f"nha-hao-tam-{p.key}",
        title=("PHÂN TÍCH NHÀ HẢO TÂM", p.label.upper()),
        subtitle="(Tài liệu nội bộ — không công khai)",
        sections=(
            Section("I. TỔNG HỢP", (
                Paragraph("LYBUNT: đã ủng hộ năm trước nhưng chưa ủng hộ trong kỳ (số tiền: của năm trước). "
                          "SYBUNT: đã ủng hộ trước năm trước, không ủng hộ năm trước và trong kỳ (số tiền: tổng các "
                          "năm đó). Hai nhóm không trùng nhau.", "I"),
                summary,
            )),
            Section("II. NHÀ HẢO TÂM ỦNG HỘ NHIỀU NHẤT TRONG KỲ", (
                _table(report.top, "Số tiền trong kỳ", "Chưa có khoản ủng hộ trong kỳ."),)),
            Section("III. NHÀ HẢO TÂM LẦN ĐẦU ỦNG HỘ", (
                _table(report.first_time.top, "Số tiền trong kỳ", "Không có."),)),
            Section(f"IV. CẦN LIÊN HỆ LẠI: ĐÃ ỦNG HỘ NĂM {p.year - 1} (LYBUNT)", (
                _table(report.lybunt.top, f"Số tiền năm {p.year - 1}", "Không có."),)),
            Section("V. CẦN LIÊN HỆ LẠI: ĐÃ ỦNG HỘ CÁC NĂM TRƯỚC (SYBUNT)", (
                _table(report.sybunt.top, "Số tiền các năm trước", "Không có."),)),
            Section(f"VI. GẦN ĐẠT NGƯỠNG KHEN THƯỞNG ({layout.money(report.threshold)})", (
                _table(report.near_threshold, f"Số tiền năm {p.year}", "Không có."),)),
        ))

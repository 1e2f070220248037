"""The Action Month for Children results (plan III.7, sent to the parent department before
15 July): what businesses and individuals gave during the month (1–30 June by default; the
dates are editable), support per programme, children reached, and the commendation
proposals. An internal report to the department: child counts are exact."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.renderers.reports import Paragraph, ReportDocument, Section
from app.services import commendation
from app.services.reports import figures, layout
from app.services.reports.documents import FundInfo, fund_info
from app.services.reports.period import ChildCount, Period, make_period


def default_period(year: int) -> Period:
    return make_period(year, date(year, 6, 1), date(year, 6, 30))


@dataclass(frozen=True)
class ActionMonth:
    period: Period
    fund: FundInfo
    received: figures.Received
    use: list[figures.ProgrammeUse]
    children: ChildCount
    commendation_year: int
    commendation_threshold: int
    organizations: list[tuple[str, int]]
    individuals: list[tuple[str, int]]
    submission_number: str | None


def action_month(period: Period) -> ActionMonth:
    if period.is_whole_year:
        period = default_period(period.year)
    # The awards handed out at the Action Month launch are for the previous year's gifts.
    year = period.year - 1
    clist = commendation.build_list(year) if year >= commendation.FIRST_YEAR else None
    submissions = commendation.submissions_for(year) if clist else []
    return ActionMonth(
        period=period, fund=fund_info(), received=figures.received(period),
        use=figures.programme_use(period, public=False),
        children=figures.children_reached(period, public=False), commendation_year=year,
        commendation_threshold=clist.threshold if clist else 0,
        organizations=[(e.printed_name, e.amount) for e in clist.organizations] if clist else [],
        individuals=[(e.printed_name, e.amount) for e in clist.individuals] if clist else [],
        submission_number=submissions[0].number if submissions else None)


def document(report: ActionMonth, *, number: str | None = None) -> ReportDocument:
    r = report.received
    _by_channel, by_source = layout.received_tables(r)
    proposals = layout.donor_table(
        [(n, "Tập thể", a) for n, a in report.organizations] + [(n, "Cá nhân", a) for n, a in report.individuals],
        name_label="Tên tập thể / cá nhân", empty_text="Không có tập thể, cá nhân đạt mức đề nghị khen thưởng.")
    submitted = (f" Danh sách đã chốt số {report.submission_number}." if report.submission_number
                 else " Danh sách chưa được chốt.")
    return layout.report_document(
        report.fund, number=number, slug=f"thang-hanh-dong-{report.period.key}",
        title=("KẾT QUẢ VẬN ĐỘNG, HỖ TRỢ TRẺ EM TRONG THÁNG HÀNH ĐỘNG VÌ TRẺ EM",
                     f"NĂM {report.period.year}"),
        subtitle=f"(Số liệu {report.period.label})",
        sections=(
            Section("I. KẾT QUẢ VẬN ĐỘNG", (
                Paragraph(f"Trong Tháng hành động, Quỹ tiếp nhận {layout.money(r.total)} (bằng tiền "
                          f"{layout.money(r.money)}, hiện vật {layout.money(r.in_kind)}) từ {r.donors} "
                          f"nhà hảo tâm, {r.gifts} lượt ủng hộ."),
                by_source,
            )),
            Section("II. KẾT QUẢ HỖ TRỢ THEO CHƯƠNG TRÌNH", (
                Paragraph(f"Tổng số trẻ em được hỗ trợ: {report.children}; tổng số tiền: "
                          f"{layout.money(sum(u.amount for u in report.use))}."),
                layout.use_table(report.use),
            )),
            Section("III. ĐỀ NGHỊ KHEN THƯỞNG", (
                Paragraph(f"Tập thể, cá nhân có tổng giá trị ủng hộ năm {report.commendation_year} từ "
                          f"{layout.money(report.commendation_threshold)} trở lên được đề nghị Chủ tịch UBND "
                          f"thành phố tặng Bằng khen: {len(report.organizations)} tập thể, "
                          f"{len(report.individuals)} cá nhân.{submitted}"),
                proposals,
            )),
        ),
        recipients=layout.REPORT_RECIPIENTS)

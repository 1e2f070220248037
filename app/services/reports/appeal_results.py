"""Results of one call for contributions (Decree 93/2021, art. 14): the call, what was
received in money and in kind, when and how, how it was distributed, who was supported and
at what level. Public document: child counts below 5 read "< 5"."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.errors import NotFound
from app.extensions import db
from app.i18n import _
from app.models import Appeal, AppealStatus, Donation, Programme
from app.renderers.reports import Chart, Column, Paragraph, ReportDocument, Section, Table
from app.services.reports import figures, layout
from app.services.reports.documents import FundInfo, fund_info
from app.services.reports.period import ChildCount, Period
from app.timeutil import to_local
from app.vnd import amount_in_words


@dataclass(frozen=True)
class AppealResults:
    period: Period
    fund: FundInfo
    slug: str
    title: str
    summary: str | None
    starts_on: date | None
    ends_on: date | None
    goal: int | None
    status_label: str
    received: figures.Received
    in_kind_gifts: list[figures.InKindGift]
    first_gift: date | None
    last_gift: date | None
    by_programme: list[figures.Line]
    use: list[figures.ProgrammeUse]
    children: ChildCount

    @property
    def percent(self) -> int | None:
        if not self.goal:
            return None
        return max(0, self.received.total) * 100 // self.goal


def get_appeal(slug: str) -> Appeal:
    appeal = db.session.scalars(sa.select(Appeal).where(Appeal.slug == (slug or "").strip())).first()
    if appeal is None:
        raise NotFound(_("Không tìm thấy chiến dịch «%(slug)s».", slug=slug))
    return appeal


def appeal_results(period: Period, slug: str) -> AppealResults:
    appeal = get_appeal(slug)
    received = figures.received(period, appeal_id=appeal.id)
    in_period = sa.and_(Donation.counted(), Donation.appeal_id == appeal.id,
                        Donation.received_at >= period.start_utc, Donation.received_at < period.end_utc)
    first, last = db.session.execute(sa.select(sa.func.min(Donation.received_at), sa.func.max(Donation.received_at))
                                     .where(in_period, Donation.reverses_id.is_(None))).one()
    programmes = db.session.execute(
        sa.select(Programme.id, Programme.code, Programme.name, Donation.net_sum(), sa.func.count())
        .join(Programme, Programme.id == Donation.programme_id).where(in_period)
        .group_by(Programme.id, Programme.code, Programme.name, Programme.sort_order)
        .order_by(Programme.sort_order)).all()
    ids = {row[0] for row in programmes}
    # The appeal's money joins its programmes' funds: the support it made possible is the
    # support those programmes paid in the period.
    use = [u for u in figures.programme_use(period) if u.code in {row[1] for row in programmes}]
    return AppealResults(
        period=period, fund=fund_info(), slug=appeal.slug, title=appeal.title, summary=appeal.summary,
        starts_on=appeal.starts_on, ends_on=appeal.ends_on, goal=appeal.goal_amount,
        status_label=str(AppealStatus(appeal.status).label), received=received,
        in_kind_gifts=figures.in_kind_gifts(period, appeal_id=appeal.id),
        first_gift=to_local(first).date() if first else None, last_gift=to_local(last).date() if last else None,
        by_programme=[figures.Line(code, name, int(amount), int(n)) for _id, code, name, amount, n in programmes],
        use=use, children=ChildCount(sum(u.children.value for u in use)) if ids else ChildCount(0))


def document(report: AppealResults, *, number: str | None = None) -> ReportDocument:
    r = report.received
    by_channel, by_source = layout.received_tables(r)
    dates = (f"từ ngày {report.starts_on:%d/%m/%Y}" if report.starts_on else "") + \
            (f" đến ngày {report.ends_on:%d/%m/%Y}" if report.ends_on else "")
    goal = (f" Mục tiêu vận động: {layout.money(report.goal)}; đạt {report.percent}%." if report.goal else "")
    gifts_when = (f"Các khoản ủng hộ được tiếp nhận từ ngày {report.first_gift:%d/%m/%Y} đến ngày "
                  f"{report.last_gift:%d/%m/%Y}" if report.first_gift else "Chưa tiếp nhận khoản ủng hộ nào")
    return layout.report_document(
        report.fund, number=number, slug=f"ket-qua-van-dong-{report.slug}-{report.period.key}",
        title=("KẾT QUẢ VẬN ĐỘNG, TIẾP NHẬN VÀ PHÂN BỔ", f"«{report.title.upper()}»"),
        subtitle=f"(Theo Điều 14 Nghị định số 93/2021/NĐ-CP; số liệu {report.period.label})",
        sections=(
            Section("I. ĐỢT VẬN ĐỘNG", (
                Paragraph(f"Tên đợt vận động: {report.title}. Thời gian: {dates.strip() or 'không xác định'}. "
                          f"Trạng thái: {report.status_label}.{goal}"),
                *((Paragraph(report.summary),) if report.summary else ()),
            )),
            Section("II. KẾT QUẢ TIẾP NHẬN", (
                Paragraph(f"Tổng giá trị tiếp nhận: {layout.money(r.total)} (bằng chữ: {amount_in_words(r.total)}), "
                          f"trong đó bằng tiền {layout.money(r.money)}, bằng hiện vật {layout.money(r.in_kind)}; "
                          f"{r.gifts} lượt ủng hộ của {r.donors} nhà hảo tâm. {gifts_when}, qua các hình thức dưới đây; "
                          "mỗi khoản được cấp giấy chứng nhận có số."),
                by_channel, by_source,
                layout.in_kind_table(report.in_kind_gifts, empty_text="Không tiếp nhận hiện vật."),
            )),
            Section("III. PHÂN BỔ", (
                Table((Column("Chương trình", 70), Column("Số lượt", 18, "count"), Column("Số tiền (đồng)", 30, "money")),
                      tuple((line.label, line.count, line.amount) for line in report.by_programme),
                      ("Cộng", sum(line.count for line in report.by_programme), r.total),
                      title="Tiền và hiện vật tiếp nhận được đưa vào các chương trình"),
                Chart(layout.channel_chart(r, "Tiếp nhận theo hình thức")),
            )),
            Section("IV. ĐỐI TƯỢNG ĐƯỢC HỖ TRỢ VÀ MỨC HỖ TRỢ", (
                Paragraph(f"Số trẻ em được hỗ trợ từ các chương trình trên trong kỳ: {report.children}. "
                          "Mức hỗ trợ theo quyết định phê duyệt của Giám đốc Quỹ cho từng hồ sơ; không công bố "
                          "thông tin định danh trẻ em, nhóm dưới 5 trẻ ghi «< 5».", ""),
                layout.use_table(report.use),
            )),
        ),
        recipients=("Sở Y tế thành phố (để báo cáo)", "Trang thông tin điện tử của Quỹ", "Lưu: VT, KT"))

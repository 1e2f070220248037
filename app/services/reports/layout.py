"""Report data → printable documents (app/renderers/reports.py). Only layout here: every
figure comes from the data functions, already computed."""
from __future__ import annotations

from app.renderers.charts import ChartSpec
from app.renderers.reports import Chart, Column, Paragraph, ReportDocument, Section, Table
from app.services.reports import figures
from app.services.reports.documents import FundInfo
from app.vnd import amount_in_words, format_vnd

MONTHS = tuple(f"T{m}" for m in range(1, 13))


REPORT_RECIPIENTS = ("Sở Y tế thành phố (để báo cáo)", "Ban Giám đốc Quỹ", "Lưu: VT, KT")


def report_document(fund: FundInfo, *, number: str | None, slug: str, title: tuple[str, ...], subtitle: str,
                    sections: tuple[Section, ...], recipients: tuple[str, ...] = ()) -> ReportDocument:
    """A report in the administrative layout: the fund's letterhead and signatory, the
    heading "BÁO CÁO" over `title`, the sections, "Nơi nhận"."""
    return ReportDocument(
        slug=slug, title_lines=("BÁO CÁO", *title), subtitle=subtitle, sections=sections, recipients=recipients,
        parent_agency=fund.parent_agency.upper(), issuing_body=fund.operator_name.upper(),
        place=fund.place, document_date=fund.document_date,
        signatory_title=fund.signatory_title, signatory_name=fund.signatory_name, number=number)


def money(amount: int) -> str:
    return f"{format_vnd(amount, symbol=False)} đồng"


# --------------------------------------------------------------------------- charts

def programme_chart(flows: figures.ProgrammeFlows, title: str) -> ChartSpec:
    rows = [r for r in flows.rows if r.received or r.spent]
    return ChartSpec(title, tuple(r.name for r in rows),
                     (("Tiếp nhận", tuple(r.received for r in rows)), ("Đã chi", tuple(r.spent for r in rows))),
                     horizontal=True)


def channel_chart(received: figures.Received, title: str) -> ChartSpec:
    lines = [line for line in received.by_channel if line.amount]
    return ChartSpec(title, tuple(line.label for line in lines),
                     (("Tiếp nhận", tuple(line.amount for line in lines)),), horizontal=True)


def monthly_chart(year: int, received: list[int], spent: list[int], title: str) -> ChartSpec:
    return ChartSpec(title, MONTHS, ((f"Tiếp nhận {year}", tuple(received)), (f"Đã chi {year}", tuple(spent))))


# --------------------------------------------------------------------------- tables

def flows_table(flows: figures.ProgrammeFlows, *, committed: bool = True) -> Table:
    columns = [Column("STT", 8, "center"), Column("Chương trình (quỹ hạn chế)", 52),
               Column("Số dư đầu kỳ", 24, "money"), Column("Tiếp nhận", 24, "money"),
               Column("Đã chi", 24, "money"), Column("Giữ cho trẻ được chỉ định", 24, "money")]
    if committed:
        columns.append(Column("Đã cam kết, chưa chi", 24, "money"))
    columns.append(Column("Số dư cuối kỳ", 24, "money"))
    rows = []
    for index, r in enumerate(flows.rows, start=1):
        values = [index, r.name, r.opening, r.received, r.spent, r.reserved]
        if committed:
            values.append(r.committed)
        rows.append(tuple(values + [r.closing]))
    t = flows.totals
    total = ["", "Cộng", t["opening"], t["received"], t["spent"], t["reserved"]]
    if committed:
        total.append(t["committed"])
    return Table(tuple(columns), tuple(rows), tuple(total + [t["closing"]]))


def received_tables(received: figures.Received) -> tuple[Table, Table]:
    by_channel = Table(
        (Column("Hình thức", 60), Column("Số lượt", 20, "count"), Column("Số tiền (đồng)", 30, "money")),
        tuple((line.label, line.count, line.amount) for line in received.by_channel),
        ("Cộng", received.gifts, received.total), title="Theo hình thức tiếp nhận")
    by_source = Table(
        (Column("Nguồn", 60), Column("Số nhà hảo tâm", 20, "count"), Column("Số tiền (đồng)", 30, "money")),
        tuple((line.label, line.count, line.amount) for line in received.by_source),
        ("Cộng", received.donors, received.total), title="Theo nguồn")
    return by_channel, by_source


def use_table(uses: list[figures.ProgrammeUse]) -> Table:
    rows = []
    for use in uses:
        rows.append((use.name, str(use.children), use.amount, use.lowest if not use.children.masked else "",
                     use.highest if not use.children.masked else ""))
        for kind in use.kinds:
            rows.append((f"   – chi qua {kind.label.lower()}", str(kind.children), kind.amount, "", ""))
    return Table((Column("Chương trình / hình thức hỗ trợ", 60), Column("Số trẻ", 16, "count"),
                  Column("Số tiền (đồng)", 28, "money"), Column("Mức thấp nhất / trẻ", 26, "money"),
                  Column("Mức cao nhất / trẻ", 26, "money")), tuple(rows),
                 ("Cộng", "", sum(u.amount for u in uses), "", ""),
                 empty_text="Chưa có khoản chi nào trong kỳ.")


def donor_table(lines, amount_label: str = "Số tiền (đồng)", *, empty_text: str,
                name_label: str = "Tên tổ chức, cá nhân") -> Table:
    """Numbered donors: `lines` are (name, group label, amount)."""
    return Table((Column("STT", 8, "center"), Column(name_label, 70), Column("Nhóm", 20),
                  Column(amount_label, 30, "money")),
                 tuple((i, name, group, amount) for i, (name, group, amount) in enumerate(lines, 1)),
                 empty_text=empty_text)


IN_KIND_LISTED = 200


def in_kind_table(gifts: list[figures.InKindGift], *, empty_text: str) -> Table:
    """The gifts in kind, one line each; beyond IN_KIND_LISTED the largest are listed (in
    date order) and the rest summed on one line, so a year of many small gifts still prints
    as a readable document. The total is always of every gift."""
    listed = gifts
    if len(gifts) > IN_KIND_LISTED:
        keep = set(sorted(range(len(gifts)), key=lambda i: (-gifts[i].amount, i))[:IN_KIND_LISTED])
        listed = [g for i, g in enumerate(gifts) if i in keep]
    rows = [(g.received_on.strftime("%d/%m/%Y"), g.description, g.amount) for g in listed]
    if len(listed) < len(gifts):
        rest = [g for i, g in enumerate(gifts) if i not in keep]
        rows.append(("", f"Các hiện vật khác ({len(rest)} lượt, mỗi lượt không quá {format_vnd(listed and min(g.amount for g in listed), symbol=False)} đồng)",
                     sum(g.amount for g in rest)))
    return Table((Column("Ngày nhận", 22, "center"), Column("Hiện vật", 80), Column("Giá trị (đồng)", 30, "money")),
                 tuple(rows), ("", "Cộng", sum(g.amount for g in gifts)) if gifts else None,
                 title="Hiện vật đã tiếp nhận", empty_text=empty_text)


# --------------------------------------------------------------------------- documents

def restricted_funds_document(report, *, number: str | None = None) -> ReportDocument:
    p = report.period
    flows = report.flows
    t = flows.totals
    return report_document(
        report.fund, number=number, slug=f"quy-han-che-{p.key}",
        title=("TÌNH HÌNH CÁC QUỸ HẠN CHẾ (CHƯƠNG TRÌNH HỖ TRỢ)", p.label.upper()),
        subtitle="(Tiếp nhận, đã chi, số giữ cho trẻ được chỉ định và số dư theo từng chương trình)",
        sections=(
            Section("1. Số liệu theo chương trình", (
                Paragraph("Đơn vị tính: đồng. Số dư cuối kỳ = số dư đầu kỳ + tiếp nhận - đã chi. "
                          "«Giữ cho trẻ được chỉ định» là phần số dư nhà hảo tâm chỉ định cho một trẻ, "
                          "chỉ được chi cho trẻ đó.", "I"),
                flows_table(flows, committed=False),
            )),
            Section("2. Tổng hợp", (
                Paragraph(f"Tổng số dư đầu kỳ: {money(t['opening'])}; tiếp nhận trong kỳ: {money(t['received'])}; "
                          f"đã chi: {money(t['spent'])}; số dư cuối kỳ: {money(t['closing'])}, trong đó giữ cho "
                          f"trẻ được chỉ định {money(t['reserved'])}, còn được sử dụng {money(t['available'])}."),
                Chart(programme_chart(flows, "Tiếp nhận và đã chi theo chương trình")),
            )),
        ),
        recipients=REPORT_RECIPIENTS)


def disclosure_document(report, *, number: str | None = None) -> ReportDocument:
    p, fund, r = report.period, report.fund, report.received
    by_channel, by_source = received_tables(r)
    bank_lines = [f"Tài khoản tiếp nhận: {fund.bank_account_number or '(chưa khai báo)'}"
                  f"{' — ' + fund.bank_account_name if fund.bank_account_name else ''}"
                  f"{' — ' + fund.bank_name if fund.bank_name else ''}."]
    named = donor_table([(d.name, d.kind_label, d.amount) for d in report.named_donors],
                        empty_text="Không có nhà hảo tâm nào đồng ý công khai tên trong nhóm này.")
    bank = report.bank
    bank_text = (f"Số dư theo sổ sách cuối kỳ (tổng các chương trình): {money(bank.book_balance)}. "
                 + ("Số dư theo sao kê ngân hàng: chưa có dữ liệu sao kê trong hệ thống; đối chiếu "
                    "được lập thủ công và đính kèm." if bank.bank_balance is None else
                    f"Số dư theo sao kê ngân hàng: {money(bank.bank_balance)}; chênh lệch "
                    f"{money(bank.difference)}."))
    costs = (tuple(Paragraph(f"{c.label}: {money(c.amount)}.") for c in report.costs)
             or (Paragraph("Chi phí quản lý, hoạt động và phí ngân hàng chưa được ghi nhận trên hệ thống "
                           "trong kỳ; nếu có, được công khai theo báo cáo tài chính của Quỹ.", "I"),))
    return report_document(
        fund, number=number, slug=f"cong-khai-{p.key}",
        title=("CÔNG KHAI TÌNH HÌNH TIẾP NHẬN, QUẢN LÝ VÀ SỬ DỤNG QUỸ", p.label.upper()),
        subtitle="(Theo Nghị định số 03/2026/NĐ-CP về tổ chức, hoạt động của quỹ xã hội, quỹ từ thiện)",
        sections=(
            Section("I. THÔNG TIN VỀ QUỸ", (
                Paragraph(f"Tên quỹ: {fund.fund_name}. Đơn vị quản lý: {fund.operator_name}. "
                          f"Cơ quan chủ quản: {fund.parent_agency}."),
                Paragraph(f"Địa chỉ: {fund.address}."
                          + (f" Điện thoại: {fund.phone}." if fund.phone else "")
                          + (f" Thư điện tử: {fund.email}." if fund.email else "")),
                *[Paragraph(text) for text in bank_lines],
            )),
            Section("II. TIẾP NHẬN TRONG KỲ", (
                Paragraph(f"Tổng giá trị tiếp nhận (thực thu, đã trừ các khoản hoàn trả, điều chỉnh): "
                          f"{money(r.total)} (bằng chữ: {amount_in_words(r.total)}), trong đó bằng tiền "
                          f"{money(r.money)}, bằng hiện vật (quy ra tiền) {money(r.in_kind)}; "
                          f"{r.gifts} lượt ủng hộ của {r.donors} nhà hảo tâm."),
                by_channel, by_source,
                Chart(channel_chart(r, "Tiếp nhận theo hình thức")),
                in_kind_table(report.in_kind_gifts, empty_text="Không tiếp nhận hiện vật trong kỳ."),
            )),
            Section(f"III. NHÀ HẢO TÂM ỦNG HỘ TỪ {format_vnd(report.threshold, symbol=False)} ĐỒNG TRỞ LÊN", (
                Paragraph("Chỉ nêu tên tổ chức, cá nhân đã đồng ý công khai."
                          + (f" Ngoài ra có {report.unnamed_above_threshold} nhà hảo tâm đạt mức này không "
                             "công khai tên." if report.unnamed_above_threshold else ""), "I"),
                named,
            )),
            Section("IV. TÌNH HÌNH CÁC QUỸ HẠN CHẾ (CHƯƠNG TRÌNH)", (
                Paragraph("Đơn vị tính: đồng. «Đã cam kết, chưa chi» là mức hỗ trợ đã phê duyệt cho các hồ sơ "
                          "đang thực hiện mà chưa chi và các khoản chi chờ duyệt, tính đến ngày lập báo cáo.", "I"),
                flows_table(report.flows),
                Chart(programme_chart(report.flows, "Tiếp nhận và đã chi theo chương trình")),
            )),
            Section("V. SỬ DỤNG QUỸ THEO CHƯƠNG TRÌNH VÀ HÌNH THỨC HỖ TRỢ", (
                Paragraph(f"Tổng số trẻ em được hỗ trợ trong kỳ: {report.children}; tổng số tiền đã chi: "
                          f"{money(report.spent)}. Không công bố thông tin định danh trẻ em; nhóm dưới 5 trẻ "
                          "được ghi «< 5»."),
                use_table(report.use),
            )),
            Section("VI. CHI PHÍ HOẠT ĐỘNG VÀ PHÍ NGÂN HÀNG", costs),
            Section("VII. ĐỐI CHIẾU SỐ DƯ NGÂN HÀNG VỚI SỔ SÁCH", (Paragraph(bank_text),)),
            Section("VIII. NƠI VÀ THỜI GIAN CÔNG KHAI", (
                Paragraph(f"Báo cáo được công khai trên trang thông tin điện tử của Quỹ tại {report.published_at} "
                          f"từ ngày {report.published_on:%d/%m/%Y}, niêm yết tại trụ sở Quỹ và gửi cơ quan "
                          "chủ quản; thời hạn công khai trước ngày 31 tháng 3 năm sau."),
            )),
        ),
        recipients=("Sở Y tế thành phố (để báo cáo)", "Sở Nội vụ, Sở Tài chính", "Trang thông tin điện tử của Quỹ",
                    "Lưu: VT, KT"))

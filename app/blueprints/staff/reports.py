"""Staff report pages, /staff/reports: every report of the catalogue
(app/services/reports/catalogue.py) as a page with its parameter form, downloads in PDF,
XLSX and CSV exactly as `flask --app wsgi reports …` writes them, and freezing a closed
period's report (numbered, immutable, SHA-256 of its PDF recorded; app/services/reports/freezing.py).

The page, the downloads and the frozen copy come from the same ReportDocument, built once
per request by the report's data function. Bad parameters are a 400 with the message.

Languages (issue 17): the page (form, buttons, messages) is in the reader's language; the
report itself is an official document and stays Vietnamese, on the page (drawn inside
`vietnamese()`, in an element marked `lang="vi"`) as in every download.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from flask_login import current_user

from app.blueprints.staff.base import bp
from app.blueprints.staff.confirm import confirmation_page
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.i18n import _, _l, vietnamese
from app.forms.reports import ReportFreezeForm
from app.models import Appeal, Role
from app.renderers import charts as chart_renderer
from app.renderers.reports import RENDERERS, Chart, Paragraph, ReportDocument, Table, cell_text, from_json
from app.security import current_actor, roles_required, user_can
from app.services.reports import catalogue, freezing
from app.services.reports.action_month import default_period
from app.services.reports.period import Period, make_period
from app.timeutil import local_today

# Reports print donors' names and amounts: the roles that read donations. Case workers
# work with children's cases and see no donor report.
READERS = (Role.DIRECTOR, Role.ACCOUNTANT, Role.VIEWER)
FREEZERS = (Role.DIRECTOR,)
DESCRIPTIONS = {
    "disclosure": _l("Công khai năm theo Nghị định 03/2026 (trước 31/3 năm sau): tiếp nhận theo hình thức và "
                     "nguồn, nhà hảo tâm đạt mức công khai, các quỹ hạn chế, sử dụng quỹ."),
    "appeal": _l("Kết quả một đợt vận động (Nghị định 93/2021, điều 14): tiếp nhận, phân phối, đối tượng hỗ trợ."),
    "action-month": _l("Kết quả Tháng hành động vì trẻ em gửi Sở (trước 15/7): mặc định 1–30/6, sửa được ngày."),
    "restricted-funds": _l("Từng chương trình: số dư đầu kỳ, tiếp nhận, đã chi, giữ cho trẻ được chỉ định, "
                           "số dư cuối kỳ."),
    "donors": _l("Nhà hảo tâm mới, năm trước có năm nay chưa (LYBUNT), từng ủng hộ (SYBUNT), lớn nhất, gần mức khen."),
}
FORMAT_LABELS = {"pdf": "PDF", "xlsx": "Excel (XLSX)", "csv": "CSV"}


def _kind_or_404(name: str) -> catalogue.ReportKind:
    if name not in catalogue.NAMES:
        abort(404)
    return catalogue.kind(name)


class _Params:
    """The report's parameters from the query string (or the freeze form), as the CLI
    takes them: year, optional from/to days within it, the appeal for `appeal`."""

    def __init__(self, name: str, source) -> None:
        self.name = name
        default_year = local_today().year - 1 if name != "appeal" else local_today().year
        self.year = (source.get("year") or "").strip()[:4] or str(default_year)
        self.date_from = (source.get("date_from") or "").strip()[:10]
        self.date_to = (source.get("date_to") or "").strip()[:10]
        self.appeal = (source.get("appeal") or "").strip()[:120] if name == "appeal" else ""

    def period(self) -> Period:
        if self.name == "action-month" and not self.date_from and not self.date_to:
            return default_period(make_period(self.year).year)
        return make_period(self.year, self.date_from or None, self.date_to or None)

    def check(self) -> None:
        if self.name == "appeal" and not self.appeal:
            raise ValidationFailed(_("Chọn chiến dịch cần báo cáo."), field="appeal")

    def query(self) -> dict:
        values = {"year": self.year, "date_from": self.date_from, "date_to": self.date_to, "appeal": self.appeal}
        return {k: v for k, v in values.items() if v}


def _blocks(document: ReportDocument) -> list[tuple[str, list[tuple[str, object, str | None]]]]:
    """The document's sections as (title, [(kind, block, svg)]) for the template."""
    sections = []
    for section in document.sections:
        blocks = []
        for block in section.blocks:
            if isinstance(block, Chart):
                blocks.append(("chart", block.spec, None if block.spec.is_empty else chart_renderer.svg(block.spec)))
            elif isinstance(block, Table):
                blocks.append(("table", block, None))
            elif isinstance(block, Paragraph):
                blocks.append(("paragraph", block, None))
        sections.append((section.title, blocks))
    return sections


def _official(document: ReportDocument) -> Markup:
    """The report's body as HTML, drawn in Vietnamese (its charts and table texts too),
    whatever the reader's language: an official document."""
    with vietnamese():
        return Markup(render_template("staff/reports/_body.html", document=document,
                                      sections=_blocks(document), cell_text=cell_text))


def _appeals() -> list[Appeal]:
    return list(db.session.scalars(sa.select(Appeal).order_by(Appeal.starts_on.desc(), Appeal.id.desc())))


@bp.get("/reports")
@roles_required(*READERS)
def report_index():
    kinds = [catalogue.kind(name) for name in catalogue.NAMES]
    return render_template("staff/reports/index.html", kinds=kinds, descriptions=DESCRIPTIONS,
                           frozen=freezing.frozen_list(), formats=FORMAT_LABELS)


@bp.get("/reports/<name>")
@roles_required(*READERS)
def report_page(name: str):
    kind = _kind_or_404(name)
    params = _Params(name, request.args)
    document, period, error = None, None, None
    try:
        params.check()
        period = params.period()
        document = catalogue.build_document(name, period, appeal=params.appeal or None)
    except DomainError as failure:
        error = failure.message
    form = ReportFreezeForm(formdata=None, data=params.query())
    may_freeze = (document is not None and period.is_closed and user_can(*FREEZERS))
    return render_template("staff/reports/report.html", kind=kind, params=params, document=document,
                           body=_official(document) if document else None, period=period, error=error,
                           appeals=_appeals() if name == "appeal" else [], formats=FORMAT_LABELS,
                           form=form, may_freeze=may_freeze,
                           frozen=freezing.frozen_list(name, period.year) if period else []), \
        (400 if error else 200)


def _download(exported: catalogue.ExportFile) -> Response:
    return Response(exported.data, content_type=exported.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{exported.filename}"'})


@bp.get("/reports/<name>/download.<fmt>")
@roles_required(*READERS)
def report_download(name: str, fmt: str):
    _kind_or_404(name)
    if fmt not in RENDERERS:
        abort(404)
    params = _Params(name, request.args)
    try:
        params.check()
        exported = catalogue.export(name, params.period(), fmt, appeal=params.appeal or None)
    except DomainError as failure:
        return render_template("errors/error.html", code=400, message=failure.message), 400
    return _download(exported)


def _freeze_sentence(kind: catalogue.ReportKind, period: Period, appeal: str) -> str:
    """What freezing will do, in the reader's language (the period as the page shows it)."""
    from app.i18n import date_text

    if period.is_whole_year:
        when = _("năm %(year)s", year=period.year)
    else:
        when = _("từ ngày %(start)s đến ngày %(end)s", start=date_text(period.start), end=date_text(period.end))
    if appeal:
        return _("Báo cáo «%(title)s» %(period)s, chiến dịch «%(appeal)s» sẽ được đánh số và lưu nguyên văn "
                 "(PDF kèm mã băm SHA-256).", title=kind.title, period=when, appeal=appeal)
    return _("Báo cáo «%(title)s» %(period)s sẽ được đánh số và lưu nguyên văn (PDF kèm mã băm SHA-256).",
             title=kind.title, period=when)


@bp.post("/reports/<name>/freeze")
@roles_required(*FREEZERS)
def report_freeze(name: str):
    kind = _kind_or_404(name)
    form = ReportFreezeForm()
    params = _Params(name, request.form)
    back = url_for("staff.report_page", name=name, **params.query())
    if not form.validate():
        return render_template("errors/error.html", code=400, message=_("Tham số báo cáo không hợp lệ.")), 400
    try:
        params.check()
        period = params.period()
        if not period.is_closed:
            raise ValidationFailed(_("Kỳ báo cáo chưa kết thúc: chỉ chốt báo cáo của kỳ đã qua."))
    except DomainError as failure:
        return render_template("errors/error.html", code=400, message=failure.message), 400
    page = confirmation_page(
        _("Chốt báo cáo: %(title)s", title=kind.title),
        [_freeze_sentence(kind, period, params.appeal),
         _("Bản đã chốt không sửa, không xóa được; số liệu thay đổi sau này chỉ có trong một lần chốt mới.")],
        button=_("Chốt báo cáo"), cancel_url=back, style="primary")
    if page is not None:
        return page
    try:
        row = freezing.freeze(name, period, current_actor(), appeal=params.appeal or None)
    except DomainError as failure:
        flash(failure.message, "danger")
        return redirect(back)
    flash(_("Đã chốt báo cáo số %(number)s (SHA-256 %(hash)s…).", number=row.number, hash=row.pdf_sha256[:16]),
          "success")
    return redirect(url_for("staff.report_frozen", frozen_id=row.id))


@bp.get("/reports/frozen/<int:frozen_id>")
@roles_required(*READERS)
def report_frozen(frozen_id: int):
    row = freezing.get(frozen_id)
    document = from_json(row.document_json)
    return render_template("staff/reports/frozen.html", row=row, document=document, body=_official(document),
                           formats=FORMAT_LABELS, kind=catalogue.kind(row.report))


@bp.get("/reports/frozen/<int:frozen_id>/download.<fmt>")
@roles_required(*READERS)
def report_frozen_download(frozen_id: int, fmt: str):
    if fmt not in RENDERERS:
        abort(404)
    return _download(freezing.export_frozen(freezing.get(frozen_id), fmt))


@bp.app_context_processor
def _report_helpers():
    return {"may_read_reports": lambda: current_user.is_authenticated and user_can(*READERS)}

"""Every report by name, for the CLI, the staff pages and freezing: build its data, lay it
out as a document, render it in a format.

A report is an official document: it is built and rendered inside `vietnamese()`, so every
label it takes from elsewhere (channels, kinds of donor, statuses) is Vietnamese whatever
the reader's language. Its name in the catalogue (`ReportKind.title`) and the errors are
the page's, in the reader's language."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app

from app.errors import ValidationFailed
from app.i18n import _, _l, vietnamese
from app.renderers.reports import RENDERERS, ReportDocument, render
from app.services.reports import disclosure as disclosure_reports
from app.services.reports import layout
from app.services.reports.period import Period


def public_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/cong-khai"


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str  # the page's name of the report (lazy: in the reader's language)
    needs_appeal: bool
    build: Callable  # (period, **options) -> data
    document: Callable  # (data, number=None) -> ReportDocument


def _kinds() -> dict[str, ReportKind]:
    from app.services.reports import action_month, appeal_results, donor_analysis

    return {k.name: k for k in (
        ReportKind("disclosure", _l("Báo cáo công khai năm"), False,
                   lambda period, **_: disclosure_reports.disclosure(period, public_url=public_url()),
                   layout.disclosure_document),
        ReportKind("appeal", _l("Kết quả đợt vận động"), True,
                   lambda period, appeal=None, **_: appeal_results.appeal_results(period, appeal),
                   appeal_results.document),
        ReportKind("action-month", _l("Kết quả Tháng hành động vì trẻ em"), False,
                   lambda period, **_: action_month.action_month(period), action_month.document),
        ReportKind("restricted-funds", _l("Tình hình các quỹ hạn chế"), False,
                   lambda period, **_: disclosure_reports.restricted_funds(period),
                   layout.restricted_funds_document),
        ReportKind("donors", _l("Phân tích nhà hảo tâm"), False,
                   lambda period, **_: donor_analysis.donor_analysis(period), donor_analysis.document),
    )}


NAMES = ("disclosure", "appeal", "action-month", "restricted-funds", "donors")
FORMATS = tuple(RENDERERS)


def kind(name: str) -> ReportKind:
    kinds = _kinds()
    if name not in kinds:
        raise ValidationFailed(_("Không có báo cáo «%(name)s».", name=name))
    return kinds[name]


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    filename: str
    mimetype: str


def build_document(name: str, period: Period, *, appeal: str | None = None,
                   number: str | None = None) -> ReportDocument:
    """The report as a document, in Vietnamese whatever the reader's language."""
    k = kind(name)
    if k.needs_appeal and not appeal:
        raise ValidationFailed(_("Báo cáo kết quả vận động cần mã chiến dịch (--appeal SLUG)."))
    if k.needs_appeal:
        from app.services.reports import appeal_results

        appeal_results.get_appeal(appeal)  # an unknown appeal: its error in the reader's language
    with vietnamese():
        return k.document(k.build(period, appeal=appeal), number=number)


def export(name: str, period: Period, fmt: str, *, appeal: str | None = None,
           number: str | None = None) -> ExportFile:
    if fmt not in RENDERERS:
        raise ValidationFailed(_("Định dạng không hỗ trợ: %(format)s.", format=fmt))
    document = build_document(name, period, appeal=appeal, number=number)
    with vietnamese():
        data = render(document, fmt)
    return ExportFile(data, f"{document.slug}.{fmt}", RENDERERS[fmt][1])

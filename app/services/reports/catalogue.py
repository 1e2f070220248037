"""Every report by name, for the CLI, the staff pages and freezing: build its data, lay it
out as a document, render it in a format."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app

from app.errors import ValidationFailed
from app.renderers.reports import RENDERERS, ReportDocument, render
from app.services.reports import disclosure as disclosure_reports
from app.services.reports import layout
from app.services.reports.period import Period


def public_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/cong-khai"


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str
    needs_appeal: bool
    build: Callable  # (period, **options) -> data
    document: Callable  # (data, number=None) -> ReportDocument


def _kinds() -> dict[str, ReportKind]:
    from app.services.reports import action_month, appeal_results, donor_analysis

    return {k.name: k for k in (
        ReportKind("disclosure", "Báo cáo công khai năm", False,
                   lambda period, **_: disclosure_reports.disclosure(period, public_url=public_url()),
                   layout.disclosure_document),
        ReportKind("appeal", "Kết quả đợt vận động", True,
                   lambda period, appeal=None, **_: appeal_results.appeal_results(period, appeal),
                   appeal_results.document),
        ReportKind("action-month", "Kết quả Tháng hành động vì trẻ em", False,
                   lambda period, **_: action_month.action_month(period), action_month.document),
        ReportKind("restricted-funds", "Tình hình các quỹ hạn chế", False,
                   lambda period, **_: disclosure_reports.restricted_funds(period),
                   layout.restricted_funds_document),
        ReportKind("donors", "Phân tích nhà hảo tâm", False,
                   lambda period, **_: donor_analysis.donor_analysis(period), donor_analysis.document),
    )}


NAMES = ("disclosure", "appeal", "action-month", "restricted-funds", "donors")
FORMATS = tuple(RENDERERS)


def kind(name: str) -> ReportKind:
    kinds = _kinds()
    if name not in kinds:
        raise ValidationFailed(f"Không có báo cáo «{name}».")
    return kinds[name]


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    filename: str
    mimetype: str


def build_document(name: str, period: Period, *, appeal: str | None = None,
                   number: str | None = None) -> ReportDocument:
    k = kind(name)
    if k.needs_appeal and not appeal:
        raise ValidationFailed("Báo cáo kết quả vận động cần mã chiến dịch (--appeal SLUG).")
    return k.document(k.build(period, appeal=appeal), number=number)


def export(name: str, period: Period, fmt: str, *, appeal: str | None = None,
           number: str | None = None) -> ExportFile:
    if fmt not in RENDERERS:
        raise ValidationFailed(f"Định dạng không hỗ trợ: {fmt}.")
    document = build_document(name, period, appeal=appeal, number=number)
    return ExportFile(render(document, fmt), f"{document.slug}.{fmt}", RENDERERS[fmt][1])

"""Freezing a closed period's report: numbered, immutable, its PDF hash recorded, so that
what was published can be shown again exactly (like commendation submissions).

Official documents: drawn inside `vietnamese()` (app.i18n), whoever freezes or downloads."""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, vietnamese
from app.models import FrozenReport, FundSettings
from app.renderers.reports import RENDERERS, from_json, render, render_pdf, to_json
from app.services import audit
from app.services.audit import Actor
from app.services.reports import catalogue
from app.services.reports.period import Period
from app.timeutil import utcnow

# BC-2025-CK-01: the first frozen disclosure of 2025.
NUMBER_FORMAT = "BC-{year}-{code}-{sequence:02d}"
CODES = {"disclosure": "CK", "appeal": "VD", "action-month": "THD", "restricted-funds": "QHC", "donors": "NHT"}


def freeze(name: str, period: Period, actor: Actor, *, appeal: str | None = None) -> FrozenReport:
    catalogue.kind(name)
    if not period.is_closed:
        raise Conflict(_("Kỳ báo cáo chưa kết thúc: chỉ chốt báo cáo của kỳ đã qua."))
    slug = (appeal or "").strip() if name == "appeal" else ""
    # Serialise concurrent freezes (row lock on PostgreSQL; SQLite holds the write lock).
    db.session.scalars(sa.select(FundSettings).where(FundSettings.id == 1).with_for_update()).one()
    sequence = (db.session.scalar(sa.select(sa.func.max(FrozenReport.sequence)).where(
        FrozenReport.report == name, FrozenReport.year == period.year)) or 0) + 1
    number = NUMBER_FORMAT.format(year=period.year, code=CODES[name], sequence=sequence)
    document = catalogue.build_document(name, period, appeal=slug or None, number=number)
    with vietnamese():
        pdf = render_pdf(document)
    row = FrozenReport(number=number, report=name, year=period.year, period_start=period.start,
                       period_end=period.end, period_key=period.key, appeal_slug=slug, sequence=sequence,
                       title=document.title[:500], document_json=to_json(document), pdf=pdf,
                       pdf_sha256=hashlib.sha256(pdf).hexdigest(), frozen_at=utcnow(),
                       frozen_by_id=actor.user_id, frozen_by_label=actor.label)
    db.session.add(row)
    audit.record(actor, "report.freeze", row, after={"number": number, "report": name, "year": period.year,
                                                      "period": period.key, "appeal": slug,
                                                      "pdf_sha256": row.pdf_sha256})
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise Conflict(_("Báo cáo vừa được chốt bởi người khác. Vui lòng tải lại trang.")) from None
    return row


def get_by_number(number: str) -> FrozenReport:
    row = db.session.scalar(sa.select(FrozenReport).where(FrozenReport.number == (number or "").strip()))
    if row is None:
        raise NotFound(_("Không tìm thấy báo cáo đã chốt số %(number)s.", number=number))
    return row


def get(frozen_id: int) -> FrozenReport:
    row = db.session.get(FrozenReport, frozen_id)
    if row is None:
        raise NotFound(_("Không tìm thấy báo cáo đã chốt."))
    return row


def frozen_list(name: str | None = None, year: int | None = None) -> list[FrozenReport]:
    query = sa.select(FrozenReport).order_by(FrozenReport.year.desc(), FrozenReport.report, FrozenReport.sequence.desc())
    if name:
        query = query.where(FrozenReport.report == name)
    if year:
        query = query.where(FrozenReport.year == year)
    return list(db.session.scalars(query))


def latest(name: str, year: int) -> FrozenReport | None:
    return db.session.scalars(sa.select(FrozenReport).where(
        FrozenReport.report == name, FrozenReport.year == year, FrozenReport.period_key == str(year))
        .order_by(FrozenReport.sequence.desc())).first()


def export_frozen(row: FrozenReport, fmt: str) -> catalogue.ExportFile:
    """The PDF exactly as frozen (stored bytes, hash checked); XLSX/CSV rendered again from
    the stored document, not from today's ledgers."""
    if fmt not in RENDERERS:
        raise ValidationFailed(_("Định dạng không hỗ trợ: %(format)s.", format=fmt))
    if fmt == "pdf":
        data = row.pdf
        if hashlib.sha256(data).hexdigest() != row.pdf_sha256:
            raise Conflict(_("Tệp của báo cáo %(number)s không khớp mã băm đã ghi.", number=row.number))
    else:
        with vietnamese():
            data = render(from_json(row.document_json), fmt)
    return catalogue.ExportFile(data, f"{row.number}.{fmt}", RENDERERS[fmt][1])

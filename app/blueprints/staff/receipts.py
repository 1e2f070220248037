"""Receipts in the back office: search, download, void, re-issue, re-send, the mail
outbox, and donors' annual statements."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from app.params import parse_page, parse_year
from app.blueprints.receipts_public import pdf_response
from app.blueprints.staff.base import bp
from app.blueprints.staff.confirm import confirmation_page
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.i18n import _
from app.forms.receipts import ReissueReceiptForm, ResendReceiptForm, VoidReceiptForm
from app.models import AuditEntry, OutboxMessage, Receipt, Role
from app.security import current_actor, roles_required
from app.services.receipts import documents as receipt_documents
from app.services.receipts import mail as receipt_mail
from app.services.receipts import issuing as receipts
from app.timeutil import local_today

READERS = (Role.ACCOUNTANT, Role.DIRECTOR, Role.VIEWER)
MANAGERS = (Role.ACCOUNTANT, Role.DIRECTOR)


def _year_arg(name: str = "year") -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    return parse_year(raw, -1, minimum=receipt_documents.MIN_YEAR, maximum=receipt_documents.MAX_YEAR)


def _receipt_or_404(receipt_id: int) -> Receipt:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None:
        abort(404)
    return receipt


@bp.get("/receipts")
@roles_required(*READERS)
def receipt_list():
    q = (request.args.get("q") or "").strip()[:100]
    state = request.args.get("state") if request.args.get("state") in ("valid", "void") else ""
    year = _year_arg()
    if year == -1:
        flash(_("Năm không hợp lệ."), "warning")
        year = None
    page = parse_page(request.args.get("page"))
    pagination = db.paginate(receipts.search_receipts(q, year, state), page=max(page, 1),
                             per_page=50, error_out=False)
    years = list(db.session.scalars(sa.select(Receipt.year).distinct().order_by(Receipt.year.desc())))
    return render_template("staff/receipts/list.html", pagination=pagination, q=q, state=state,
                           year=year, years=years, problems=len(receipt_mail.problem_messages(50)))


@bp.get("/receipts/<int:receipt_id>")
@roles_required(*READERS)
def receipt_detail(receipt_id: int):
    return _detail(_receipt_or_404(receipt_id))


def _detail(receipt: Receipt, status: int = 200, **forms):
    messages = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.receipt_id == receipt.id)
                                  .order_by(OutboxMessage.id.desc())).all()
    history = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity_type == "receipts",
                                    AuditEntry.entity_id == str(receipt.id))
        .order_by(AuditEntry.id)).all()
    forms = {"void_form": VoidReceiptForm(formdata=None), "reissue_form": ReissueReceiptForm(formdata=None),
             "resend_form": ResendReceiptForm(formdata=None), **forms}
    return render_template("staff/receipts/detail.html", receipt=receipt, messages=messages,
                           history=history, net_amount=receipt_documents.net_amount(receipt.donation),
                           **forms), status


@bp.get("/receipts/<int:receipt_id>/pdf")
@roles_required(*MANAGERS)
def receipt_pdf(receipt_id: int):
    receipt = receipt_documents.load_receipt(receipt_id) or abort(404)
    return pdf_response(receipt_documents.receipt_pdf(receipt),
                        receipt_documents.receipt_filename(receipt),
                        attachment=request.args.get("download") == "1")


def _action(receipt_id: int, form_name: str, form, run, success, field: str):
    """Validate `form`, run the service; on bad input re-render the receipt page with the
    error under the field (4xx), on success flash `success(result, receipt)` and redirect."""
    receipt = _receipt_or_404(receipt_id)
    if not form.validate_on_submit():
        return _detail(receipt, 422 if request.form else 400, **{form_name: form})
    try:
        result = run(receipt)
    except DomainError as error:
        db.session.rollback()
        attach_error(form, error, field)
        return _detail(db.session.get(Receipt, receipt_id), error.status_code, **{form_name: form})
    flash(success(result, receipt), "success")
    target = result.id if isinstance(result, Receipt) else receipt_id
    return redirect(url_for("staff.receipt_detail", receipt_id=target))


@bp.post("/receipts/<int:receipt_id>/void")
@roles_required(*MANAGERS)
def receipt_void(receipt_id: int):
    form = VoidReceiptForm()
    receipt = _receipt_or_404(receipt_id)
    if form.validate_on_submit() and receipt.voided_at is None:
        step = confirmation_page(
            _("Hủy giấy chứng nhận số %(number)s?", number=receipt.number),
            [_("Giấy chứng nhận số %(number)s của %(name)s sẽ bị hủy (giữ số, in “ĐÃ HỦY”); việc này không "
               "hoàn tác được.", number=receipt.number, name=receipt.donation.shown_name),
             _("Lý do: %(reason)s", reason=form.reason.data.strip())],
            button=_("Hủy giấy chứng nhận"), cancel_url=url_for("staff.receipt_detail", receipt_id=receipt.id))
        if step is not None:
            return step
    return _action(receipt_id, "void_form", form,
                   lambda r: receipts.void_receipt(r.id, current_actor(), form.reason.data),
                   lambda result, _receipt: _("Đã hủy giấy chứng nhận %(number)s.", number=result.number),
                   "reason")


@bp.post("/receipts/<int:receipt_id>/reissue")
@roles_required(*MANAGERS)
def receipt_reissue(receipt_id: int):
    form = ReissueReceiptForm()
    return _action(receipt_id, "reissue_form", form,
                   lambda r: receipts.reissue_receipt(r.id, current_actor(), form.reason.data),
                   lambda result, receipt: _("Đã cấp lại: giấy chứng nhận số %(number)s thay thế số %(old)s.",
                                             number=result.number, old=receipt.number),
                   "reason")


@bp.post("/receipts/<int:receipt_id>/resend")
@roles_required(*MANAGERS)
def receipt_resend(receipt_id: int):
    form = ResendReceiptForm()
    return _action(receipt_id, "resend_form", form,
                   lambda r: receipts.resend_receipt(r.id, current_actor(), form.to.data or None),
                   lambda result, _receipt: _("Đã đưa thư gửi %(to)s vào hàng đợi.", to=result.to_address),
                   "to")


@bp.get("/receipts/mail")
@roles_required(*MANAGERS)
def receipt_mail_list():
    return render_template("staff/receipts/mail.html", messages=receipt_mail.problem_messages(),
                           counts=receipt_mail.outbox_counts())


@bp.post("/receipts/mail/<int:message_id>/retry")
@roles_required(*MANAGERS)
def receipt_mail_retry(message_id: int):
    try:
        message = receipt_mail.retry_message(message_id, current_actor())
    except DomainError as error:
        db.session.rollback()
        if error.status_code == 404:
            abort(404)
        flash(error.message, "danger")
        return redirect(url_for("staff.receipt_mail_list")), 303
    flash(_("Đã đưa thư gửi %(to)s vào hàng đợi gửi lại.", to=message.to_address), "success")
    return redirect(url_for("staff.receipt_mail_list"))


@bp.get("/receipts/statements")
@roles_required(*MANAGERS)
def statement_list():
    year = _year_arg()
    status = 200
    if year == -1:
        flash(_("Năm không hợp lệ."), "warning")
        year, status = None, 422
    year = year or local_today().year - 1
    q = (request.args.get("q") or "").strip()[:100]
    rows = receipt_documents.donors_for_year(year, q)
    return render_template("staff/receipts/statements.html", rows=rows, year=year, q=q), status


@bp.get("/receipts/statements/<int:donor_id>/<int:year>.pdf")
@roles_required(*MANAGERS)
def statement_pdf(donor_id: int, year: int):
    if not receipt_documents.MIN_YEAR <= year <= receipt_documents.MAX_YEAR:
        abort(404)
    filename, pdf = receipt_documents.donor_statement_pdf(donor_id, year)
    return pdf_response(pdf, filename, attachment=request.args.get("download") == "1")

"""Back office for donor accounts: the personal-data request queue (deadlines, every step
audited; staff record requests that came by letter or phone) and monthly gifts
(recurring donors, monthly committed amount, lapsed and cancelled; pause or stop on the
donor's request)."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.extensions import db
from app.i18n import _, _l, date_text
from app.forms.account import ReasonForm, RequestStepForm, StaffDataRequestForm
from app.models import RECURRING_STATUS_LABELS, RecurringMethod, RecurringStatus, Role
from app.security import current_actor, roles_required
from app.services import audit
from app.services.accounts import recurring, rights
from app.services.donor_profiles import get_donor

PRIVACY_ROLES = (Role.DIRECTOR, Role.ACCOUNTANT)
READERS = (Role.DIRECTOR, Role.ACCOUNTANT, Role.VIEWER)


@bp.get("/du-lieu-ca-nhan")
@roles_required(*PRIVACY_ROLES)
def data_requests():
    form = StaffDataRequestForm()
    donor = None
    if request.args.get("donor_id", type=int):
        try:
            donor = get_donor(request.args.get("donor_id", type=int))
        except DomainError:
            donor = None
    requests = rights.open_requests()
    return render_template("staff/data_requests.html", requests=requests, closed=rights.closed_requests(),
                           overdue={r.id: rights.overdue(r) for r in requests}, form=form, donor=donor,
                           step=RequestStepForm())


@bp.post("/du-lieu-ca-nhan/ghi-nhan")
@roles_required(*PRIVACY_ROLES)
def data_request_record():
    form = StaffDataRequestForm()
    donor_id = request.form.get("donor_id", type=int)
    if not form.validate_on_submit() or not donor_id:
        flash(_("Vui lòng chọn nhà hảo tâm và ghi nội dung yêu cầu."), "danger")
        return redirect(url_for("staff.data_requests", donor_id=donor_id))
    try:
        req = rights.create_request(donor_id, form.kind.data, current_actor(), channel=form.channel.data,
                                    details=form.details.data, recorded_by_id=current_actor().user_id)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("staff.data_requests", donor_id=donor_id))
    flash(_("Đã ghi nhận yêu cầu. Hạn xác nhận %(acknowledge_by)s, hạn hoàn thành %(due_on)s.",
            acknowledge_by=date_text(req.acknowledge_by), due_on=date_text(req.due_on)), "success")
    return redirect(url_for("staff.data_requests"))


def _step(action, request_id: int):
    form = RequestStepForm()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ."), "danger")
        return redirect(url_for("staff.data_requests"))
    try:
        action(request_id, current_actor(), form.outcome.data)
    except DomainError as error:
        if error.status_code == 404:
            raise
        flash(error.message, "danger")
    else:
        flash(_("Đã cập nhật yêu cầu."), "success")
    return redirect(url_for("staff.data_requests"))


@bp.post("/du-lieu-ca-nhan/<int:request_id>/xac-nhan")
@roles_required(*PRIVACY_ROLES)
def data_request_acknowledge(request_id: int):
    return _step(rights.acknowledge, request_id)


@bp.post("/du-lieu-ca-nhan/<int:request_id>/hoan-thanh")
@roles_required(*PRIVACY_ROLES)
def data_request_complete(request_id: int):
    return _step(rights.complete, request_id)


@bp.post("/du-lieu-ca-nhan/<int:request_id>/tu-choi")
@roles_required(*PRIVACY_ROLES)
def data_request_refuse(request_id: int):
    return _step(rights.refuse, request_id)


@bp.get("/du-lieu-ca-nhan/nha-hao-tam/<int:donor_id>.<fmt>")
@roles_required(*PRIVACY_ROLES)
def data_export(donor_id: int, fmt: str):
    """The donor's export, for staff to send to a donor who asked by letter or phone."""
    from app.blueprints.receipts_public import pdf_response

    donor = get_donor(donor_id)
    if fmt not in ("json", "pdf"):
        return render_template("errors/error.html", code=404, message=_("Không tìm thấy.")), 404
    body = rights.export_json(donor.id) if fmt == "json" else rights.export_pdf(donor.id)
    audit.record(current_actor(), "donor.data_export", donor, after={"format": fmt})
    db.session.commit()
    if fmt == "pdf":
        return pdf_response(body, f"du-lieu-ca-nhan-{donor.id}.pdf", attachment=True)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="du-lieu-ca-nhan-{donor.id}.json"'
    return response


# ------------------------------------------------------------------- monthly gifts

@bp.get("/ung-ho-hang-thang")
@roles_required(*READERS)
def recurring_list():
    status = request.args.get("status") or None
    if status not in {s.value for s in RecurringStatus}:
        status = None
    method = request.args.get("method") or None
    if method not in {m.value for m in RecurringMethod}:
        method = None
    return render_template("staff/recurring.html", view=recurring.overview(status, method), status=status,
                           method=method, labels=RECURRING_STATUS_LABELS, form=ReasonForm())


def _recurring_action(action, gift_id: int, done: str):
    from app.blueprints.giving import current_gateway

    form = ReasonForm()
    method = request.args.get("method")  # back to the list as it was filtered
    back = url_for("staff.recurring_list", method=method if method in {m.value for m in RecurringMethod} else None)
    if not form.validate_on_submit():
        flash(_("Vui lòng ghi yêu cầu của nhà hảo tâm."), "danger")
        return redirect(back)
    try:
        action(gift_id, current_gateway(), current_actor(), form.reason.data)
    except DomainError as error:
        if error.status_code == 404:
            raise
        flash(error.message, "danger")
    else:
        flash(str(done), "success")
    return redirect(back)


@bp.post("/ung-ho-hang-thang/<int:gift_id>/tam-dung")
@roles_required(Role.ACCOUNTANT, Role.DIRECTOR)
def recurring_pause(gift_id: int):
    return _recurring_action(recurring.pause_by_staff, gift_id, _l("Đã tạm dừng khoản ủng hộ hằng tháng."))


@bp.post("/ung-ho-hang-thang/<int:gift_id>/tiep-tuc")
@roles_required(Role.ACCOUNTANT, Role.DIRECTOR)
def recurring_resume(gift_id: int):
    return _recurring_action(recurring.resume_by_staff, gift_id, _l("Đã tiếp tục khoản ủng hộ hằng tháng."))


@bp.post("/ung-ho-hang-thang/<int:gift_id>/dung")
@roles_required(Role.ACCOUNTANT, Role.DIRECTOR)
def recurring_stop(gift_id: int):
    return _recurring_action(recurring.stop_by_staff, gift_id, _l("Đã dừng khoản ủng hộ hằng tháng."))

"""Appeals: list with progress, create/edit, open/close."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.forms.backoffice import AppealForm
from app.models import AppealStatus, Donation, Role
from app.security import ALL_STAFF, current_actor, roles_required, user_can
from app.services import appeals as appeal_service
from app.i18n import _

EDITORS = (Role.DIRECTOR, Role.ACCOUNTANT)


def _programme_choices(form: AppealForm) -> AppealForm:
    from app.models import Programme

    form.programme_id.choices = [("", _("— Không gắn chương trình (nhà hảo tâm tự chọn) —"))] + [
        (str(p.id), p.name) for p in db.session.scalars(
            sa.select(Programme).where(~Programme.is_general).order_by(Programme.sort_order, Programme.name))]
    return form


@bp.get("/appeals")
@roles_required(*ALL_STAFF)
def appeal_list():
    appeals = appeal_service.list_appeals()
    return render_template("staff/appeals/list.html", appeals=appeals,
                           progress=appeal_service.progress_for(appeals), AppealStatus=AppealStatus)


@bp.get("/appeals/<int:appeal_id>")
@roles_required(*ALL_STAFF)
def appeal_detail(appeal_id: int):
    appeal = appeal_service.get_appeal(appeal_id)
    recent = []
    if user_can(Role.ACCOUNTANT, Role.DIRECTOR, Role.VIEWER):  # case workers see totals only
        recent = db.session.scalars(sa.select(Donation).where(Donation.appeal_id == appeal.id)
                                    .order_by(Donation.received_at.desc()).limit(20)).all()
    return render_template("staff/appeals/detail.html", appeal=appeal, recent=recent,
                           p=appeal_service.progress_for([appeal])[appeal.id], AppealStatus=AppealStatus)


@bp.route("/appeals/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def appeal_create():
    form = _programme_choices(AppealForm())
    status = 200
    if form.validate_on_submit():
        try:
            appeal = appeal_service.create_appeal(current_actor(), **form.values())
        except DomainError as error:
            attach_error(form, error, "title")
            status = error.status_code
        else:
            flash(_("Đã tạo chiến dịch “%(title)s” (nháp). Mở chiến dịch khi sẵn sàng.", title=appeal.title), "success")
            return redirect(url_for("staff.appeal_detail", appeal_id=appeal.id))
    elif request.method == "POST":
        status = 422
    return render_template("staff/appeals/form.html", form=form, appeal=None), status


@bp.route("/appeals/<int:appeal_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def appeal_edit(appeal_id: int):
    appeal = appeal_service.get_appeal(appeal_id)
    form = _programme_choices(AppealForm(obj=appeal))
    if request.method == "GET":
        form.programme_id.data = str(appeal.programme_id) if appeal.programme_id else ""
    status = 200
    if form.validate_on_submit():
        try:
            appeal_service.update_appeal(appeal.id, current_actor(), **form.values())
        except DomainError as error:
            attach_error(form, error, "title")
            status = error.status_code
        else:
            flash(_("Đã lưu chiến dịch."), "success")
            return redirect(url_for("staff.appeal_detail", appeal_id=appeal.id))
    elif request.method == "POST":
        status = 422
    return render_template("staff/appeals/form.html", form=form, appeal=appeal), status


@bp.post("/appeals/<int:appeal_id>/status")
@roles_required(*EDITORS)
def appeal_set_status(appeal_id: int):
    appeal = appeal_service.set_status(appeal_id, request.form.get("status", ""), current_actor())
    flash(_("Chiến dịch “%(title)s”: %(status)s.", title=appeal.title, status=AppealStatus(appeal.status).label), "success")
    return redirect(url_for("staff.appeal_detail", appeal_id=appeal.id))

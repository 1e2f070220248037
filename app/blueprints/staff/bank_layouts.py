"""Statement layouts an admin defines for other banks (/staff/bank/layouts): list, create,
edit, deactivate, and "try it on a file" (a preview of the parsed rows and of every bad row,
nothing written). Accountants see the list and each mapping, read-only."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.forms.bank import COLUMN_HELP, BankLayoutForm
from app.i18n import _
from app.models import Role
from app.security import current_actor, roles_required, user_can
from app.services.bank import layouts

EDITORS = (Role.ADMIN,)
READERS = (Role.ADMIN, Role.ACCOUNTANT)


@bp.get("/bank/layouts")
@roles_required(*READERS)
def bank_layouts():
    return render_template("staff/bank/layouts.html", layouts=layouts.list_layouts(), columns=layouts.COLUMNS,
                           date_labels=dict(layouts.DATE_FORMATS), can_edit=user_can(*EDITORS))


def _edit(layout_id: int | None):
    layout = layouts.get_layout(layout_id) if layout_id else None
    form = BankLayoutForm()
    if request.method == "GET":
        form.fill(layouts.form_values(layout))
    status, result = 200, None
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                if request.form.get("action") == "preview":
                    result = _preview(form, form.values())
                    status = 200 if result is not None else 422
                else:
                    saved = layouts.save_layout(current_actor(), form.values(), layout_id=layout_id)
                    flash(_("Đã lưu mẫu sao kê “%(name)s”.", name=saved.name), "success")
                    return redirect(url_for("staff.bank_layouts"))
            except DomainError as error:
                db.session.rollback()
                attach_error(form, error, "name")
                status = error.status_code
    return render_template("staff/bank/layout_edit.html", form=form, layout=layout, result=result,
                           columns=layouts.COLUMNS, column_help=COLUMN_HELP), status


def _preview(form: BankLayoutForm, values: layouts.LayoutInput):
    config = layouts.build_config(values)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors.append(_("Vui lòng chọn tệp sao kê để thử."))
        return None
    limit = current_app.config["BANK_STATEMENT_MAX_BYTES"]
    data = upload.read(limit + 1)
    if len(data) > limit:
        form.file.errors.append(_("Tệp quá lớn."))
        return None
    return layouts.preview(config, values.name, data, upload.filename)


@bp.route("/bank/layouts/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def bank_layout_new():
    return _edit(None)


@bp.route("/bank/layouts/<int:layout_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def bank_layout_edit(layout_id: int):
    return _edit(layout_id)


@bp.post("/bank/layouts/<int:layout_id>/active")
@roles_required(*EDITORS)
def bank_layout_active(layout_id: int):
    active = request.form.get("active") == "1"
    layout = layouts.set_active(current_actor(), layout_id, active)
    if active:
        flash(_("Đã bật lại mẫu sao kê “%(name)s”.", name=layout.name), "success")
    else:
        flash(_("Đã ngừng dùng mẫu sao kê “%(name)s”.", name=layout.name), "success")
    return redirect(url_for("staff.bank_layouts"))

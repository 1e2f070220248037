"""Administration: staff accounts and fund settings (admin only)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.forms import attach_error
from app.extensions import db
from app.forms.auth import UserCreateForm
from app.forms.settings import FundSettingsForm
from app.models import Role, User
from app.security import current_actor, roles_required
from app.services import setup, users


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_list():
    form = UserCreateForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = users.create_user(form.email.data, form.name.data, form.role.data,
                                     form.password.data, current_actor())
        except DomainError as error:
            attach_error(form, error, "email")
            status = error.status_code
        else:
            flash(f"Đã tạo tài khoản {user.email}.", "success")
            return redirect(url_for("staff.user_list"))
    elif request.method == "POST":
        status = 400
    accounts = db.session.scalars(sa.select(User).order_by(User.name)).all()
    return render_template("staff/users.html", users=accounts, form=form), status


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def user_set_active(user_id: int):
    active = request.form.get("active") == "1"
    user = users.set_active(user_id, active, current_actor())
    flash(f"Đã {'kích hoạt' if active else 'vô hiệu hóa'} tài khoản {user.email}.", "success")
    return redirect(url_for("staff.user_list"))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings_edit():
    current = setup.get_settings()
    form = FundSettingsForm(obj=current)
    if form.validate_on_submit():
        setup.update_settings({name: getattr(form, name).data for name in setup.SETTINGS_FIELDS},
                              current_actor())
        flash("Đã lưu cài đặt của quỹ.", "success")
        return redirect(url_for("staff.settings_edit"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/settings.html", form=form), status

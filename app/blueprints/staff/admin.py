"""Administration: staff accounts and fund settings (admin only)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, jsonify, message_flashed, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.forms import attach_error
from app.extensions import db
from app.forms.auth import UserCreateForm
from app.forms.settings import FundSettingsForm
from app.i18n import _, ngettext
from app.models import Role, User
from app.security import current_actor, roles_required
from app.services import setup, users
from app.services.receipts.issuing import issue_deferred_receipts


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
            flash(_("Đã tạo tài khoản %(email)s.", email=user.email), "success")
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
    if active:
        flash(_("Đã kích hoạt tài khoản %(email)s.", email=user.email), "success")
    else:
        flash(_("Đã vô hiệu hóa tài khoản %(email)s.", email=user.email), "success")
    return redirect(url_for("staff.user_list"))


@bp.post("/users/<int:user_id>/password-reset")
@roles_required(Role.ADMIN)
def user_password_reset(user_id: int):
    """Set a temporary password and show it on this page only (not in a flash: the session
    cookie is signed, not encrypted)."""
    user, temporary = users.reset_password(user_id, current_actor())
    return render_template("staff/password_reset.html", user=user, temporary=temporary)


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings_edit():
    current = setup.get_settings()
    form = FundSettingsForm(obj=current)
    if form.validate_on_submit():
        setup.update_settings({name: getattr(form, name).data for name in setup.SETTINGS_FIELDS},
                              current_actor())
        flash(_("Đã lưu cài đặt của quỹ."), "success")
        issued = issue_deferred_receipts(current_actor())
        if issued:
            flash(ngettext("Đã cấp %(num)d giấy chứng nhận đang chờ cài đặt.",
                           "Đã cấp %(num)d giấy chứng nhận đang chờ cài đặt.", issued), "success")
        return redirect(url_for("staff.settings_edit"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/settings.html", form=form), status


@bp.context_processor
def _settings_banner():
    """Admins see which required settings still hold placeholders, on every staff page."""
    if not (current_user.is_authenticated and current_user.role == Role.ADMIN.value):
        return {}
    return {"missing_fund_settings": setup.missing_settings()}


@bp.app_errorhandler(setup.SettingsIncomplete)
def _settings_incomplete(error: setup.SettingsIncomplete):
    db.session.rollback()
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=error.message, status=409), 409
    return render_template("errors/error.html", code=409, message=error.message,
                           settings_link=url_for("staff.settings_edit")), 409


@message_flashed.connect
def _mark_settings_flash(_app, message, category, **_extra):
    """A SettingsIncomplete message flashed by any view gets the " settings" category marker,
    so templates/_flashes.html links it to the settings page in every language (without
    matching the message's text)."""
    if message not in g.get("settings_incomplete_messages", ()):
        return
    flashes = session.get("_flashes") or []
    if flashes and tuple(flashes[-1]) == (category, message) and "settings" not in (category or "").split():
        flashes[-1] = (f"{category} settings", message)
        session["_flashes"] = flashes

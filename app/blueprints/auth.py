"""Staff sign-in, sign-out and password change."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import refresh as refresh_language
from flask_login import current_user, login_required, login_user, logout_user

from app.errors import DomainError
from app.forms import attach_error
from app.extensions import limiter
from app.forms.auth import LoginForm, PasswordChangeForm
from app.i18n import _
from app.security import current_actor
from app.services import users

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page can't redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("staff.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        config = current_app.config
        try:
            user = users.authenticate(
                form.email.data, form.password.data, ip=request.remote_addr,
                lock_after=config["LOGIN_LOCK_AFTER"], slowdown_after=config["LOGIN_SLOWDOWN_AFTER"],
                lock_minutes=config["LOGIN_LOCK_MINUTES"])
        except DomainError as error:
            flash(error.message, "danger")
            status = 401 if error.status_code == 422 else error.status_code
        else:
            login_user(user, remember=form.remember.data)
            refresh_language()  # the greeting already in the user's own language (users.locale)
            flash(_("Xin chào, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    users.sign_out(current_user._get_current_object(), current_actor())
    logout_user()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = current_user._get_current_object()
            users.change_password(user, form.current_password.data, form.new_password.data,
                                  current_actor())
            login_user(user)  # other sessions ended; this browser stays signed in
        except DomainError as error:
            attach_error(form, error, "new_password")
            status = error.status_code
        else:
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("staff.dashboard"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form), status

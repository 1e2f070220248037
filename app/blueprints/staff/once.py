"""One submission per rendered form for staff forms that create money rows or receipts
(app/services/submissions.py). A template puts `{{ form_token_input() }}` in the form; the
view calls `repeat = once.claim("purpose")` before writing and returns `repeat` when it is
not None, then `once.finish(url)` after its service committed."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, request
from markupsafe import Markup

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.extensions import db
from app.services import submissions
from app.i18n import _

FIELD = "form_token"


@bp.app_template_global()
def form_token_input() -> Markup:
    return Markup(f'<input type="hidden" name="{FIELD}" value="{submissions.new_token()}">')


def claim(purpose: str, fallback_url: str | None = None):
    """None when this POST is the form's first; otherwise a redirect to what the first made."""
    from flask_login import current_user

    token = request.form.get(FIELD)
    if not token:
        if current_app.config.get("FORM_TOKENS_REQUIRED", True):
            raise DomainError(_("Biểu mẫu thiếu mã gửi một lần; vui lòng tải lại trang rồi gửi lại."))
        return None
    if not submissions.valid_token(token):
        raise DomainError(_("Mã gửi biểu mẫu không hợp lệ; vui lòng tải lại trang."))
    earlier = submissions.claim(token, purpose, getattr(current_user, "id", None))
    if earlier is None:
        g.form_token = token
        return None
    flash(_("Biểu mẫu này đã được gửi trước đó; không ghi thêm lần nữa."), "info")
    return redirect(earlier.result_url or fallback_url or request.referrer or request.path, code=303)


def finish(url: str) -> None:
    token = g.pop("form_token", None)
    if token:
        submissions.finish(token, url)


def release() -> None:
    """The form failed validation in the service: forget the claim so it can be sent again."""
    if g.pop("form_token", None):
        db.session.rollback()

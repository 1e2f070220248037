"""Unsubscribe links and headers for every e-mail the fund sends.

The link carries the address signed with the app's secret (no expiry: an old e-mail's
link must keep working). Following it turns off every optional e-mail for that address
at once; receipts, sign-in links and answers to data requests are still sent, because a
donor needs them and they are not marketing. Imports nothing from other services, so the
receipt outbox can use it.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.extensions import db
from app.i18n import _l, valid
from app.models import Donor

_SALT = "unsubscribe"
#: In the language being used when the mail is built (the recipient's: see `language_for`).
FOOTER = _l("\n-- \nKhông muốn nhận thư thông báo từ Quỹ? Hủy nhận thư tại:\n%(url)s\n"
            "(Giấy chứng nhận ủng hộ vẫn được gửi khi Quý vị ủng hộ.)\n")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def unsubscribe_token(email: str) -> str:
    return _serializer().dumps(email.strip().lower())


def email_from_token(token: str) -> str | None:
    try:
        email = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return email if isinstance(email, str) and "@" in email else None


def unsubscribe_url(email: str) -> str:
    # Built by hand: mail is also sent from the CLI and threads, outside any request.
    # Must match the route of app/blueprints/account.py `unsubscribe`.
    path = f"/tai-khoan/huy-nhan-thu/{unsubscribe_token(email)}"
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + path


def headers_for(email: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe and RFC 8058 one-click (mail clients POST to the link)."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(email)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def with_footer(body: str, email: str) -> str:
    return body.rstrip("\n") + "\n" + str(FOOTER) % {"url": unsubscribe_url(email)}


def donors_with_email(email: str):
    return sa.func.lower(sa.func.trim(Donor.email)) == email.strip().lower()


def language_for(email: str) -> str | None:
    """The language of the donor records an address belongs to (the first that chose one),
    for mail built away from the donor (the outbox's unsubscribe footer); None: unknown."""
    for code in db.session.scalars(sa.select(Donor.language).where(
            donors_with_email(email), Donor.merged_into_id.is_(None), Donor.language.is_not(None))
            .order_by(Donor.id)):
        if valid(code):
            return valid(code)
    return None


def accepts_optional_mail(email: str, preference: str = "email_reminders") -> bool:
    """May an optional e-mail (reminder, notice) go to this address? Checked when the mail
    is sent, so an unsubscribe stops mail already queued."""
    flags = list(db.session.scalars(sa.select(getattr(Donor, preference)).where(
        donors_with_email(email), Donor.merged_into_id.is_(None))))
    return bool(flags) and all(flags)

"""Sign-in by a one-time link sent to the donor's e-mail address (no password).

`request_link` always answers the same way: whether the address is known is never
revealed; a link is mailed only when it belongs to a live donor record. A link is valid
for SIGN_IN_LINK_MINUTES, once; only its SHA-256 is stored. `consume` returns the address
the link was sent to, which the view keeps in the donor's own signed session key: a donor
is never a staff login (Flask-Login is not involved), so /staff stays closed to them.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.i18n import _, _l
from app.models import AccountToken, Donor
from app.services import audit
from app.services.accounts import mailing
from app.services.accounts.unsubscribe import donors_with_email
from app.services.audit import Actor
from app.services.donor_profiles import normalize_email
from app.timeutil import utcnow

SIGN_IN = "sign_in"
EMAIL_CHANGE = "email_change"
LINKS_PER_ADDRESS = 3  # per validity window; more requests are answered but not mailed


REASONS = {"expired": _l("Đường dẫn đăng nhập đã hết hạn."),
           "used": _l("Đường dẫn đăng nhập này đã được sử dụng."),
           "invalid": _l("Đường dẫn đăng nhập không hợp lệ.")}


class LinkInvalid(DomainError):
    """Expired, used or forged link; `reason` says which, for the page."""

    status_code = 400

    def __init__(self, reason: str):
        super().__init__(str(REASONS[reason]))
        self.reason = reason


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_email(raw: str | None) -> str:
    email = normalize_email(raw)
    if not email:
        raise ValidationFailed(_("Vui lòng nhập địa chỉ email."), field="email")
    return email


def live_donors(email: str) -> list[Donor]:
    """The donor records an address signs in to (a business's: the e-mail on its record)."""
    return list(db.session.scalars(sa.select(Donor).where(
        donors_with_email(email), Donor.merged_into_id.is_(None), Donor.erased_at.is_(None))
        .order_by(Donor.id)))


def new_token(purpose: str, email: str, minutes: int, *, ip: str | None = None,
              new_email: str | None = None, donor_id: int | None = None) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(purpose=purpose, token_hash=hash_token(token), email=email,
                                new_email=new_email, donor_id=donor_id, request_ip=ip,
                                expires_at=utcnow() + timedelta(minutes=minutes)))
    return token


def request_link(raw_email: str, *, link_for, minutes: int, fund_name: str, ip: str | None) -> None:
    """Mail a sign-in link if the address is a donor's. `link_for(token)` builds the URL."""
    email = clean_email(raw_email)
    if not live_donors(email):
        db.session.rollback()
        return
    recent = db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken).where(
        AccountToken.email == email, AccountToken.purpose == SIGN_IN,
        AccountToken.created_at > utcnow() - timedelta(minutes=minutes)))
    if recent >= LINKS_PER_ADDRESS:
        db.session.rollback()
        return
    token = new_token(SIGN_IN, email, minutes, ip=ip)
    db.session.commit()
    # Composed for the person asking, in the language of the page they asked on.
    body = _("Xin chào,\n\nQuý vị (hoặc ai đó) vừa yêu cầu đăng nhập tài khoản nhà hảo tâm "
             "tại %(fund)s.\n\nBấm vào đường dẫn sau để đăng nhập (có hiệu lực %(minutes)s phút, "
             "dùng một lần):\n%(link)s\n\nNếu không phải Quý vị yêu cầu, hãy bỏ qua thư này.\n",
             fund=fund_name, minutes=minutes, link=link_for(token))
    mailing.send_now(email, _("Đường dẫn đăng nhập — %(fund)s", fund=fund_name), body)


def check(token: str, purpose: str = SIGN_IN) -> AccountToken:
    """The token's row if it may still be used; LinkInvalid otherwise. Changes nothing."""
    if not token or len(token) > 200:
        raise LinkInvalid("invalid")
    row = db.session.scalar(sa.select(AccountToken).where(
        AccountToken.token_hash == hash_token(token), AccountToken.purpose == purpose))
    if row is None:
        raise LinkInvalid("invalid")
    if row.used_at is not None:
        raise LinkInvalid("used")
    if row.expires_at <= utcnow():
        raise LinkInvalid("expired")
    return row


def consume(token: str, *, ip: str | None = None) -> str:
    """Use a sign-in link: its address, or LinkInvalid. Two clicks racing: one wins (the
    conditional UPDATE), the other gets "used"."""
    row = check(token)
    used = db.session.execute(
        sa.update(AccountToken).where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if used != 1:
        db.session.rollback()
        raise LinkInvalid("used")
    donors = live_donors(row.email)
    if not donors:
        db.session.commit()
        raise LinkInvalid("invalid")
    for donor in donors:
        audit.record(Actor(None, f"donor:{row.email}", ip), "account.sign_in", donor)
    db.session.commit()
    return row.email

"""Staff accounts: creation, deactivation, passwords and throttled sign-in."""
from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from werkzeug.security import generate_password_hash

from app.errors import Conflict, NotFound, PermissionDenied, Throttled, ValidationFailed
from app.extensions import db
from app.i18n import _, _l
from app.models import LoginAttempt, Role, User
from app.services import audit
from app.services.audit import Actor
from app.timeutil import utcnow

MIN_PASSWORD_LENGTH = 10
BAD_CREDENTIALS = _l("Email hoặc mật khẩu không đúng.")
# Checked against when the email is unknown, so both paths cost one hash check.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed(_("Địa chỉ email không hợp lệ."), field="email") from None


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_("Mật khẩu phải có ít nhất %(n)s ký tự.", n=MIN_PASSWORD_LENGTH), field="password")


def create_user(email: str, name: str, role: str, password: str, actor: Actor) -> User:
    email = normalize_email(email)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Vui lòng nhập họ tên."), field="name")
    try:
        role = Role(role).value
    except ValueError:
        raise ValidationFailed(_("Vai trò không hợp lệ."), field="role") from None
    check_password_strength(password)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(_("Email này đã được dùng cho một tài khoản khác."), field="email")
    user = User(email=email, name=name, role=role)
    user.set_password(password)
    db.session.add(user)
    audit.record(actor, "user.create", user, after={"email": email, "name": name, "role": role})
    db.session.commit()
    return user


def get_user_by_email(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(_("Không tìm thấy tài khoản."))
    return user


def set_active(user_id: int, active: bool, actor: Actor) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("Không tìm thấy tài khoản."))
    if not active and actor.user_id == user.id:
        raise PermissionDenied(_("Không thể tự vô hiệu hóa tài khoản của chính mình."))
    before = user.is_active_account
    user.is_active_account = active
    if not active:
        user.end_sessions()
    audit.record(actor, "user.activate" if active else "user.deactivate", user,
                 before={"active": before}, after={"active": active})
    db.session.commit()
    return user


def reset_password(user_id: int, actor: Actor) -> tuple[User, str]:
    """An admin's reset for a staff member who forgot their password: a random temporary
    password (shown once to the admin, never stored in clear or mailed), audited. The user
    changes it after signing in."""
    import secrets

    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("Không tìm thấy tài khoản."))
    temporary = secrets.token_urlsafe(12)
    user.set_password(temporary)
    audit.record(actor, "user.password_reset", user, after={"email": user.email})
    db.session.commit()
    return user, temporary


def change_password(user: User, current: str, new: str, actor: Actor) -> None:
    if not user.check_password(current or ""):
        raise ValidationFailed(_("Mật khẩu hiện tại không đúng."), field="current_password")
    check_password_strength(new)
    user.set_password(new)
    user.end_sessions()  # the caller signs the current browser in again
    audit.record(actor, "user.password_change", user)
    db.session.commit()


def sign_out(user: User, actor: Actor) -> None:
    """End every session of the user (all browsers and remember cookies), audited."""
    user.end_sessions()
    audit.record(actor, "auth.logout", user)
    db.session.commit()


def authenticate(email: str, password: str, *, ip: str | None, lock_after: int,
                 slowdown_after: int, lock_minutes: int) -> User:
    """Check a sign-in, throttled per email address whether or not an account exists.

    After `slowdown_after` failures each further attempt must wait (5 s, 10 s, 20 s, …);
    after `lock_after` failures the address is locked for `lock_minutes`. Messages never
    say whether the email exists; the password never reaches the audit log.
    """
    key = (email or "").strip().lower()[:254]
    now = utcnow()
    attempt = db.session.get(LoginAttempt, key)
    if attempt and attempt.locked_until and attempt.locked_until > now:
        wait = attempt.locked_until - now
        if wait > timedelta(minutes=1):
            raise Throttled(_("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(n)s phút.",
                              n=math.ceil(wait.total_seconds() / 60)))
        raise Throttled(_("Vui lòng đợi %(n)s giây rồi thử lại.", n=math.ceil(wait.total_seconds())))
    user = db.session.scalar(sa.select(User).where(User.email == key)) if key else None
    password_ok = user.check_password(password or "") if user else (
        User(password_hash=_DUMMY_HASH).check_password(password or "") and False)
    if not password_ok:
        attempt = attempt or LoginAttempt(email=key, failures=0)
        db.session.add(attempt)
        attempt.failures += 1
        attempt.last_failure_at = now
        if attempt.failures >= lock_after:
            attempt.locked_until = now + timedelta(minutes=lock_minutes)
        elif attempt.failures >= slowdown_after:
            attempt.locked_until = now + timedelta(seconds=5 * 2 ** (attempt.failures - slowdown_after))
        audit.record(Actor(None, key or "(trống)", ip), "auth.login_failed",
                     entity_type="users", entity_id=user.id if user else None,
                     after={"failures": attempt.failures})
        db.session.commit()
        raise ValidationFailed(str(BAD_CREDENTIALS))
    if not user.is_active_account:
        raise PermissionDenied(_("Tài khoản này đã bị vô hiệu hóa. Vui lòng liên hệ quản trị viên."))
    if attempt is not None:
        db.session.delete(attempt)
    user.last_login_at = now
    audit.record(Actor.for_user(user, ip), "auth.login", user)
    db.session.commit()
    return user

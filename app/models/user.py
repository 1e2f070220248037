from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.i18n import _l
from app.models.base import Base, utcnow


class Role(str, enum.Enum):
    ADMIN = "admin"
    DIRECTOR = "director"
    ACCOUNTANT = "accountant"
    CASE_WORKER = "case_worker"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        """The role's name in the language being used now (text made at import time, such
        as form choices, takes the lazy ROLE_LABELS[role] instead)."""
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Quản trị hệ thống"),
    Role.DIRECTOR: _l("Lãnh đạo quỹ"),
    Role.ACCOUNTANT: _l("Kế toán"),
    Role.CASE_WORKER: _l("Cán bộ công tác xã hội"),
    Role.VIEWER: _l("Người xem"),
}


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # Part of the session id (get_id): raising it ends every session and remember cookie of
    # this user (sign-out, password change, deactivation).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    last_login_at: Mapped[datetime | None]
    # The language this person chose with the VI / EN switch (None: not chosen; app/i18n.py).
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def set_password(self, password: str) -> None:
        # Tests set a cheaper method (TestingConfig.PASSWORD_HASH_METHOD); the default is scrypt.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Flask-Login's alternative id: stored in the session and the remember cookie."""
        return f"{self.id}.{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember cookie issued so far."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_active_account

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {Role(r).value for r in roles}

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class LoginAttempt(Base):
    """Failed sign-ins per email address (known or not, so throttling reveals nothing)."""

    __tablename__ = "login_attempts"

    email: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]

"""Access control for staff routes.

Every staff view is wrapped in `roles_required(...)`, which records the allowed roles on
the view (`view.allowed_roles`); tests/test_access.py walks the URL map and checks that
every /staff route declares its roles and enforces them. Admins may do everything.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user

from app.extensions import login_manager
from app.models import Role
from app.services.audit import Actor

ALL_STAFF = tuple(Role)


def roles_required(*roles: Role):
    allowed = frozenset(Role(r).value for r in roles) | {Role.ADMIN.value}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed
        return wrapped

    return decorator


def current_actor() -> Actor:
    """The signed-in user as an audit actor, with the client address."""
    return Actor.for_user(current_user, request.remote_addr)


def user_can(*roles: Role) -> bool:
    return current_user.is_authenticated and current_user.role in (
        {Role(r).value for r in roles} | {Role.ADMIN.value})

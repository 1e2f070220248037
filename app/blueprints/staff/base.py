"""The staff blueprint object, under /staff, that every back-office module adds routes to.

Every view carries `@roles_required(...)` (app/security.py); the before_request hook is a
second lock so a view that forgot it still needs a signed-in user.
"""
from flask import Blueprint
from flask_login import current_user

from app.extensions import login_manager

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None

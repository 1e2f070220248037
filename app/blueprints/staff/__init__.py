"""The staff back office, under /staff. One module per feature adds routes to `bp`.

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


from app.blueprints.staff import admin, dashboard  # noqa: E402,F401  (route modules)
from app.blueprints.staff import appeals, audit_log, donations, donors, imports  # noqa: E402,F401  (issue 3)
from app.blueprints.staff import receipts  # noqa: E402,F401  (issue 5)
from app.blueprints.staff import online  # noqa: E402,F401  (issue 4)
from app.blueprints.staff import cases  # noqa: E402,F401  (issue 6)
from app.blueprints.staff import commendation  # noqa: E402,F401  (issue 7)

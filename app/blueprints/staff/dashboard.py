"""/staff/: the dashboard of the signed-in role (app/services/dashboard.py)."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.blueprints.staff.base import bp
from app.security import ALL_STAFF, roles_required
from app.services import dashboard as dashboards


@bp.get("/")
@roles_required(*ALL_STAFF)
def dashboard():
    board = dashboards.dashboard(current_user.role, current_user.id)
    return render_template("staff/dashboard.html", board=board, year=board.year)

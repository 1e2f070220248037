"""The public site."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template

from app.extensions import db

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    from app.services import public_site

    return render_template("public/home.html", theme=public_site.CAMPAIGN_THEME,
                           slogans=public_site.CAMPAIGN_SLOGANS,
                           appeals=public_site.progress(public_site.public_appeals()))


@bp.get("/healthz")
def healthz():
    """Liveness and database reachability, for the load balancer and monitoring."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        db.session.rollback()
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status
from app.blueprints import receipts_public  # noqa: E402,F401  (receipt verification and download routes)


from app.blueprints import public_results  # noqa: E402,F401  (support results page, issue 6)

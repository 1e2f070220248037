"""The public site: home, the support results page and health check."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template

from app.extensions import db
from app.services import public_site
from app.services.page_cache import cached_page
from app.services.cases import results

bp = Blueprint("public", __name__)


@bp.get("/")
@cached_page
def home():
    return render_template("public/home.html", theme=public_site.theme(),
                           slogans=public_site.slogans(),
                           appeals=public_site.progress(public_site.public_appeals()))


@bp.get("/favicon.ico")
def favicon():
    """Browsers that ignore <link rel="icon"> still ask for /favicon.ico: the same SVG."""
    return current_app.send_static_file("favicon.svg")


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


@bp.get("/ket-qua-ho-tro")
@cached_page
def support_results():
    """What the fund's money did, per programme, without identifying any child: counts and
    totals per programme, and anonymised stories (initials, no photo) only for cases whose
    consent record allows publishing."""
    return render_template("public/results.html", rows=results.programme_results(),
                           stories=results.public_stories())


"""Operations endpoints: /readyz (can this instance serve: database, cache, queue, file
storage) and /metrics (Prometheus). /healthz (liveness) is in public.py.

/metrics is refused to the public with a 404: it answers only a request bearing
`Authorization: Bearer <METRICS_TOKEN>`, or, when no token is configured, a request from
the machine itself (127.0.0.1/::1) that did not come through a proxy (no X-Forwarded-For).
"""
from __future__ import annotations

import hmac
import time

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, request

from app.extensions import cache, csrf, db
from app.services import files, metrics

bp = Blueprint("ops", __name__)


def _check(name: str, probe) -> tuple[str, str]:
    try:
        probe()
        return name, "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        current_app.logger.warning("readiness: %s failed: %s", name, error)
        return name, "unavailable"


def _database():
    try:
        db.session.execute(sa.text("SELECT 1"))
    finally:
        db.session.rollback()


def _cache():
    key = "readyz-probe"
    value = str(time.time())
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was written")


@bp.get("/readyz")
def readyz():
    checks = dict([
        _check("database", _database),
        _check("cache", _cache),
        _check("queue", lambda: current_app.extensions["queue"].ping()),
        _check("storage", lambda: files.files().ping()),
    ])
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", **checks), 200 if ready else 503


def metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.remote_addr in ("127.0.0.1", "::1") and "X-Forwarded-For" not in request.headers


@bp.get("/metrics")
@csrf.exempt
def prometheus_metrics():
    if not metrics_allowed():
        abort(404)
    body, content_type = metrics.exposition(current_app._get_current_object())
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}

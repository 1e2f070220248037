"""Request ids, logs (JSON in production) and request metrics.

Every request gets an id: the `X-Request-ID` header from the proxy when it is a sane value,
otherwise a new one; it is sent back in the response and put on every log line written
while the request runs. LOG_FORMAT=json (production's default) writes one JSON object per
line through python-json-logger, for a log collector; "text" is for people.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
_configured = False


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    global _configured
    if _configured or app.testing:
        return
    _configured = True
    handler = logging.StreamHandler(sys.stderr)
    if app.config.get("LOG_FORMAT") == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    app.logger.handlers[:] = []
    app.logger.propagate = True


def init_app(app: Flask) -> None:
    from app.services import metrics

    configure_logging(app)

    @app.before_request
    def start_request():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None:
            metrics.observe_request(request.method, request.endpoint or "none", response.status_code,
                                    time.perf_counter() - started)
        return response

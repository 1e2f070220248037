"""Versioned static URLs with long cache lifetimes.

`static_url('css/app.css')` in a template gives `/static/css/app.css?v=<12 hex of the
file's SHA-256>`: a changed file gets a new URL, so browsers and proxies may keep every
versioned file for a year (`Cache-Control: public, max-age=31536000, immutable`). An
unversioned static URL is cached for an hour only. Hashes are computed once per file and
modification time.
"""
from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, current_app, request, url_for

YEAR = 365 * 24 * 3600
_hashes: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def file_version(filename: str) -> str | None:
    path = os.path.join(current_app.static_folder, filename)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    cached = _hashes.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:12]
    with _lock:
        _hashes[path] = (mtime, digest)
    return digest


def static_url(filename: str) -> str:
    version = file_version(filename)
    if version is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=filename, v=version)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["static_url"] = static_url

    @app.after_request
    def static_cache_headers(response):
        endpoint = request.endpoint or ""
        if endpoint == "static" or endpoint.endswith(".static"):
            if request.args.get("v") and response.status_code in (200, 304):
                response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            elif response.status_code in (200, 304):
                response.headers["Cache-Control"] = "public, max-age=3600"
        return response

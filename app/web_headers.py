"""Security headers on every response, set in one place (an after_request hook).

Chosen over Flask-Talisman (unmaintained since 2021; its maintained fork adds little we need):
the policy is a few fixed headers. Pages meet the Content-Security-Policy because templates
hold no inline scripts, event handlers or style attributes (JS in app/static/js, CSS classes
in app/static/css/app.css); tests/test_headers.py and the browser test check it.

- Content-Security-Policy: only our own scripts, styles, fonts and images (data: images for
  Bootstrap's SVG icons); no plugins; no framing (frame-ancestors 'none').
- X-Frame-Options DENY (older browsers), X-Content-Type-Options nosniff, Referrer-Policy.
- Strict-Transport-Security when HSTS_SECONDS > 0 (production).
- Cache-Control: no-store on everything but static files: staff pages, receipt PDFs, exports
  and the donation pages carry personal data and must not stay in a shared or browser cache.
"""
from __future__ import annotations

from flask import Flask, current_app, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
])
STATIC_ENDPOINTS = {"static", "bootstrap.static", "public.favicon"}


def fixed_headers(config) -> list[tuple[str, str]]:
    """The headers every page carries; also sent by the page cache's fast path
    (app/services/page_cache.py: FastPath), which answers before Flask runs."""
    headers = [("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Content-Type-Options", "nosniff"),
               ("X-Frame-Options", "DENY"), ("Referrer-Policy", "strict-origin-when-cross-origin")]
    hsts = config.get("HSTS_SECONDS") or 0
    if hsts:
        headers.append(("Strict-Transport-Security", f"max-age={int(hsts)}; includeSubDomains"))
    return headers


def set_security_headers(response):
    headers = response.headers
    for name, value in fixed_headers(current_app.config):
        headers.setdefault(name, value)
    if request.endpoint not in STATIC_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
        headers.pop("ETag", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)

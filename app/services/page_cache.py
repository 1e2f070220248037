"""Public pages from a shared cache (Flask-Caching: a folder by default, Redis in
production), so a televised appeal's visitors are served without rendering or querying.

What is cached: the home page, appeal pages and the support results page (`cached_page`),
for anonymous visitors with nothing flashed for them; never a form (the donate page carries
a CSRF token and is rendered for each visitor). Each entry carries the current *version*;
any commit that touches what those pages show (donations, appeals, programmes, fund
settings, cases, disbursements) sets a new version, so every process stops serving the old
pages. Processes re-read the version at most once per second (VERSION_EVERY) and keep the
pages they served in memory for as long, so a confirmed donation shows on the progress bars
within about a second, and an entry lives at most PUBLIC_PAGE_CACHE_SECONDS in any case
(for changes no commit announces, e.g. an appeal's end date passing).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
import uuid

from flask import Response, current_app, request, session
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import cache
from app.services import metrics

LOG = logging.getLogger(__name__)
VERSION_KEY = "public-pages:version"
VERSION_EVERY = 1.0
_DIRTY = "public_pages_dirty"
_TRACKED = ("Donation", "Appeal", "Programme", "FundSettings", "SupportCase", "Disbursement")

_local = threading.local()
_lock = threading.Lock()
_state = {"version": None, "checked": 0.0}
_pages: dict[str, tuple[str, float, bytes, str]] = {}  # key -> (version, expires, body, type)


def current_version() -> str:
    now = time.monotonic()
    if _state["version"] is None or now - _state["checked"] >= VERSION_EVERY:
        try:
            version = cache.get(VERSION_KEY)
            if version is None:
                version = uuid.uuid4().hex
                if not cache.add(VERSION_KEY, version, timeout=0):
                    version = cache.get(VERSION_KEY) or version
        except Exception:  # noqa: BLE001 - cache down: render every page
            LOG.warning("page cache unavailable", exc_info=True)
            return ""
        with _lock:
            if version != _state["version"]:
                _pages.clear()
            _state["version"], _state["checked"] = version, now
    return _state["version"]


def invalidate() -> None:
    """A new version: every process drops the cached public pages (within VERSION_EVERY)."""
    version = uuid.uuid4().hex
    try:
        cache.set(VERSION_KEY, version, timeout=0)
    except Exception:  # noqa: BLE001
        LOG.warning("could not invalidate the public page cache", exc_info=True)
    with _lock:
        _pages.clear()
        _state["version"], _state["checked"] = version, time.monotonic()


def _cacheable_request() -> bool:
    if request.method != "GET" or current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0) <= 0:
        return False
    if request.cookies.get(current_app.config.get("SESSION_COOKIE_NAME", "session")):
        # A visitor with a session: signed in, or something flashed for them. Rare on a
        # peak (new visitors carry no cookie); rendered for them.
        return "_user_id" not in session and "_flashes" not in session
    return True


def cached_page(view):
    """Serve a public GET page from the cache; see the module docstring."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not _cacheable_request():
            return view(*args, **kwargs)
        version = current_version()
        if not version:
            return view(*args, **kwargs)
        key = "page:" + request.full_path
        now = time.monotonic()
        local = _pages.get(key)
        if local and local[0] == version and local[1] > now:
            metrics.CACHE.labels("hit").inc()
            return Response(local[2], 200, content_type=local[3])
        ttl = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
        try:
            stored = cache.get(key)
        except Exception:  # noqa: BLE001
            stored = None
        if stored and stored[0] == version:
            metrics.CACHE.labels("hit").inc()
            _pages[key] = (version, now + min(ttl, VERSION_EVERY), stored[1], stored[2])
            return Response(stored[1], 200, content_type=stored[2])
        metrics.CACHE.labels("miss").inc()
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.headers.get("Set-Cookie") and not response.direct_passthrough:
            body = response.get_data()
            try:
                cache.set(key, (version, body, response.content_type), timeout=ttl)
            except Exception:  # noqa: BLE001
                pass
            _pages[key] = (version, now + min(ttl, VERSION_EVERY), body, response.content_type)
        return response

    return wrapped


@event.listens_for(Session, "before_flush")
def _track(session: Session, _context, _instances) -> None:
    if session.info.get(_DIRTY):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if type(obj).__name__ in _TRACKED:
            session.info[_DIRTY] = True
            return


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        try:
            current_app._get_current_object()
        except RuntimeError:
            return
        invalidate()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DIRTY, None)


class FastPath:
    """WSGI middleware: a cookieless GET for a page this process served from the cache in
    the last second is answered before Flask runs at all (no routing, hooks or session).
    Everything else, including the once-a-second refresh, goes through Flask and
    `cached_page` above."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and "HTTP_COOKIE" not in environ:
            key = "page:" + environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")
            entry = _pages.get(key)
            if entry is not None:
                now = time.monotonic()
                if entry[1] > now and (now - _state["checked"] < VERSION_EVERY) and entry[0] == _state["version"]:
                    body = entry[2]
                    metrics.CACHE.labels("hit").inc()
                    metrics.REQUESTS.labels("GET", "page_cache", "200").inc()
                    start_response("200 OK", [("Content-Type", entry[3]), ("Content-Length", str(len(body))),
                                              ("X-Request-ID", uuid.uuid4().hex)])
                    return [body]
        return self.wsgi_app(environ, start_response)

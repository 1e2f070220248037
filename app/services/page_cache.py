"""Public pages from a shared cache (Flask-Caching: a folder by default, Redis in
production), so a televised appeal's visitors are served without rendering or querying.

What is cached: the home page, appeal pages and the support results page (`cached_page`),
for anonymous visitors with nothing flashed for them. A form page that is the same for every
visitor but for its CSRF token (the donate form) is kept as HTML with a slot where the token
goes (`form_page`, `draw_form_page`): each visitor still gets a token of their own, bound to
their session, and the form page stays in the process (never in the shared cache). Each
entry carries the current *version*; any commit that touches what those pages show
(donations, appeals, programmes, fund settings, cases, disbursements) sets a new version, so
every process stops serving the old pages. Processes re-read the version at most once per
second (VERSION_EVERY) and keep the pages they served in memory for as long, so a confirmed
donation shows on the progress bars within about a second, and an entry lives at most
PUBLIC_PAGE_CACHE_SECONDS in any case (for changes no commit announces, e.g. an appeal's end
date passing).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from typing import Callable

from flask import Response, current_app, request, session
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import i18n
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


def page_key(language: str, full_path: str) -> str:
    """One entry per page and language (issue 17): a first visit's language comes from its
    Accept-Language, so the same URL has a Vietnamese and an English page."""
    return f"page:{language}:{full_path}"


def cached_page(view):
    """Serve a public GET page from the cache; see the module docstring."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not _cacheable_request():
            return view(*args, **kwargs)
        version = current_version()
        if not version:
            return view(*args, **kwargs)
        key = page_key(i18n.current(), request.full_path)
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


# ---------------------------------------------------------------- forms with a CSRF slot

CSRF_SLOT = "csrf-slot-per-visitor-9f2c"  # put in a form's token field while it is drawn once
FORM_PAGES_MAX = 256  # per process and app: one per appeal slug, bounded against junk slugs


def _form_store() -> dict:
    # Kept on the app (not the module) so two apps in one process never share a form.
    return current_app.extensions.setdefault("page_cache_forms", {})


def _form_cacheable() -> bool:
    return (request.method == "GET" and current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0) > 0
            and "_flashes" not in session)


def form_page(key: str, token: Callable[[], str]) -> str | None:
    """The stored HTML of form page `key` with `token()` (the visitor's own CSRF token) in
    its slot, or None (not stored yet, stale, or the request is not a plain GET with nothing
    flashed): then draw it with `draw_form_page`."""
    if not _form_cacheable():
        return None
    version = current_version()
    entry = _form_store().get((i18n.current(), key))
    if not version or entry is None or entry[0] != version or entry[1] <= time.monotonic():
        return None
    metrics.CACHE.labels("hit").inc()
    html, has_slot = entry[2], entry[3]
    return html.replace(CSRF_SLOT, str(escape(token()))) if has_slot else html


def draw_form_page(key: str, draw: Callable[[str | None], str], token: str | None) -> str:
    """Form page `key` drawn by `draw(token)`, which puts `token` in the form's CSRF field
    (None: a form without one). Where `form_page` may serve it, it is drawn with CSRF_SLOT
    instead and kept; the visitor's `token` then goes in the slot."""
    version = current_version() if _form_cacheable() else ""  # before drawing: it pops flashes
    if not version:
        return draw(token)
    html = draw(CSRF_SLOT if token else None)
    has_slot = bool(token) and CSRF_SLOT in html
    metrics.CACHE.labels("miss").inc()
    store = _form_store()
    if len(store) >= FORM_PAGES_MAX:
        store.clear()
    store[(i18n.current(), key)] = (version, time.monotonic() + current_app.config["PUBLIC_PAGE_CACHE_SECONDS"], html, has_slot)
    return html.replace(CSRF_SLOT, str(escape(token))) if has_slot else html


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

    def __init__(self, app, wsgi_app, headers=()):
        self.app = app
        self.wsgi_app = wsgi_app
        # What the app's after_request hooks would add (security headers, no-store).
        self.headers = [*headers, ("Cache-Control", "no-store"), ("Vary", "Accept-Language, Cookie")]

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and "HTTP_COOKIE" not in environ:
            key = page_key(i18n.from_accept_language(environ.get("HTTP_ACCEPT_LANGUAGE")),
                           environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
            entry = _pages.get(key)
            if entry is not None:
                now = time.monotonic()
                if entry[1] > now and (now - _state["checked"] < VERSION_EVERY) and entry[0] == _state["version"]:
                    body = entry[2]
                    metrics.CACHE.labels("hit").inc()
                    metrics.REQUESTS.labels("GET", "page_cache", "200").inc()
                    start_response("200 OK", [("Content-Type", entry[3]), ("Content-Length", str(len(body))),
                                              ("X-Request-ID", uuid.uuid4().hex), *self.headers])
                    return [body]
        return self.wsgi_app(environ, start_response)

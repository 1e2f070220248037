"""Languages (issue 17): Vietnamese, the source language of every string in the code and the
default, and English, from the gettext catalog in app/translations/.

How a request's language is chosen (`select_locale`):
  1. a signed-in staff member's own choice (users.locale), set by the switch;
  2. the browser's choice, the `lang` cookie set by the switch (`/ngon-ngu/<code>`);
  3. on a first visit, the best of the two in the browser's Accept-Language;
  4. Vietnamese.
Outside a request (the `flask` command, background jobs) the language is CLI_LANG from the
environment (`vi` or `en`), else Vietnamese; a job that mails a donor uses the donor's own
language (`language_of`).

Strings: `_("…")` where the text is needed now (a request, a CLI message), `_l("…")` for text
defined at import time (form labels, model labels), which is translated when it is shown.
Official documents (receipts, statements, the commendation list, statutory reports) are drawn
inside `vietnamese()`, so any label they use stays Vietnamese whatever the reader's language.

Amounts and dates follow the language: `money(1000000)` is "1.000.000 ₫" in Vietnamese and
"1,000,000 ₫" in English; `date_text(d)` "01/06/2024" and "1 June 2024".
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date, datetime

from babel.dates import format_date
from flask import Blueprint, current_app, g, has_request_context, redirect, request, url_for
from flask_babel import Babel, force_locale, get_locale
from jinja2 import pass_context
from flask_babel import gettext as _  # noqa: F401  (re-exported: `from app.i18n import _`)
from flask_babel import lazy_gettext as _l  # noqa: F401
from flask_babel import ngettext  # noqa: F401
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

DEFAULT = "vi"
#: Each language with its own name, as the switch shows it.
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()
bp = Blueprint("i18n", __name__)


def valid(code: str | None) -> str | None:
    """`code` if it is one of our languages ("en", "EN", "en-GB" → "en"), else None."""
    code = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def from_accept_language(header: str | None) -> str:
    """The language a first visit gets from its Accept-Language header (also used by the
    page cache's WSGI fast path, before Flask runs)."""
    if not header:
        return DEFAULT
    accept = parse_accept_header(header, LanguageAccept)
    best = accept.best_match(list(LANGUAGES), default=None)
    if best is None:  # "en-US" alone: best_match already falls back to the primary tag
        for value, _quality in accept:
            if valid(value):
                return valid(value)
    return best or DEFAULT


def select_locale() -> str:
    if not has_request_context():
        return valid(os.environ.get("CLI_LANG")) or DEFAULT
    from flask_login import current_user

    user_locale = valid(getattr(current_user, "locale", None)) if current_user else None
    if user_locale:
        return user_locale
    return valid(request.cookies.get(COOKIE)) or from_accept_language(request.headers.get("Accept-Language"))


def gettext_now(text: str) -> str:
    """`_` as a plain function, for libraries that take a translate callback."""
    return _(text)


def current() -> str:
    """The language being used now ("vi" or "en")."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def is_english() -> bool:
    return current() == "en"


@contextmanager
def vietnamese():
    """Draw an official document (or any text that must stay Vietnamese) inside this."""
    with force_locale(DEFAULT):
        yield


@contextmanager
def language(code: str | None):
    """Text for a particular reader, e.g. an e-mail to a donor in the donor's language."""
    with force_locale(valid(code) or DEFAULT):
        yield


def language_of(person) -> str:
    """A donor's or staff member's own language, Vietnamese when they have not chosen."""
    return valid(getattr(person, "language", None) or getattr(person, "locale", None)) or DEFAULT


def money(amount: int, symbol: bool = True) -> str:
    """An amount of đồng for the page being drawn: grouped with dots in Vietnamese, with
    commas in English; always whole đồng."""
    from app.vnd import NBSP, format_vnd

    if current() != "en":
        return format_vnd(amount, symbol=symbol)
    text = format_vnd(amount, symbol=False).replace(".", ",")
    return f"{text}{NBSP}₫" if symbol else text


def date_text(value: date | datetime | None) -> str:
    """A day: 01/06/2024 in Vietnamese, 1 June 2024 in English (local time for a datetime)."""
    from app import timeutil

    if value is None:
        return ""
    if current() != "en":
        return timeutil.format_local(value, "%d/%m/%Y") if isinstance(value, datetime) else value.strftime("%d/%m/%Y")
    day = timeutil.to_local(value).date() if isinstance(value, datetime) else value
    return format_date(day, "d MMMM y", locale="en")


def datetime_text(value: datetime | None) -> str:
    """A moment in local time: 01/06/2024 14:05 in Vietnamese, 1 June 2024, 14:05 in English."""
    from app import timeutil

    if value is None:
        return ""
    if current() != "en":
        return timeutil.format_local(value)
    return f"{date_text(value)}, {timeutil.format_local(value, '%H:%M')}"


def switch_url(code: str) -> str:
    """The switch's link for `code`, coming back to the page being shown."""
    target = request.full_path if request.query_string else request.path
    return url_for("i18n.switch", code=code, next=target)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an absolute or protocol-relative URL (open redirect).
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("public.home")
    return target


@bp.get("/ngon-ngu/<code>")
def switch(code: str):
    """The VI / EN switch: remembered in the browser (a cookie) and, for a signed-in staff
    member, on their account. A link (not a form) so it works on cached public pages."""
    from flask_login import current_user

    from app.extensions import db

    chosen = valid(code)
    if chosen is None:
        from flask import abort

        abort(404)
    response = redirect(_safe_next(request.args.get("next")), 303)
    response.set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=True)
    if getattr(current_user, "is_authenticated", False) and hasattr(current_user, "locale"):
        if current_user.locale != chosen:
            current_user.locale = chosen
            db.session.commit()
    return response


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale, default_locale=DEFAULT,
                   default_domain="messages", default_translation_directories="translations")
    app.register_blueprint(bp)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current, switch_url=switch_url)
    # Marked as needing the render's context, so Jinja never folds `{{ 300000|vnd }}` into
    # the template at compile time in the language of the first page drawn.
    app.jinja_env.filters["vnd"] = pass_context(lambda _ctx, v, symbol=True: money(v, symbol=symbol))
    app.jinja_env.filters["vnd_plain"] = pass_context(lambda _ctx, v: money(v, symbol=False))
    app.jinja_env.filters["local_date"] = pass_context(lambda _ctx, v: date_text(v))
    app.jinja_env.filters["local_dt"] = pass_context(lambda _ctx, v: datetime_text(v))

    @app.before_request
    @app.teardown_request
    def choose_afresh(*_args):
        # Flask-Babel keeps the chosen language on `g`; a request run inside a longer app
        # context (tests, the CLI's test client) must not inherit the previous one's.
        g.pop("_flask_babel", None)

    @app.after_request
    def vary_on_language(response):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response

"""Where input enters: checks applied once, for every request, before any view runs.

- `<int:…>` URL parts are bounded to 1..2^31-1 (`BoundedIntConverter`), so
  `/staff/donations/2147483648` is a 404, never a database error.
- A query-string value over MAX_QUERY_VALUE characters is a 400.
- A NUL character anywhere in the path, the query string, form fields, uploaded file names or
  a JSON body is refused with a 400: PostgreSQL cannot store it in text, and no honest input
  contains one. Provider webhooks verify their signed body themselves (payments blueprint).
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from app.errors import DomainError
from app.i18n import _l
from app.params import MAX_ID

NUL_MESSAGE = _l("Dữ liệu gửi lên chứa ký tự không hợp lệ (NUL).")
# Search boxes and filters: no honest query-string value is longer (SQLite refuses LIKE
# patterns over 50,000 characters; PostgreSQL would scan with them).
MAX_QUERY_VALUE = 1000
QUERY_MESSAGE = _l("Tham số tìm kiếm quá dài (tối đa %(n)s ký tự).", n=MAX_QUERY_VALUE)
# Blueprints whose request bodies are checked by their own code (signed webhooks).
RAW_BODY_BLUEPRINTS = {"payments"}


class BoundedIntConverter(IntegerConverter):
    """`<int:x>` with 1 <= x <= 2^31-1 unless a route says otherwise."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _texts_of(value, depth: int = 0) -> Iterable[str]:
    if depth > 64:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts_of(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _texts_of(item, depth + 1)


def request_texts() -> Iterable[str]:
    """Every piece of text the request carries that a view may read."""
    yield request.path
    for key, value in request.args.items(multi=True):
        yield key
        yield value
    if request.blueprint in RAW_BODY_BLUEPRINTS:
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            yield key
            yield value
        for key, upload in request.files.items(multi=True):
            yield key
            yield upload.filename or ""
    elif request.is_json:
        yield from _texts_of(request.get_json(silent=True))


def refuse_nul() -> None:
    if any(len(value) > MAX_QUERY_VALUE for value in request.args.values()):
        raise DomainError(str(QUERY_MESSAGE))
    if any("\x00" in text for text in request_texts()):
        raise DomainError(str(NUL_MESSAGE))  # 400, as a page or JSON (app.register_errorhandlers)


def init_app(app: Flask) -> None:
    """Call before blueprints are registered (the converter binds when routes are added)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul)

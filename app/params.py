"""Bounded parsing of what arrives in URLs and query strings (no Flask here but the message catalog).

Ids are PostgreSQL `integer` columns: anything outside 1..2^31-1 cannot name a row, and
sending it to the database is an error (psycopg raises), so such values are refused before
any query. Dates are bounded to years the fund can have (a year-1 date overflows when it
is converted to UTC). `app/web_input.py` registers `MAX_ID` as the bound of every `<int:…>`
URL part; views read query arguments through these helpers.
"""
from __future__ import annotations

from datetime import date

from app.i18n import _l

MAX_ID = 2**31 - 1
MAX_PAGE = 100_000
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)
DATE_RANGE_MESSAGE = _l("Ngày phải trong khoảng 01/01/1900 – 31/12/2199.")


def parse_int(raw: object, *, minimum: int, maximum: int) -> int | None:
    """A whole number written in ASCII digits within [minimum, maximum], else None."""
    text = str(raw if raw is not None else "").strip()
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    value = -int(digits) if negative else int(digits)
    return value if minimum <= value <= maximum else None


def parse_id(raw: object) -> int | None:
    """A database id (1..2^31-1) or None."""
    return parse_int(raw, minimum=1, maximum=MAX_ID)


def parse_page(raw: object) -> int:
    """A page number: 1 for anything missing, malformed or absurd."""
    return parse_int(raw, minimum=1, maximum=MAX_PAGE) or 1


def parse_year(raw: object, default: int | None = None, *, minimum: int = 2000,
               maximum: int = 2100) -> int | None:
    """A calendar year within [minimum, maximum], else `default`."""
    value = parse_int(raw, minimum=minimum, maximum=maximum)
    return default if value is None else value


def check_date(value: date) -> date:
    """Raise ValueError (a message in the reader's language) for a date outside MIN_DATE..MAX_DATE."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(str(DATE_RANGE_MESSAGE))
    return value


def parse_date(raw: object) -> date | None:
    """An ISO date (YYYY-MM-DD) within the bounds; None when empty. Raises ValueError."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    return check_date(date.fromisoformat(text))

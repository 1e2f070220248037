"""Time helpers. Everything is stored in UTC and shown, grouped and cut into years in
Asia/Ho_Chi_Minh: a gift at 23:30 on 31 December Vietnam time belongs to that year."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_local(value: datetime) -> datetime:
    """An aware datetime in Vietnam time."""
    return value.astimezone(VN_TZ)


def local_to_utc(value: datetime) -> datetime:
    """Treat a naive datetime as Vietnam wall-clock time and return it in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(timezone.utc)


def local_day_start_utc(day: date) -> datetime:
    return local_to_utc(datetime.combine(day, time.min))


def year_bounds_utc(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a Vietnam calendar year, in UTC, for range filters on received_at."""
    return local_day_start_utc(date(year, 1, 1)), local_day_start_utc(date(year + 1, 1, 1))


def local_year(value: datetime) -> int:
    return to_local(value).year


def local_today() -> date:
    return to_local(utcnow()).date()


def format_local(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return "" if value is None else to_local(value).strftime(fmt)

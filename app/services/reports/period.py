"""The period a report covers and the small shared types of every report.

A report is for one Vietnam calendar year, optionally narrowed to a range of days within it
(`--from/--to`). Days are local (Asia/Ho_Chi_Minh); the UTC bounds for `received_at` come
from app.timeutil, so a gift at 23:30 on 31 December belongs to that year.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.errors import ValidationFailed
from app.i18n import _
from app.timeutil import local_day_start_utc, local_today

FIRST_YEAR = 2000
# Public figures of fewer than this many children in a category and period are shown as
# "< 5" (small counts can identify a child; BRIEF "Reports the fund owes").
SMALL_COUNT = 5


@dataclass(frozen=True)
class Period:
    """[start, end] in local days, both inclusive, within `year`."""

    year: int
    start: date
    end: date

    @property
    def start_utc(self) -> datetime:
        return local_day_start_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        """Exclusive upper bound in UTC (the start of the day after `end`)."""
        return local_day_start_utc(self.end + timedelta(days=1))

    @property
    def is_whole_year(self) -> bool:
        return self.start == date(self.year, 1, 1) and self.end == date(self.year, 12, 31)

    @property
    def is_closed(self) -> bool:
        """The period is over (in Vietnam time): its report may be frozen."""
        return self.end < local_today()

    @property
    def label(self) -> str:
        if self.is_whole_year:
            return f"năm {self.year}"
        return f"từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"

    @property
    def key(self) -> str:
        return f"{self.year}" if self.is_whole_year else f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"


def check_year(year: object) -> int:
    """A year a report can be asked for: from 2000 to the current year."""
    if isinstance(year, str):
        year = year.strip()
        if not (year.isascii() and year.isdigit()):  # "²".isdigit() is True, int("²") fails
            raise ValidationFailed(_("Năm không hợp lệ."), field="year")
        year = int(year)
    if not isinstance(year, int) or isinstance(year, bool):
        raise ValidationFailed(_("Năm không hợp lệ."), field="year")
    current = local_today().year
    if not FIRST_YEAR <= year <= current:
        raise ValidationFailed(_("Năm phải từ %(first)s đến %(last)s.", first=FIRST_YEAR, last=current), field="year")
    return year


def _day(value: date | str | None, error) -> date | None:
    """`value` as a day; `error()` is the message of a bad one."""
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(error()) from None


def make_period(year: object, start: date | str | None = None, end: date | str | None = None) -> Period:
    """The period of `year`, optionally narrowed; bad input raises ValidationFailed (400)."""
    year = check_year(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    start = _day(start, lambda: _("Từ ngày: ngày không hợp lệ (định dạng YYYY-MM-DD).")) or first
    end = _day(end, lambda: _("Đến ngày: ngày không hợp lệ (định dạng YYYY-MM-DD).")) or last
    if start > end:
        raise ValidationFailed(_("Khoảng ngày bị đảo ngược: «từ ngày» phải trước «đến ngày»."))
    if start < first or end > last:
        raise ValidationFailed(_("Khoảng ngày phải nằm trong năm %(year)s.", year=year))
    return Period(year, start, end)


@dataclass(frozen=True)
class ChildCount:
    """A number of children. On public outputs 1–4 read "< 5"; internal reports (the Action
    Month report to the parent department) print the exact figure."""

    value: int
    public: bool = True

    @property
    def masked(self) -> bool:
        return self.public and 0 < self.value < SMALL_COUNT

    def __str__(self) -> str:
        return f"< {SMALL_COUNT}" if self.masked else str(self.value)

    def as_json(self) -> int | str:
        return str(self) if self.masked else self.value

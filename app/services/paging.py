"""A small paginator for SELECTs that return rows of several columns (db.paginate only
returns the first entity)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.params import parse_page


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers around the current one, with None where a gap is shown."""
        shown = sorted({1, self.pages, *range(max(1, self.page - size), min(self.pages, self.page + size) + 1)})
        out: list[int | None] = []
        for number in shown:
            if out and number - (out[-1] or 0) > 1:
                out.append(None)
            out.append(number)
        return out


def page_number(raw: str | None) -> int:
    return parse_page(raw)


def paginate(stmt: sa.Select, page: int, per_page: int, *, scalars: bool = False) -> Page:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    query = stmt.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(query)
    items = result.scalars().all() if scalars else result.all()
    return Page(items=items, total=total, page=page, per_page=per_page)

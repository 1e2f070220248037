"""Gapless per-year counters (receipt numbers, case codes).

A counter row (year, last_number) is created if missing and advanced with one
UPDATE … RETURNING inside the caller's transaction: the row lock (PostgreSQL) or the write
lock taken at BEGIN (SQLite) serializes concurrent callers, and a rollback gives the numbers
back, so there are no gaps and no duplicates.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db


def advance(counter_model, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers for `year`; returns the last one reserved."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(counter_model).values(year=year, last_number=0).on_conflict_do_nothing())
    return db.session.execute(
        sa.update(counter_model)
        .where(counter_model.year == year)
        .values(last_number=counter_model.last_number + count)
        .returning(counter_model.last_number)
    ).scalar_one()

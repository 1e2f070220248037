"""Gapless per-year counters (receipt numbers, case codes).

A counter row (year, last_number) is created if missing and advanced with one
UPDATE … RETURNING inside the caller's transaction: the row lock (PostgreSQL) or the write
lock taken at BEGIN (SQLite) serializes concurrent callers, and a rollback gives the numbers
back, so there are no gaps and no duplicates.
"""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db


def advance(counter_model, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers for `year`; returns the last one reserved.
    One statement: INSERT … ON CONFLICT (year) DO UPDATE … RETURNING (the upsert takes the
    row lock on PostgreSQL exactly like the UPDATE it replaces)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(counter_model).values(year=year, last_number=count)
    return db.session.execute(
        stmt.on_conflict_do_update(index_elements=[counter_model.year],
                                   set_={"last_number": counter_model.last_number + count})
        .returning(counter_model.last_number)
    ).scalar_one()

"""Declarative base, naming convention and the UTC timestamp type shared by every model."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, registry

# Named constraints, so Alembic can alter them later (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime on both databases.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so the value is stored as naive
    UTC and given its zone back on load. Naive datetimes are refused on the way in: every
    local (Vietnam) time must be converted with app.timeutil first.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; convert it first")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def filled_index(name: str, *columns: str, unique: bool = False) -> sa.Index:
    """An index of the rows whose last column is filled (`WHERE <column> IS NOT NULL`, on
    both databases), for a column most rows leave empty: a bulk load writes no index entry
    for an empty value, and a look-up by value (`= x`, `IN (…)`, a join) implies the column
    is not NULL, so both planners use it. A unique one forbids the same duplicates as a full
    one (NULLs never conflicted)."""
    where = sa.text(f"{columns[-1]} IS NOT NULL")
    return sa.Index(name, *columns, unique=unique, postgresql_where=where, sqlite_where=where)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime},
    )

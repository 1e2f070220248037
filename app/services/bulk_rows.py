"""Bulk rows straight through the driver, for the set-based paths (the donation import, the
bank statement import, a group of bank notifications, the audit entries of a deferred block):
one COPY on PostgreSQL, one executemany on SQLite, and primary keys reserved in one query."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import sqlalchemy as sa

from app.extensions import db
from app.models import UTCDateTime


def insert_many(table: sa.Table, params: list[dict]) -> None:
    """Insert a chunk straight through the driver (SQLite: one executemany; PostgreSQL:
    COPY): SQLAlchemy's per-value bind processing costs more than the insert itself at this
    volume. Datetimes are converted here exactly as app.models.base.UTCDateTime stores them
    (naive UTC text on SQLite, aware values on PostgreSQL); every value must already be
    valid for its column. All dicts must have the same keys in the same order."""
    if params:
        insert_rows(table, list(params[0]), [list(p.values()) for p in params])


def insert_rows(table: sa.Table, columns: list[str], rows: Iterable[list]) -> None:
    """`insert_many` for rows already as lists of values in the order of `columns` (no
    dicts to build): any number of rows, one COPY on PostgreSQL, one executemany on SQLite.
    `rows` may be a generator: PostgreSQL then builds each row while the server is still
    writing the ones before (COPY streams), instead of before the COPY starts. SQLite rows
    (lists) are converted in place (datetimes to text)."""
    if isinstance(rows, list) and not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        # PostgreSQL: COPY through psycopg, on the session's own connection (so inside the
        # same transaction): several times faster than even a pipelined executemany.
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor:
            with cursor.copy(f'COPY {table.name} ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        return
    rows = list(rows)
    if not rows:
        return
    marks = ", ".join("?" for _ in columns)
    times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UTCDateTime)]
    cache: dict[datetime, str] = {}
    for row in rows:
        for i in times:
            if row[i] is not None:
                row[i] = sqlite_time(row[i], cache)
    sql = f'INSERT INTO {table.name} ({", ".join(columns)}) VALUES ({marks})'
    connection.exec_driver_sql(sql, [tuple(row) for row in rows])


def sqlite_time(value: datetime, cache: dict[datetime, str]) -> str:
    """A datetime as app.models.base.UTCDateTime stores it on SQLite (naive UTC text);
    `cache`: the texts already made (a bulk path repeats a few values)."""
    text = cache.get(value)
    if text is None:
        utc = value.astimezone(timezone.utc).replace(tzinfo=None)
        text = cache[value] = utc.isoformat(" ") if utc.microsecond else utc.isoformat(" ") + ".000000"
    return text


def reserve_ids(table: sa.Table, count: int) -> list[int]:
    """Primary keys for `count` new rows, so a chunk is one plain executemany INSERT (no
    RETURNING, which SQLite would run row by row to keep the order). PostgreSQL: values
    from the table's own sequence, safe with concurrent writers. SQLite: every transaction
    began with BEGIN IMMEDIATE and holds the database write lock, so nobody else inserts
    until we commit and MAX(id)+1… are ours."""
    if db.session.get_bind().dialect.name == "postgresql":
        # The sequence is named once (a function call per row would cost more than the
        # nextval); the values come back as a range when they are consecutive, as they are
        # unless another writer drew from the sequence meanwhile (then as an array).
        low, high, values = db.session.execute(sa.text(
            "WITH s AS MATERIALIZED (SELECT CAST(pg_get_serial_sequence(:table, 'id') AS regclass) AS seq) "
            "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE array_agg(v) END "
            "FROM (SELECT nextval(s.seq) AS v FROM s, generate_series(1, :n)) AS drawn"),
            {"table": table.name, "n": count}).one()
        if low is None:
            return []
        return list(range(low, high + 1)) if values is None else sorted(values)
    last = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)))
    return list(range(last + 1, last + 1 + count))

"""Bulk rows straight through the driver, for the set-based paths (the donation import, the
bank statement import, a group of bank notifications, the audit entries of a deferred block):
one COPY on PostgreSQL, one executemany on SQLite, and primary keys reserved in one query.

Inside `bulk_load()` (a statement or donation import: hundreds of thousands of rows),
PostgreSQL checks the foreign keys of the copied rows once per key, not once per row: the
per-row checks are triggers (a query each, about 10 µs: half the cost of writing a bank
line), so the COPY runs with triggers off (`session_replication_role = replica`, as
pg_restore loads data) and the distinct keys of each foreign key are then looked up and
locked `FOR KEY SHARE` — what the triggers do, one query per key instead of one per row.
A missing key raises ForeignKeyViolation as the trigger would. Other bulk writes of the
block (the statement import's pledges' UPDATE) do the same with `triggers_off` and
`check_references`, where `set_based()` says so. The role needs the right to
set that parameter (a superuser, or `GRANT SET ON PARAMETER session_replication_role`);
without it the triggers run as usual: the same result, slower."""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg
import sqlalchemy as sa

from app.extensions import db
from app.models import UTCDateTime


def insert_many(table: sa.Table, params: list[dict]) -> None:
    """Insert a chunk straight through the driver (SQLite: one executemany; PostgreSQL:
    COPY): SQLAlchemy's per-value bind processing costs more than the insert itself at this
    volume. Datetimes are converted here exactly as app.models.base.UTCDateTime stores them
    (naive UTC text on SQLite, aware values on PostgreSQL); every value must already be
    of its column's kind (an int, a str — JSON as its text —, an aware datetime: the binary
    COPY converts nothing). All dicts must have the same keys in the same order."""
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
        # same transaction): several times faster than even a pipelined executemany. In
        # binary format, each value dumped as its column's type (_pg_type): about four
        # times faster again than text, whose datetimes and escaped strings cost more to
        # write and to parse than the rows themselves.
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor:
            references = _references(table, columns) if set_based() else None
            if references:
                checks: list[tuple[sa.Column, set]] = [(target, set()) for _index, target in references]
                rows = _noting_keys(rows, [index for index, _target in references], [seen for _, seen in checks])
            with triggers_off(cursor, bool(references)), \
                    cursor.copy(f'COPY {table.name} ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)') as copy:
                copy.set_types([_pg_type(table.c[column].type) for column in columns])
                for row in rows:
                    copy.write_row(row)
            if references:
                check_references(cursor, table.name, checks)
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


def _pg_type(kind: sa.types.TypeEngine) -> str:
    """The PostgreSQL type a column's values are dumped as in a binary COPY, from the model
    (the migrations make the same types: `flask db check`, and every bulk path's tests on
    PostgreSQL, fail otherwise), so no round trip. JSON goes as text: its binary form is its
    text, and the rows carry it already serialized."""
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    for model, name in ((sa.BigInteger, "int8"), (sa.SmallInteger, "int2"), (sa.Integer, "int4"),
                        (sa.Boolean, "bool"), (sa.Float, "float8"), (sa.Numeric, "numeric"),
                        (sa.LargeBinary, "bytea")):
        if isinstance(kind, model):
            return name
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    return "text"  # String, Text, JSON (serialized), Enum (its label)


_BULK_LOAD = "bulk_rows.bulk_load"


@contextmanager
def bulk_load():
    """Inside the block, insert_rows on PostgreSQL checks foreign keys once per key (see
    the module's docstring), for the session's transaction, and the garbage collector is
    paused (paused_gc). On SQLite the connection gets a larger page cache (128 MB instead
    of 2 MB): the indexes of a load take keys in random order (e-mails, tokens), and each
    page read again costs more than the insert. For loads of thousands of rows; a few rows
    (a webhook's group) are cheaper with the triggers."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.text("PRAGMA cache_size = -131072"))
    db.session.info[_BULK_LOAD] = {}
    try:
        with paused_gc():
            yield
    finally:
        db.session.info.pop(_BULK_LOAD, None)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = True


@contextmanager
def paused_gc():
    """Python's cyclic garbage collector off for the block: a bulk path keeps hundreds of
    thousands of objects alive (lines, views, rows), and every full collection walks them
    all again — a quarter of reading and parsing a 200,000-line statement. The collector is
    process-wide: the pause is counted, so nested or concurrent blocks (threads of one web
    worker) turn it back on when the last one ends; cycles made meanwhile are collected then."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def may_turn_triggers_off(connection: sa.Connection) -> bool:
    """PostgreSQL: whether the connection's role may `SET session_replication_role` (row
    triggers, foreign-key checks included, off for its own transaction): a superuser, or on
    PostgreSQL 15 and later a role granted SET ON PARAMETER session_replication_role."""
    if connection.dialect.server_version_info >= (15,):
        query = "SELECT has_parameter_privilege('session_replication_role', 'SET')"
    else:
        query = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    return bool(connection.exec_driver_sql(query).scalar())


def set_based() -> bool:
    """In bulk_load(), when the role may turn triggers off (asked once per block): then a
    bulk write may run inside `triggers_off` and check its foreign keys with
    `check_references`."""
    block = db.session.info.get(_BULK_LOAD)
    if block is None:
        return False
    if "allowed" not in block:
        block["allowed"] = may_turn_triggers_off(db.session.connection())
    return block["allowed"]


def _references(table: sa.Table, columns: list[str]) -> list[tuple[int, sa.Column]] | None:
    """(index in columns, referenced column) of each foreign key the copied rows fill; None
    when a key cannot be checked set-based here (several columns, or filled by a default)."""
    found = []
    for constraint in table.foreign_key_constraints:
        if len(constraint.elements) != 1:
            return None
        (element,) = constraint.elements
        column = element.parent
        if column.name in columns:
            found.append((columns.index(column.name), element.column))
        elif column.server_default is not None or column.default is not None:
            return None
    return found


def _noting_keys(rows: Iterable[list], indexes: list[int], keys: list[set]) -> Iterator[list]:
    """The rows, unchanged, noting the value of each foreign key column on the way."""
    pairs = list(zip(indexes, keys))
    for row in rows:
        for index, seen in pairs:
            seen.add(row[index])
        yield row


@contextmanager
def triggers_off(cursor, off: bool = True):
    """The statements run inside the block without row triggers, foreign-key checks
    included (`session_replication_role = replica`; only where set_based()): the caller
    checks the keys with check_references afterwards. An error inside leaves the
    transaction to be rolled back, which resets the setting."""
    if off:
        cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    if off:
        cursor.execute("SET LOCAL session_replication_role = origin")


def check_references(cursor, table: str, checks: list[tuple[sa.Column, set]]) -> None:
    """What the foreign-key triggers do for every row, once per distinct key: for each
    (referenced column, values written into `table`), the referenced rows must exist, and
    are locked FOR KEY SHARE until the transaction ends."""
    for target, values in checks:
        values.discard(None)
        if not values:
            continue
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {target.table.name} WHERE {target.name} = ANY(%s) "
                       f"FOR KEY SHARE) AS found", [list(values)])
        (found,) = cursor.fetchone()
        if found != len(values):
            raise psycopg.errors.ForeignKeyViolation(
                f"insert into {table}: {len(values) - found} value(s) of a foreign key not present in "
                f"{target.table.name}.{target.name}")


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

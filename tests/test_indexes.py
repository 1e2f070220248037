"""The partial indexes of columns most rows leave empty (app.models.base.filled_index): a
look-up by value, and a join on the column, still uses them on both databases."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.base import Base


def _filled_indexes() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            where = index.dialect_options["sqlite"].get("where")
            columns = tuple(getattr(column, "name", None) for column in index.expressions)
            if where is not None and str(where) == f"{columns[-1]} IS NOT NULL":
                found.append((table.name, index.name, columns))
    return sorted(found)


def _plan(sql: str) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # small test tables: show what is usable
        return "\n".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    return "\n".join(r[-1] for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_every_filled_index_is_found():
    names = {name for _table, name, _column in _filled_indexes()}
    assert {"ix_bank_lines_donation_id", "ix_donations_reverses_id", "ix_donors_merged_into_id"} <= names


@pytest.mark.parametrize("table,index,columns", _filled_indexes())
def test_a_look_up_by_value_uses_the_filled_index(table, index, columns):
    types = Base.metadata.tables[table].c
    # Only this index may serve the column (dropped in the test's transaction: DDL is
    # transactional on both databases): which index the planner prefers among several
    # depends on the statistics the earlier tests left; whether this one is usable does not.
    for other in Base.metadata.tables[table].indexes:
        if other.name != index and any(getattr(e, "name", None) in columns for e in other.expressions):
            db.session.execute(sa.text(f"DROP INDEX {other.name}"))
    values = {c: "'x'" if isinstance(types[c].type, sa.String) else "7" for c in columns}
    *leading, last = columns
    fixed = "".join(f" AND {c} = {values[c]}" for c in leading)
    assert index in _plan(f"SELECT id FROM {table} WHERE {last} = {values[last]}{fixed}")
    assert index in _plan(f"SELECT id FROM {table} WHERE {last} IN ({values[last]}, {values[last]}){fixed}")
    if not leading and not isinstance(types[last].type, sa.String):  # a reference, joined to what it names
        assert index in _plan(f"SELECT other.id FROM {table} AS other JOIN {table} AS t "
                              f"ON t.{last} = other.id WHERE other.id = 5")
    db.session.rollback()

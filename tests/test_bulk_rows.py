"""The bulk paths' rows (app/services/bulk_rows.py): ids reserved for them never collide
with rows written before or after, and rows streamed from a generator all arrive."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry
from app.services.bulk_rows import insert_rows, reserve_ids
from app.timeutil import utcnow

_TABLE = AuditEntry.__table__
_COLUMNS = ["id", "created_at", "actor_label", "action", "entity_type", "entity_id"]


def _orm_entry(label: str) -> AuditEntry:
    entry = AuditEntry(actor_label=label, action="test.entry", entity_type="test")
    db.session.add(entry)
    db.session.flush()
    return entry


def _bulk(ids: list[int], label: str):
    """A generator of rows, as the statement import passes them."""
    now = utcnow()
    return ([i, now, label, "test.bulk", "test", str(i)] for i in ids)


@contextmanager
def _sequence_increment(step: int):
    """PostgreSQL: the audit log's id sequence draws every `step`-th value, as it looks to
    one writer while another draws from it between its values."""
    sequence = db.session.scalar(sa.text("SELECT pg_get_serial_sequence('audit_log', 'id')"))
    db.session.execute(sa.text(f"ALTER SEQUENCE {sequence} INCREMENT BY {step}"))
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(sa.text(f"ALTER SEQUENCE {sequence} INCREMENT BY 1"))
        db.session.commit()


def test_reserved_ids_are_new_and_the_next_row_does_not_take_one():
    before = _orm_entry("before")
    ids = reserve_ids(_TABLE, 500)
    assert len(ids) == len(set(ids)) == 500 and min(ids) > before.id
    insert_rows(_TABLE, _COLUMNS, _bulk(ids, "bulk"))
    after = _orm_entry("after")  # the sequence (PostgreSQL) or MAX(id) (SQLite) has moved past them
    db.session.commit()
    assert after.id > max(ids)
    rows = db.session.execute(sa.select(AuditEntry.id, AuditEntry.actor_label).order_by(AuditEntry.id)).all()
    assert [label for _, label in rows] == ["before"] + ["bulk"] * 500 + ["after"]
    assert [i for i, label in rows if label == "bulk"] == ids


def test_no_rows_reserve_and_insert_nothing():
    assert reserve_ids(_TABLE, 0) == []
    insert_rows(_TABLE, _COLUMNS, [])
    insert_rows(_TABLE, _COLUMNS, _bulk([], "none"))  # an empty generator
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_postgresql_ids_drawn_with_gaps_are_all_returned():
    """When the values a writer draws are not consecutive, it gets exactly those values,
    not the range from the first to the last (which would hold other writers' ids)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL sequence")
    with _sequence_increment(3):
        ids = reserve_ids(_TABLE, 4)
        assert len(ids) == 4 and ids == sorted(ids) and [b - a for a, b in zip(ids, ids[1:])] == [3, 3, 3]
        insert_rows(_TABLE, _COLUMNS, _bulk(ids, "gaps"))
        db.session.commit()
        assert db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all() == ids

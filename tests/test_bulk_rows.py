"""The bulk paths' rows (app/services/bulk_rows.py): ids reserved for them never collide
with rows written before or after, rows streamed from a generator all arrive, and in a
bulk load a row whose foreign key is missing is refused and the keys it uses are locked,
whether PostgreSQL's triggers or the set-based checks run (the statement import's pledges'
UPDATE too); the garbage collector paused for a bulk block is on again after it."""
from __future__ import annotations

import gc
import uuid
from contextlib import contextmanager, nullcontext

import psycopg
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Donation, TransferPledge
from app.services.audit import Actor
from app.services.bank import bulk
from app.services.bank.matching import PLEDGE_COLUMNS
from app.services.bank.pledges import create_pledge
from app.services.bulk_rows import bulk_load, insert_rows, paused_gc, reserve_ids
from app.timeutil import utcnow
from app.services.donations.online import DonationRequest
from tests import bank_helpers, factories

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


_GIFT_COLUMNS = ["id", "donor_id", "programme_id", "amount", "currency", "channel", "status", "received_at",
                 "created_at", "receipt_deferred"]


def _gifts(donor_ids: list[int], programme_id: int) -> list[list]:
    now = utcnow()
    ids = reserve_ids(Donation.__table__, len(donor_ids))
    return [[i, donor_id, programme_id, 100_000, "VND", "bank_transfer", "confirmed", now, now, False]
            for i, donor_id in zip(ids, donor_ids)]


@contextmanager
def _plain_role():
    """PostgreSQL: the transaction runs as a role that may not turn triggers off (as an
    application's role usually is), so insert_rows keeps PostgreSQL's per-row checks."""
    name = f"quy_plain_{uuid.uuid4().hex[:8]}"
    db.session.execute(sa.text(f"CREATE ROLE {name}"))
    db.session.execute(sa.text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}"))
    db.session.execute(sa.text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {name}"))
    db.session.commit()
    try:
        db.session.execute(sa.text(f"SET LOCAL ROLE {name}"))
        yield
    finally:
        db.session.rollback()
        db.session.execute(sa.text(f"DROP OWNED BY {name}"))
        db.session.execute(sa.text(f"DROP ROLE {name}"))
        db.session.commit()


def _roles():
    return [pytest.param(nullcontext, id="privileged"), pytest.param(_plain_role, id="plain-role")]


@pytest.mark.parametrize("role", _roles())
def test_a_bulk_load_refuses_a_row_whose_foreign_key_is_missing(role):
    if role is _plain_role and db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL roles")
    donor, general = factories.donor(), factories.programme()
    db.session.commit()
    with role():
        rows = _gifts([donor.id, donor.id, 10**8], general.id)  # the last donor does not exist
        with pytest.raises((sa.exc.IntegrityError, psycopg.errors.IntegrityError)):
            with bulk_load():
                insert_rows(Donation.__table__, _GIFT_COLUMNS, iter(rows))
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 0


@pytest.mark.parametrize("role", _roles())
def test_a_bulk_load_writes_its_rows_and_holds_their_keys_until_commit(role, app):
    """The referenced donor cannot be deleted by anyone else while the load's transaction
    is open (the lock the foreign-key trigger would take), and the rows are all there after."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL row locks")
    donor, other, general = factories.donor(), factories.donor("Trần Thị Bình"), factories.programme()
    db.session.commit()
    donor_id = donor.id
    with role():
        with bulk_load():
            insert_rows(Donation.__table__, _GIFT_COLUMNS, iter(_gifts([donor_id] * 3, general.id)))
        with db.engine.connect() as elsewhere:
            elsewhere.exec_driver_sql("SET lock_timeout = '300ms'")
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                elsewhere.exec_driver_sql(f"DELETE FROM donors WHERE id = {donor_id}")
            elsewhere.rollback()
            elsewhere.exec_driver_sql(f"DELETE FROM donors WHERE id = {other.id}")  # not one the load uses
            elsewhere.commit()
        db.session.commit()
    assert db.session.scalars(sa.select(Donation.donor_id)).all() == [donor_id] * 3


@pytest.mark.parametrize("role", _roles())
def test_a_bulk_load_marks_a_pledge_paid_only_by_a_donation_that_exists(role):
    """The pledges' UPDATE of a statement import (bank/bulk.py) runs with row triggers off
    where the role may; a donation id that does not exist is refused all the same."""
    if role is _plain_role and db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL roles")
    actor = Actor.system("test")
    bank_helpers.account()
    pledge = create_pledge(DonationRequest(kind="individual", name="Nguyễn Văn A", email="a@example.com",
                                           amount=500_000), actor, minimum=10_000, expiry_days=7)
    db.session.commit()
    row = db.session.execute(sa.select(*PLEDGE_COLUMNS).where(TransferPledge.id == pledge.id)).one()
    recorded = bulk.Recorded([bulk.Confirmation(1, 500_000, utcnow(), row, "")], [10**8], 0, deferred=True)
    with role():
        with pytest.raises((sa.exc.IntegrityError, psycopg.errors.IntegrityError)):
            with bulk_load():
                bulk.issue_receipts_many(recorded, actor, label="test")
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(TransferPledge, pledge.id).status == "pending"


def test_the_garbage_collector_is_back_on_when_the_last_bulk_block_ends():
    """Nested blocks (an import inside a job) do not turn it on early, and a failing
    import does not leave it off for the rest of the process."""
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with paused_gc():
            with bulk_load():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer block still runs
            raise RuntimeError("the import failed")
    assert gc.isenabled()

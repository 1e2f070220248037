"""Receipt numbers: gapless and unique under concurrency, kept when void, new on re-issue."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import AuditEntry, Receipt
from app.services.donations import ledger as donations
from app.services.receipts import issuing as receipts
from app.timeutil import local_year, utcnow
from tests import factories
from tests.conftest import make_app

CONCURRENT = 50


def _confirm_all_at_once(database_uri: str, donation_ids: list[int]) -> list[BaseException]:
    """Confirm every donation from its own thread, app context and session, all released
    by one barrier so the issuing transactions really overlap."""
    db.session.commit()  # SQLite: the test's own session must not hold the write lock
    app = make_app(database_uri, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": CONCURRENT, "max_overflow": 0, "pool_timeout": 60})
    barrier = threading.Barrier(len(donation_ids))
    errors: list[BaseException] = []

    def work(donation_id: int) -> None:
        try:
            with app.app_context():
                db.session.execute(sa.text("SELECT 1"))  # connect before the start line
                db.session.rollback()
                barrier.wait(timeout=60)
                donations.confirm_donation(donation_id, factories.SYSTEM)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in donation_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with app.app_context():
        db.engine.dispose()
    return errors


def _assert_gapless(donation_ids: list[int]) -> None:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Receipt.donation_id, Receipt.sequence, Receipt.number, Receipt.year)).all()
    assert sorted(r.donation_id for r in rows) == sorted(donation_ids)  # one each
    assert sorted(r.sequence for r in rows) == list(range(1, len(donation_ids) + 1))
    assert len({r.number for r in rows}) == len(donation_ids)
    year = local_year(utcnow())
    assert f"BTTE-{year}-{len(donation_ids):06d}" in {r.number for r in rows}


def _pending_donations(n: int) -> list[int]:
    donor = factories.donor()
    return [factories.donation(donor, 100_000 + i, confirm=False).id for i in range(n)]


@pytest.mark.timeout(180)
def test_50_simultaneous_confirmations_on_postgresql_get_50_consecutive_numbers(database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL (CI runs it)")
    ids = _pending_donations(CONCURRENT)
    assert _confirm_all_at_once(database_uri, ids) == []
    _assert_gapless(ids)


@pytest.mark.timeout(180)
def test_concurrent_confirmations_on_sqlite_get_consecutive_numbers(database_uri):
    if not database_uri.startswith("sqlite"):
        pytest.skip("SQLite only (the PostgreSQL run has its own test)")
    ids = _pending_donations(CONCURRENT)
    assert _confirm_all_at_once(database_uri, ids) == []
    _assert_gapless(ids)


def test_a_rolled_back_issue_gives_its_number_back():
    first = factories.donation(confirm=False)
    donation = donations.lock_donation(first.id)
    donations.confirm_in_tx(donation, factories.SYSTEM)
    assert receipts.valid_receipt_for(first.id).sequence == 1
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 0
    second = factories.donation()
    assert receipts.valid_receipt_for(second.id).sequence == 1
    donations.confirm_donation(first.id, factories.SYSTEM)
    assert receipts.valid_receipt_for(first.id).sequence == 2


def test_void_keeps_the_number_and_reissue_gets_a_new_one_pointing_back():
    donation = factories.donation(amount=5_000_000)
    original = receipts.valid_receipt_for(donation.id)
    factories.donation()  # someone else's receipt takes number 2 in between

    voided = receipts.void_receipt(original.id, factories.SYSTEM, "Sai tên đơn vị")
    assert voided.number == original.number and voided.is_void
    assert voided.void_reason == "Sai tên đơn vị"
    assert receipts.valid_receipt_for(donation.id) is None

    replacement = receipts.reissue_receipt(original.id, factories.SYSTEM)
    assert replacement.sequence == 3
    assert replacement.replaces_id == original.id
    assert db.session.get(Receipt, original.id).replaced_by.id == replacement.id
    assert receipts.valid_receipt_for(donation.id).id == replacement.id
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.entity_type == "receipts").order_by(AuditEntry.id)).all()
    assert actions == ["receipt.issue", "receipt.issue", "receipt.void", "receipt.issue"]

    with pytest.raises(Conflict, match="đã được cấp lại"):
        receipts.reissue_receipt(original.id, factories.SYSTEM)
    with pytest.raises(Conflict, match="đã bị hủy"):
        receipts.void_receipt(original.id, factories.SYSTEM, "lần nữa")


def test_reissue_of_a_valid_receipt_voids_it_first():
    donation = factories.donation()
    original = receipts.valid_receipt_for(donation.id)
    replacement = receipts.reissue_receipt(original.id, factories.SYSTEM, "Đổi địa chỉ")
    original = db.session.get(Receipt, original.id)
    assert original.is_void and original.void_reason == "Đổi địa chỉ"
    assert replacement.replaces_id == original.id and not replacement.is_void


def test_void_needs_a_reason_and_reissue_refuses_a_fully_reversed_gift():
    donation = factories.donation()
    receipt = receipts.valid_receipt_for(donation.id)
    with pytest.raises(ValidationFailed):
        receipts.void_receipt(receipt.id, factories.SYSTEM, "  ")
    donations.reverse_donation(donation.id, factories.SYSTEM, reason="Chuyển nhầm")
    receipt = db.session.get(Receipt, receipt.id)
    assert receipt.is_void
    with pytest.raises(Conflict):
        receipts.reissue_receipt(receipt.id, factories.SYSTEM)

"""The shared confirmation / reversal / receipt-numbering rules (app/services)."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import Donation, DonationStatus, Receipt
from app.services.donations import ledger as donations
from app.services.receipts.issuing import valid_receipt_for
from app.timeutil import local_to_utc
from tests import factories


def net_total() -> int:
    return db.session.scalar(sa.select(Donation.net_sum()).where(Donation.counted()))


def test_confirmation_issues_one_receipt_and_is_idempotent():
    donation = factories.donation(amount=500_000)
    donations.confirm_donation(donation.id, factories.SYSTEM)  # a second delivery changes nothing
    receipts = db.session.scalars(sa.select(Receipt)).all()
    assert len(receipts) == 1 and receipts[0].donation_id == donation.id
    year = datetime.now(timezone.utc).astimezone().year
    assert receipts[0].number.startswith("BTTE-") and receipts[0].sequence == 1
    assert len(receipts[0].verification_token) >= 32
    del year


def test_receipt_numbers_are_consecutive_per_vietnam_year():
    numbers = [valid_receipt_for(factories.donation().id).number for _ in range(3)]
    seqs = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert seqs == [1, 2, 3] and len(set(numbers)) == 3


def test_receipt_year_follows_vietnam_time():
    from app.services.receipts.issuing import allocate_receipt

    late = factories.donation(confirm=False)
    late.status = DonationStatus.CONFIRMED.value
    receipt = allocate_receipt(late, factories.SYSTEM, issued_at=local_to_utc(datetime(2023, 12, 31, 23, 30)))
    db.session.commit()
    assert receipt.year == 2023 and receipt.number == "BTTE-2023-000001"


def test_failed_donation_cannot_be_confirmed():
    donation = factories.donation(confirm=False)
    donation.status = DonationStatus.FAILED.value
    db.session.commit()
    with pytest.raises(Conflict):
        donations.confirm_donation(donation.id, factories.SYSTEM)


def test_full_reversal_nets_to_zero_and_voids_the_receipt():
    donation = factories.donation(amount=2_000_000)
    receipt = valid_receipt_for(donation.id)
    reversal = donations.reverse_donation(donation.id, factories.SYSTEM, reason="Nhập nhầm")
    assert reversal.reverses_id == donation.id and reversal.amount == 2_000_000
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).status == DonationStatus.REVERSED.value
    assert net_total() == 0
    assert db.session.get(Receipt, receipt.id).voided_at is not None
    with pytest.raises(Conflict):
        donations.reverse_donation(donation.id, factories.SYSTEM, reason="again")


def test_partial_refund_reissues_a_receipt_pointing_back():
    donation = factories.donation(amount=1_000_000)
    old = valid_receipt_for(donation.id)
    donations.reverse_donation(donation.id, factories.SYSTEM, reason="Hoàn một phần", amount=400_000)
    assert net_total() == 600_000
    new = valid_receipt_for(donation.id)
    assert new.id != old.id and new.replaces_id == old.id and new.sequence == old.sequence + 1
    with pytest.raises(ValidationFailed):
        donations.reverse_donation(donation.id, factories.SYSTEM, reason="quá số", amount=600_001)


def test_reversal_needs_a_reason():
    donation = factories.donation()
    with pytest.raises(ValidationFailed):
        donations.reverse_donation(donation.id, factories.SYSTEM, reason="  ")
    assert net_total() == donation.amount

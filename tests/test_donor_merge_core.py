import pytest
import sqlalchemy as sa

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import AuditEntry, Donation, Donor
from app.services.donations import ledger as donations
from app.services.donors import merge_donors
from app.timeutil import utcnow
from tests import factories


def test_merge_moves_donations_and_keeps_the_duplicate_for_history():
    survivor = factories.donor("Nguyễn Văn An", phone="0912345678")
    duplicate = factories.donor("Nguyen Van An", email="an@example.com")
    factories.donation(survivor, 30_000_000)
    factories.donation(duplicate, 20_000_000)
    merge_donors(survivor.id, duplicate.id, factories.SYSTEM)
    db.session.expire_all()
    totals = db.session.execute(sa.select(Donation.donor_id, Donation.net_sum()).where(Donation.counted())
                                .group_by(Donation.donor_id)).all()
    assert totals == [(survivor.id, 50_000_000)]
    assert db.session.get(Donor, duplicate.id).merged_into_id == survivor.id
    assert db.session.get(Donor, survivor.id).email == "an@example.com"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "donor.merge")).one()
    assert entry.after["merged_donor_id"] == duplicate.id


def test_merge_refuses_mixed_kinds_conflicting_mst_and_self():
    person = factories.donor("A")
    org1 = factories.organization("Công ty A", tax_code="0201234567")
    org2 = factories.organization("Cty A", tax_code="0209999999")
    with pytest.raises(Conflict):
        merge_donors(person.id, org1.id, factories.SYSTEM)
    with pytest.raises(Conflict):
        merge_donors(org1.id, org2.id, factories.SYSTEM)
    with pytest.raises(ValidationFailed):
        merge_donors(org1.id, org1.id, factories.SYSTEM)


def test_record_donation_validates_before_writing():
    donor = factories.donor()
    with pytest.raises(ValidationFailed):
        donations.record_donation(factories.SYSTEM, donor_id=donor.id, amount=0, channel="cash", received_at=utcnow())
    with pytest.raises(ValidationFailed):
        donations.record_donation(factories.SYSTEM, donor_id=donor.id, amount=1000, channel="cheque", received_at=utcnow())
    with pytest.raises(ValidationFailed):
        donations.record_donation(factories.SYSTEM, donor_id=donor.id, amount=1000, channel="in_kind", received_at=utcnow())
    first = donations.record_donation(factories.SYSTEM, donor_id=donor.id, amount=1000, channel="cash",
                                      received_at=utcnow(), reference="UNC-1")
    assert first.status == "confirmed"
    with pytest.raises(Conflict):
        donations.record_donation(factories.SYSTEM, donor_id=donor.id, amount=1000, channel="cash",
                                  received_at=utcnow(), reference="UNC-1")
    assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 1


def test_survivor_takes_over_the_duplicates_mst():
    survivor = factories.organization("Công ty TNHH Thép Hải Phòng")
    duplicate = factories.organization("Cty TNHH Thép Hải Phòng", tax_code="0201234567")
    merge_donors(survivor.id, duplicate.id, factories.SYSTEM)
    db.session.expire_all()
    assert db.session.get(Donor, survivor.id).tax_code == "0201234567"


def test_merge_keeps_the_duplicates_phone_and_email_and_staff_choose_what_survives():
    """Issue 12, item 30."""
    survivor = factories.donor("Nguyễn Văn An", phone="0912345678", email="an.cu@example.com")
    duplicate = factories.donor("Nguyen Van An", phone="0987654321", email="an.moi@example.com",
                                address="Số 3 Lê Lợi")
    merge_donors(survivor.id, duplicate.id, factories.SYSTEM, keep={"email": "merged"})
    db.session.expire_all()
    kept = db.session.get(Donor, survivor.id)
    assert kept.email == "an.moi@example.com" and kept.phone == "0912345678" and kept.address == "Số 3 Lê Lợi"
    # What did not survive is still there, in the notes.
    assert "0987654321" in kept.notes and "an.cu@example.com" in kept.notes


def test_search_by_international_or_partial_phone_and_by_words():
    from app.services.donor_profiles import search_condition

    an = factories.donor("Nguyễn Văn An", phone="0918123456")
    factories.donor("Trần Thị Bình", phone="0901000000")

    def found(q):
        return {d.id for d in db.session.scalars(sa.select(Donor).where(search_condition(q)))}

    assert found("+84 918 123 456") == {an.id}
    assert found("+84 918") == {an.id}  # typed in part
    assert found("0918 123") == {an.id}
    assert found("nguyen an") == {an.id}
    assert found("AN nguyễn") == {an.id}
    assert found("nguyen binh") == set()

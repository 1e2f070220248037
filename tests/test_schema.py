import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from app.models import Donation, Donor, DonorKind
from tests import factories


def test_migrations_match_the_models():
    """The schema built by the migrations is exactly what the models describe."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_tax_code_is_unique_among_organizations_only():
    factories.organization("Công ty A", tax_code="0201234567")
    factories.donor("Nguyễn Văn An", tax_code="0201234567")  # an individual may repeat it
    db.session.add(Donor(kind=DonorKind.ORGANIZATION.value, name="Công ty B", tax_code="0201234567"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("amount", [0, -1])
def test_amounts_must_be_positive_whole_dong(amount):
    donor = factories.donor()
    db.session.add(Donation(donor=donor, amount=amount, channel="cash",
                            programme=factories.programme(), status="pending"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_amounts_beyond_32_bits_are_kept_exactly():
    donation = factories.donation(amount=12_345_678_901_234)
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).amount == 12_345_678_901_234

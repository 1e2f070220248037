"""The yearly commendation list: staff decisions on it and its frozen submissions.

The list itself is never stored: it is computed from the donations (app/services/
commendation.py). What staff decide about a year's list is stored per year (exclusions,
print overrides); a **submission** is the list as frozen and sent to the Board, stored row
by row so it can be printed again exactly, whatever happens to the donations afterwards.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import _l
from app.models.base import Base, utcnow
from app.models.donation import Donation
from app.models.donor import Donor
from app.models.user import User


# Covering index for the list's GROUP BY (app/services/commendation.py): the year's counted
# rows are read from the index alone, without visiting the table. Declared here, on the
# donations table, so the commendation feature owns it (migration 0006_commendation).
ix_donations_commendation = sa.Index(
    "ix_donations_commendation",
    Donation.status, Donation.received_at, Donation.donor_id, Donation.amount, Donation.reverses_id,
)
# Reversals only (a partial index: a few rows), so the list reaches the reversals that cross
# a year boundary without scanning the gifts.
ix_donations_reversals = sa.Index(
    "ix_donations_reversals",
    Donation.reverses_id, Donation.status, Donation.donor_id, Donation.amount, Donation.received_at,
    sqlite_where=sa.text("reverses_id IS NOT NULL"),
    postgresql_where=sa.text("reverses_id IS NOT NULL"),
)


class ExclusionReason(str, enum.Enum):
    DECLINED = "declined"
    ANONYMOUS = "anonymous"
    OTHER = "other"

    @property
    def label(self) -> str:
        """In the language being drawn."""
        return str(EXCLUSION_REASON_LABELS[self])


EXCLUSION_REASON_LABELS = {
    ExclusionReason.DECLINED: _l("Từ chối nhận khen thưởng"),
    ExclusionReason.ANONYMOUS: _l("Ẩn danh, không đồng ý công khai"),
    ExclusionReason.OTHER: _l("Lý do khác"),
}


class CommendationExclusion(Base):
    """A donor left off one year's list on purpose, with the reason recorded."""

    __tablename__ = "commendation_exclusions"
    __table_args__ = (sa.UniqueConstraint("year", "donor_id", name="uq_commendation_exclusions_year_donor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donors.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    donor: Mapped[Donor] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def reason_label(self) -> str:
        return ExclusionReason(self.reason).label


class CommendationOverride(Base):
    """How one donor's name, title or address is printed on one year's list.

    A field left empty (None) prints the donor record's own value (no title by default).
    """

    __tablename__ = "commendation_overrides"
    __table_args__ = (sa.UniqueConstraint("year", "donor_id", name="uq_commendation_overrides_year_donor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donors.id"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(60))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    donor: Mapped[Donor] = relationship()


class CommendationSubmission(Base):
    """A frozen list: numbered, immutable, with everything needed to print it again.

    Never updated or deleted (the service has no path for it, the ORM refuses it and the
    migration adds database triggers refusing UPDATE); a later freeze of the same year is a
    new submission with the next sequence number.
    """

    __tablename__ = "commendation_submissions"
    __table_args__ = (
        sa.UniqueConstraint("year", "sequence", name="uq_commendation_submissions_year_sequence"),
        sa.CheckConstraint("threshold > 0", name="threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    year: Mapped[int] = mapped_column(index=True)
    sequence: Mapped[int]
    threshold: Mapped[int] = mapped_column(sa.BigInteger)
    frozen_at: Mapped[datetime] = mapped_column(default=utcnow)
    frozen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    frozen_by_label: Mapped[str] = mapped_column(sa.String(254))
    # The printed letterhead and signature, as they were when the list was frozen.
    document_date: Mapped[date]
    parent_agency: Mapped[str] = mapped_column(sa.String(255))
    proposing_body: Mapped[str] = mapped_column(sa.String(255))
    city: Mapped[str] = mapped_column(sa.String(100))
    signatory_title: Mapped[str] = mapped_column(sa.String(200))
    signatory_name: Mapped[str] = mapped_column(sa.String(200))
    commendation_form: Mapped[str] = mapped_column(sa.String(255))
    organizations_total: Mapped[int] = mapped_column(sa.BigInteger)
    individuals_total: Mapped[int] = mapped_column(sa.BigInteger)
    # SHA-256 of the PDF rendered at freezing time; re-rendering gives the same bytes.
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))

    frozen_by: Mapped[User | None] = relationship()
    rows: Mapped[list[CommendationSubmissionRow]] = relationship(
        back_populates="submission", order_by="CommendationSubmissionRow.id")

    @property
    def grand_total(self) -> int:
        return self.organizations_total + self.individuals_total


class CommendationSubmissionRow(Base):
    """One printed line of a frozen list, exactly as printed."""

    __tablename__ = "commendation_submission_rows"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "group_kind", "position",
                            name="uq_commendation_submission_rows_position"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("commendation_submissions.id"), index=True)
    group_kind: Mapped[str] = mapped_column(sa.String(20))  # DonorKind value
    position: Mapped[int]  # 1..n within the group, the printed STT
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donors.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(60))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    tax_code: Mapped[str | None] = mapped_column(sa.String(20))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    donation_count: Mapped[int]

    submission: Mapped[CommendationSubmission] = relationship(back_populates="rows")
    donor: Mapped[Donor] = relationship()


@sa.event.listens_for(CommendationSubmission, "before_update")
@sa.event.listens_for(CommendationSubmission, "before_delete")
@sa.event.listens_for(CommendationSubmissionRow, "before_update")
@sa.event.listens_for(CommendationSubmissionRow, "before_delete")
def _frozen_is_immutable(_mapper, _connection, target) -> None:
    raise RuntimeError(f"{type(target).__name__} is frozen and cannot be changed or deleted")

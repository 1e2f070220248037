from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.models.donation import Donation


class ReceiptSequence(Base):
    """Last receipt number used in a calendar year (Vietnam time).

    Incremented with an UPDATE inside the issuing transaction, so the row lock serializes
    concurrent issuers and a rolled-back issue gives its number back: no gaps, no duplicates.
    """

    __tablename__ = "receipt_sequences"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Receipt(Base):
    """A numbered certificate for one confirmed donation.

    A void receipt keeps its number; a re-issue is a new receipt whose `replaces_id` points
    back at the void one. At most one receipt per donation is valid at a time.
    """

    __tablename__ = "receipts"
    __table_args__ = (
        sa.UniqueConstraint("year", "sequence", name="uq_receipts_year_sequence"),
        sa.Index(
            "uq_receipts_valid_per_donation",
            "donation_id",
            unique=True,
            sqlite_where=sa.text("voided_at IS NULL"),
            postgresql_where=sa.text("voided_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    donation_id: Mapped[int] = mapped_column(sa.ForeignKey("donations.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    verification_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(sa.Text)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipts.id"), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    donation: Mapped[Donation] = relationship()
    replaces: Mapped[Receipt | None] = relationship(remote_side=[id], back_populates="replaced_by")
    replaced_by: Mapped[Receipt | None] = relationship(back_populates="replaces")

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

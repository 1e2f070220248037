from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import _l
from app.models.base import Base, filled_index, utcnow
from app.models.donor import Donor
from app.models.fund import Appeal, Programme
from app.models.user import User


class Channel(str, enum.Enum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"
    IN_KIND = "in_kind"

    @property
    def label(self) -> str:
        """The label in the language being used now (a plain str)."""
        return str(CHANNEL_LABELS[self])


# Lazy (`_l`): str() them wherever a label goes into a file, JSON or a comparison.
CHANNEL_LABELS = {
    Channel.CARD: _l("Thẻ (trực tuyến)"),
    Channel.BANK_TRANSFER: _l("Chuyển khoản ngân hàng"),
    Channel.CASH: _l("Tiền mặt"),
    Channel.IN_KIND: _l("Hiện vật"),
}


class DonationStatus(str, enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    REVERSED = "reversed"

    @property
    def label(self) -> str:
        """The label in the language being used now (a plain str)."""
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    DonationStatus.PENDING: _l("Chờ xác nhận"),
    DonationStatus.CONFIRMED: _l("Đã xác nhận"),
    DonationStatus.FAILED: _l("Không thành công"),
    DonationStatus.REVERSED: _l("Đã đảo bút toán"),
}

# Rows whose money counts. A fully reversed original keeps counting (+amount) and its
# reversal row (status confirmed, reverses_id set) counts -amount, so sums are always net.
COUNTED_STATUSES = (DonationStatus.CONFIRMED.value, DonationStatus.REVERSED.value)


class Donation(Base):
    """One gift, or one reversal of a gift.

    Money rows are never deleted and their amounts never edited. A correction, refund or
    void is a new row with `reverses_id` pointing at the original and a positive `amount`
    that counts negatively (see `signed_amount`). Use `Donation.counted()` and
    `Donation.signed_amount` for every total, so all totals are net.
    """

    __tablename__ = "donations"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_donations_status_received_at", "status", "received_at"),
        # A month of a bank standing pledge is paid once: a second transfer in the same
        # month is attributed to the next unpaid month (app/services/bank/standing.py).
        sa.UniqueConstraint("recurring_gift_id", "recurring_month", name="uq_donations_recurring_month"),
        # References most gifts leave empty (no appeal, case, reversal or monthly gift):
        # indexed only where filled, so a bulk load writes no entry for them (migration 0023).
        *(filled_index(f"ix_donations_{column}", column)
          for column in ("appeal_id", "case_id", "reverses_id", "recurring_gift_id")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donors.id"), index=True)
    appeal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id"))
    # Designation. Undesignated money goes to the general-fund programme (is_general).
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    # Designation to one child's case (its programme_id is then the case's programme).
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # whole đồng; in kind: the valuation
    currency: Mapped[str] = mapped_column(sa.String(3), default="VND")
    channel: Mapped[str] = mapped_column(sa.String(20))
    in_kind_description: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default=DonationStatus.PENDING.value)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    # External references; each unique so a webhook, a statement line or an imported row
    # can never be recorded twice.
    reference: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donations.id"))
    # A month of a monthly gift; the Stripe invoice it was paid by (unique: exactly once).
    recurring_gift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recurring_gifts.id"))
    stripe_invoice_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    recurring_month: Mapped[str | None] = mapped_column(sa.String(7))  # "2026-12": the month a transfer paid
    reason: Mapped[str | None] = mapped_column(sa.Text)  # why a reversal was made
    flagged_reason: Mapped[str | None] = mapped_column(sa.Text)  # needs a person to look
    public_message: Mapped[str | None] = mapped_column(sa.String(500))
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the donor typed on a public form, kept on the gift itself: the receipt prints it
    # and its mail goes to the typed address, whatever the matched donor record says. None
    # on rows staff recorded (those print the donor record).
    donor_name: Mapped[str | None] = mapped_column(sa.String(255))
    donor_email: Mapped[str | None] = mapped_column(sa.String(254))
    donor_phone: Mapped[str | None] = mapped_column(sa.String(20))
    donor_address: Mapped[str | None] = mapped_column(sa.String(500))
    donor_tax_code: Mapped[str | None] = mapped_column(sa.String(20))
    # The donor's privacy choices for this gift (None: follow the donor record). A public
    # form never changes the record; the stricter of the two applies.
    anonymous: Mapped[bool | None]
    public_listing: Mapped[bool | None]
    # Why staff must check which donor this gift belongs to (a public-form match that did
    # not fully agree). Such gifts count for the fund but are not credited to the donor
    # (commendation, statements) until staff accept or reassign them.
    donor_check: Mapped[str | None] = mapped_column(sa.Text)
    # Confirmed while the fund settings a receipt prints were incomplete: its receipt is
    # issued when an admin completes them (app/services/receipts/issuing.py).
    receipt_deferred: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    donor: Mapped[Donor] = relationship()
    appeal: Mapped[Appeal | None] = relationship()
    programme: Mapped[Programme] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    reverses: Mapped[Donation | None] = relationship(remote_side=[id], back_populates="reversals")
    reversals: Mapped[list[Donation]] = relationship(back_populates="reverses")

    @hybrid_property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @hybrid_property
    def signed_amount(self) -> int:
        return -self.amount if self.reverses_id is not None else self.amount

    @signed_amount.inplace.expression
    @classmethod
    def _signed_amount_expression(cls):
        return sa.case((cls.reverses_id.is_not(None), -cls.amount), else_=cls.amount)

    @classmethod
    def net_sum(cls):
        """SUM of signed amounts as a BIGINT (0 when empty). PostgreSQL sums BIGINT into
        NUMERIC, which would come back as a Decimal; the cast keeps money an int."""
        return sa.cast(sa.func.coalesce(sa.func.sum(cls.signed_amount), 0), sa.BigInteger)

    @classmethod
    def counted(cls):
        """Filter for rows whose signed amounts make up the fund's net totals."""
        return cls.status.in_(COUNTED_STATUSES)

    @classmethod
    def credited(cls):
        """Filter for rows credited to their donor: counted and not awaiting a donor check."""
        return sa.and_(cls.counted(), cls.donor_check.is_(None))

    @property
    def shown_name(self) -> str:
        return self.donor_name or self.donor.name

    @property
    def shown_address(self) -> str | None:
        return self.donor_address if self.donor_name is not None else self.donor.address

    @property
    def shown_tax_code(self) -> str | None:
        return self.donor_tax_code if self.donor_name is not None else self.donor.tax_code

    @property
    def mail_address(self) -> str | None:
        """Where this gift's receipt may be mailed: the typed address for a public-form gift
        (never one the donor did not type), else the donor record's."""
        return self.donor_email if self.donor_name is not None else self.donor.email

    @property
    def is_anonymous(self) -> bool:
        return bool(self.donor.anonymous or self.anonymous)

    @property
    def may_be_listed(self) -> bool:
        return bool(self.donor.public_listing_consent and self.public_listing is not False)

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label

    @property
    def status_label(self) -> str:
        return DonationStatus(self.status).label

    @property
    def reversed_amount(self) -> int:
        return sum(r.amount for r in self.reversals if r.status in COUNTED_STATUSES)

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.models.donation import Donation


class PaymentEvent(Base):
    """One webhook event from the payment provider, kept so a re-delivery is ignored.

    The unique (provider, event_id) pair is what makes concurrent deliveries of the same
    event safe: the second insert waits for the first transaction and then fails. Only the
    event's identity and our outcome are kept, never the payload (it carries personal data).
    """

    __tablename__ = "payment_events"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id", name="uq_payment_events_provider_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20), default="stripe")
    event_id: Mapped[str] = mapped_column(sa.String(255))
    event_type: Mapped[str] = mapped_column(sa.String(80))
    object_id: Mapped[str | None] = mapped_column(sa.String(255))  # cs_…, ch_…
    livemode: Mapped[bool] = mapped_column(default=False)
    donation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donations.id"), index=True)
    # confirmed, already_confirmed, waiting, failed, flagged, refunded, ignored, unmatched
    outcome: Mapped[str] = mapped_column(sa.String(40), default="received")
    detail: Mapped[str | None] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    donation: Mapped[Donation | None] = relationship()

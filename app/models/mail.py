from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import _l
from app.models.base import Base, utcnow
from app.models.receipt import Receipt


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"      # waiting for its first try or for a retry
    SENT = "sent"
    FAILED = "failed"        # gave up retrying automatically; staff can retry
    CANCELLED = "cancelled"  # nothing to send any more (e.g. the receipt was voided first)

    @property
    def label(self) -> str:
        return str({"pending": _l("Chờ gửi"), "sent": _l("Đã gửi"), "failed": _l("Gửi lỗi"),
                    "cancelled": _l("Đã hủy gửi")}[self.value])


class OutboxMessage(Base):
    """An e-mail waiting to go out (transactional outbox).

    Written in the same transaction as what it announces (a receipt), so a committed receipt
    always has its mail queued and a rolled-back one never does. Sending happens after the
    commit; a failure leaves the row pending with the error and the time of the next try.
    The attachment (the receipt PDF) is rendered when the mail is sent, from the receipt.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # "receipt"
    receipt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipts.id"), index=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A sender claims a row by setting this; another sender skips it until it has passed,
    # so the after-commit sender and the cron job never send the same mail twice.
    locked_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(254))
    # Mails that must go out once per thing, e.g. "statement:2025:42" (the annual statement
    # of donor 42): unique, so a resumed statement job never queues a second copy.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)

    receipt: Mapped[Receipt | None] = relationship()

    @property
    def status_label(self) -> str:
        return OutboxStatus(self.status).label

"""Donor accounts (issue 16): sign-in links, personal-data requests and monthly giving."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import _l
from app.models.base import Base, utcnow
from app.models.donor import Donor
from app.models.fund import Appeal, Programme
from app.models.user import User


class AccountToken(Base):
    """A one-time link sent by e-mail: to sign in, or to confirm a new address.

    Only the SHA-256 of the token is stored, so a copy of the database signs nobody in.
    A token is good for one use before `expires_at`.
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))  # sign_in, email_change
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)  # normalised
    new_email: Mapped[str | None] = mapped_column(sa.String(254))  # email_change only
    donor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donors.id"))  # email_change only
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    request_ip: Mapped[str | None] = mapped_column(sa.String(64))


class RequestKind(str, enum.Enum):
    EXPORT = "export"
    CORRECTION = "correction"
    WITHDRAW_CONSENT = "withdraw_consent"
    ERASURE = "erasure"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(REQUEST_KIND_LABELS[self])


REQUEST_KIND_LABELS = {
    RequestKind.EXPORT: _l("Cung cấp dữ liệu cá nhân"),
    RequestKind.CORRECTION: _l("Chỉnh sửa dữ liệu"),
    RequestKind.WITHDRAW_CONSENT: _l("Rút lại sự đồng ý"),
    RequestKind.ERASURE: _l("Xóa dữ liệu cá nhân"),
    RequestKind.OTHER: _l("Yêu cầu khác"),
}


class RequestStatus(str, enum.Enum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return str({"received": _l("Mới tiếp nhận"), "acknowledged": _l("Đã xác nhận tiếp nhận"),
                    "done": _l("Đã hoàn thành"), "refused": _l("Từ chối (có lý do)")}[self.value])


class DataRequest(Base):
    """A donor's request about their personal data (PDP Law 91/2025), with its deadlines:
    acknowledged within 2 working days and done within 15 days of receipt."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donors.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default=RequestStatus.RECEIVED.value, index=True)
    channel: Mapped[str] = mapped_column(sa.String(20))  # account, email, phone, letter, in_person
    details: Mapped[str | None] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledge_by: Mapped[date]
    due_on: Mapped[date]
    acknowledged_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(sa.Text)  # what was done, what was kept and why
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    donor: Mapped[Donor] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return RequestKind(self.kind).label

    @property
    def status_label(self) -> str:
        return RequestStatus(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status in (RequestStatus.RECEIVED.value, RequestStatus.ACKNOWLEDGED.value)


class RecurringMethod(str, enum.Enum):
    CARD = "card"  # Stripe subscription
    BANK = "bank"  # standing pledge by transfer: its own code, monthly reminder, lapse

    @property
    def label(self) -> str:
        return str({"card": _l("Thẻ"), "bank": _l("Chuyển khoản")}[self.value])


class RecurringStatus(str, enum.Enum):
    PENDING = "pending"      # Checkout opened, not finished; a bank pledge before its first transfer
    ACTIVE = "active"
    PAST_DUE = "past_due"    # the last payment failed; the provider retries
    PAUSED = "paused"        # on the donor's request, by staff
    CANCELLED = "cancelled"  # by the donor or on their request
    LAPSED = "lapsed"        # payments stopped (the provider gave up, or missed months)
    ABANDONED = "abandoned"  # Checkout expired before the donor finished

    @property
    def label(self) -> str:
        return str(RECURRING_STATUS_LABELS[self])


RECURRING_STATUS_LABELS = {
    RecurringStatus.PENDING: _l("Chờ đăng ký / chờ lần chuyển đầu"),
    RecurringStatus.ACTIVE: _l("Đang ủng hộ"),
    RecurringStatus.PAST_DUE: _l("Thanh toán lỗi"),
    RecurringStatus.PAUSED: _l("Tạm dừng"),
    RecurringStatus.CANCELLED: _l("Đã hủy"),
    RecurringStatus.LAPSED: _l("Đã ngừng (không thanh toán)"),
    RecurringStatus.ABANDONED: _l("Chưa hoàn tất đăng ký"),
}


class RecurringGift(Base):
    """A monthly gift. Each paid month is a Donation pointing here (`recurring_gift_id`);
    this row is the promise, never money. `method` says how it is paid: "card" is a
    Stripe subscription; "bank" is a standing pledge by transfer, whose code, account and
    QR live on its TransferPledge row (`standing_pledge`, one code for every month) and
    whose months are the donations' `recurring_month` (app/services/bank/standing.py)."""

    __tablename__ = "recurring_gifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donors.id"), index=True)
    method: Mapped[str] = mapped_column(sa.String(20), default=RecurringMethod.CARD.value)
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # whole đồng per month
    currency: Mapped[str] = mapped_column(sa.String(3), default="VND")
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"))
    appeal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default=RecurringStatus.PENDING.value, index=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255))
    started_at: Mapped[datetime | None]
    last_paid_at: Mapped[datetime | None]
    last_failed_at: Mapped[datetime | None]
    failure_message: Mapped[str | None] = mapped_column(sa.Text)
    failed_payments: Mapped[int] = mapped_column(default=0)
    paused_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bank standing pledges: the first month (its 1st day, Vietnam time) that counts towards
    # a lapse — the start, or the month it was resumed or revived; and why staff should
    # check the donor match (from the public form), copied onto every month's donation.
    due_from: Mapped[date | None]
    donor_note: Mapped[str | None] = mapped_column(sa.Text)

    donor: Mapped[Donor] = relationship()
    programme: Mapped[Programme] = relationship()
    appeal: Mapped[Appeal | None] = relationship()

    @property
    def status_label(self) -> str:
        return RecurringStatus(self.status).label

    @property
    def is_running(self) -> bool:
        return self.status in (RecurringStatus.ACTIVE.value, RecurringStatus.PAST_DUE.value)

    @property
    def is_bank(self) -> bool:
        return self.method == RecurringMethod.BANK.value

    @property
    def method_label(self) -> str:
        return RecurringMethod(self.method).label

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.i18n import _l
from app.models.base import Base, utcnow

DEFAULT_COMMENDATION_THRESHOLD = 50_000_000
DEFAULT_RECEIPT_NUMBER_FORMAT = "BTTE-{year}-{seq:06d}"


class AppealStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The label in the language being used now (a plain str)."""
        return str(APPEAL_STATUS_LABELS[self.value])


APPEAL_STATUS_LABELS = {"draft": _l("Nháp"), "open": _l("Đang vận động"), "closed": _l("Đã kết thúc")}


class Appeal(Base):
    """A campaign (đợt vận động), e.g. the Action Month for Children."""

    __tablename__ = "appeals"
    __table_args__ = (sa.CheckConstraint("goal_amount IS NULL OR goal_amount > 0", name="goal_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    summary: Mapped[str | None] = mapped_column(sa.String(500))
    story: Mapped[str | None] = mapped_column(sa.Text)
    goal_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(20), default=AppealStatus.DRAFT.value)
    is_public: Mapped[bool] = mapped_column(default=False)
    # An appeal for one programme designates every gift made through it to that programme
    # (a donor's stated purpose binds the fund). None: gifts go where the donor chooses.
    programme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("programmes.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Programme(Base):
    """A restricted fund (chương trình). Money designated to it is spent only there."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    # The general fund receives everything not designated elsewhere; exactly one has this.
    is_general: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class FundSettings(Base):
    """The fund's own details, edited by an admin. One row (id=1)."""

    __tablename__ = "fund_settings"
    __table_args__ = (sa.CheckConstraint("commendation_threshold > 0", name="threshold_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_name: Mapped[str] = mapped_column(sa.String(255))
    operator_name: Mapped[str] = mapped_column(sa.String(255))
    parent_agency: Mapped[str] = mapped_column(sa.String(255))
    address: Mapped[str] = mapped_column(sa.String(500))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    bank_name: Mapped[str | None] = mapped_column(sa.String(200))
    bank_bin: Mapped[str | None] = mapped_column(sa.String(10))
    bank_account_number: Mapped[str | None] = mapped_column(sa.String(40))
    bank_account_name: Mapped[str | None] = mapped_column(sa.String(200))
    signatory_name: Mapped[str] = mapped_column(sa.String(200))
    signatory_title: Mapped[str] = mapped_column(sa.String(200))
    commendation_threshold: Mapped[int] = mapped_column(sa.BigInteger, default=DEFAULT_COMMENDATION_THRESHOLD)
    receipt_number_format: Mapped[str] = mapped_column(sa.String(60), default=DEFAULT_RECEIPT_NUMBER_FORMAT)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

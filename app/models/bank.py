"""Bank transfers: the fund's accounts, donors' transfer pledges, and every bank line.

A bank line is one movement on one of the fund's accounts, however we heard of it (a
provider's webhook, a statement row). It is stored once: unique per account and bank
reference, per provider and provider transaction id, and per account and fingerprint (for
rows that carry neither; see app/services/bank/lines.py). Lines are money records: never
deleted; their review state changes, and every change is audited.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.i18n import _l
from app.models.account import RecurringGift
from app.models.base import Base, filled_index, utcnow
from app.models.donation import Donation
from app.models.fund import Appeal, Programme
from app.models.user import User


class BankAccount(Base):
    """One of the fund's bank accounts (a main account, one per campaign…)."""

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_bin: Mapped[str] = mapped_column(sa.String(6))
    bank_code: Mapped[str] = mapped_column(sa.String(20))  # VCB, ICB… from the bank list
    bank_name: Mapped[str] = mapped_column(sa.String(200))  # short name shown to donors
    account_number: Mapped[str] = mapped_column(sa.String(19), unique=True)
    account_name: Mapped[str] = mapped_column(sa.String(200))  # as the bank prints it
    label: Mapped[str | None] = mapped_column(sa.String(200))  # "Tài khoản chính", a campaign…
    is_active: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)  # the one shown on /donate
    appeal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    appeal: Mapped[Appeal | None] = relationship()


class PledgeStatus(str, enum.Enum):
    PENDING = "pending"
    RECEIVED = "received"
    EXPIRED = "expired"
    STANDING = "standing"  # a monthly standing pledge: never "received", every transfer counts


class TransferPledge(Base):
    """A donor's promise to transfer, with the code to put in the memo.

    The donor's details are kept as typed; the donor record is found or created only when
    money arrives (a pledge never paid leaves no donor behind)."""

    __tablename__ = "transfer_pledges"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_transfer_pledges_status_amount", "status", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)  # the transfer page's URL
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_accounts.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(20), default=PledgeStatus.PENDING.value)
    donor_kind: Mapped[str] = mapped_column(sa.String(20))
    donor_name: Mapped[str] = mapped_column(sa.String(255))
    donor_email: Mapped[str | None] = mapped_column(sa.String(254))
    donor_phone: Mapped[str | None] = mapped_column(sa.String(20))
    donor_tax_code: Mapped[str | None] = mapped_column(sa.String(20))
    donor_representative: Mapped[str | None] = mapped_column(sa.String(200))
    donor_address: Mapped[str | None] = mapped_column(sa.String(500))
    anonymous: Mapped[bool] = mapped_column(default=False)
    public_listing: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    # The site's language when the donor pledged ("vi"/"en"): the donor record made when the
    # money arrives takes it, so their receipt mail is in their language (issue 17).
    language: Mapped[str | None] = mapped_column(sa.String(5))
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"))
    appeal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appeals.id"))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
    donation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donations.id"), index=True)
    # A standing pledge (status "standing"): the monthly gift whose code this is.
    recurring_gift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recurring_gifts.id"), unique=True)

    account: Mapped[BankAccount] = relationship()
    programme: Mapped[Programme] = relationship()
    appeal: Mapped[Appeal | None] = relationship()
    donation: Mapped[Donation | None] = relationship()
    recurring_gift: Mapped[RecurringGift | None] = relationship(
        backref=backref("standing_pledge", uselist=False))

    @property
    def nameless(self) -> bool:
        """Given anonymously, with neither name nor e-mail (app/services/bank/pledges.py)."""
        return self.donor_email is None


class LineState(str, enum.Enum):
    MATCHED = "matched"  # a donation was recorded from it (or it was matched by hand)
    SUGGESTED = "suggested"  # a likely donor/pledge/programme, waiting for a person
    UNMATCHED = "unmatched"  # nothing found, waiting for a person
    IGNORED = "ignored"  # not a donation (debit, interest, fee, refund, internal…), with reason

    @property
    def label(self):
        """The state's name in the reader's language (lazy: str() it for JSON, CSV, the database)."""
        return LINE_STATE_LABELS[self]


LINE_STATE_LABELS = {
    LineState.MATCHED: _l("Đã khớp"),
    LineState.SUGGESTED: _l("Gợi ý"),
    LineState.UNMATCHED: _l("Chưa khớp"),
    LineState.IGNORED: _l("Không phải ủng hộ"),
}


class BankStatementImport(Base):
    """One statement file imported for one account: its period, balances and counts."""

    __tablename__ = "bank_statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_accounts.id"), index=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    layout: Mapped[str] = mapped_column(sa.String(60))
    period_from: Mapped[datetime | None]
    period_to: Mapped[datetime | None]
    opening_balance: Mapped[int | None] = mapped_column(sa.BigInteger)
    closing_balance: Mapped[int | None] = mapped_column(sa.BigInteger)
    credit_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    debit_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    rows: Mapped[int] = mapped_column(default=0)
    new_lines: Mapped[int] = mapped_column(default=0)
    differences: Mapped[list | None] = mapped_column(sa.JSON)  # balance differences found
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[BankAccount] = relationship()


class BankLine(Base):
    __tablename__ = "bank_lines"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.UniqueConstraint("account_id", "bank_reference", name="uq_bank_lines_account_reference"),
        sa.UniqueConstraint("account_id", "fingerprint", name="uq_bank_lines_account_fingerprint"),
        sa.Index("ix_bank_lines_state_booked_at", "state", "booked_at"),
        sa.Index("ix_bank_lines_account_booked_at", "account_id", "booked_at"),
        # Columns that most lines leave empty (a statement line has no provider id, no sender
        # account, and most have no donation): indexed only where filled (migration 0022).
        filled_index("uq_bank_lines_provider_txn", "provider", "provider_txn_id", unique=True),
        filled_index("ix_bank_lines_sender_account", "sender_account"),
        filled_index("ix_bank_lines_pledge_id", "pledge_id"),
        filled_index("ix_bank_lines_donation_id", "donation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_accounts.id"))
    direction: Mapped[str] = mapped_column(sa.String(6))  # credit | debit
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # whole đồng, always ≥ 0
    booked_at: Mapped[datetime]
    memo: Mapped[str] = mapped_column(sa.Text, default="")
    sender_name: Mapped[str | None] = mapped_column(sa.String(255))
    sender_account: Mapped[str | None] = mapped_column(sa.String(40))
    sender_bank: Mapped[str | None] = mapped_column(sa.String(100))
    bank_reference: Mapped[str | None] = mapped_column(sa.String(100))
    provider: Mapped[str | None] = mapped_column(sa.String(20))  # sepay, casso, payos, None
    provider_txn_id: Mapped[str | None] = mapped_column(sa.String(100))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.String(20))  # webhook | statement
    statement_import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bank_statement_imports.id"), index=True)
    balance_after: Mapped[int | None] = mapped_column(sa.BigInteger)
    raw: Mapped[dict | None] = mapped_column(sa.JSON)  # the payload or row as received
    state: Mapped[str] = mapped_column(sa.String(20), default=LineState.UNMATCHED.value)
    state_reason: Mapped[str | None] = mapped_column(sa.Text)
    confidence: Mapped[int] = mapped_column(default=0)  # 0..100
    suggestion: Mapped[dict | None] = mapped_column(sa.JSON)  # {donor_id, pledge_id, programme_id, reasons}
    pledge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("transfer_pledges.id"))
    donation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donations.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[BankAccount] = relationship()
    pledge: Mapped[TransferPledge | None] = relationship()
    donation: Mapped[Donation | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship()

    @property
    def state_label(self):
        return LineState(self.state).label


class BankLayout(Base):
    """An admin-defined statement layout (column mapping) for a bank we have no parser for.

    `config` has the keys of the built-in layouts (app/adapters/statements/layouts.py);
    edited at /staff/bank/layouts (app/services/bank/layouts.py). A layout is never deleted
    (imports name it): a deactivated one is neither detected nor accepted by name."""

    __tablename__ = "bank_layouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    config: Mapped[dict] = mapped_column(sa.JSON)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]


__all__ = ["BankAccount", "BankLayout", "BankLine", "BankStatementImport", "LINE_STATE_LABELS",
           "LineState", "PledgeStatus", "TransferPledge"]

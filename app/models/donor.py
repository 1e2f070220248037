from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.i18n import _, _l
from app.models.base import Base, filled_index, utcnow
from app.text import fold


class DonorKind(str, enum.Enum):
    INDIVIDUAL = "individual"
    ORGANIZATION = "organization"

    @property
    def label(self) -> str:
        """The label in the language being used now (a plain str)."""
        return str(DONOR_KIND_LABELS[self])


DONOR_KIND_LABELS = {DonorKind.INDIVIDUAL: _l("Cá nhân"), DonorKind.ORGANIZATION: _l("Tập thể")}


class AdminUnit(Base):
    """A ward, commune or special zone. Editable data: the 2025 reform redrew them all."""

    __tablename__ = "admin_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(20))  # phường / xã / đặc khu
    is_active: Mapped[bool] = mapped_column(default=True)


class Donor(Base):
    __tablename__ = "donors"
    __table_args__ = (
        # MST is unique among live organizations (a merged-away record may keep its old MST).
        sa.Index(
            "uq_donors_org_tax_code",
            "tax_code",
            unique=True,
            sqlite_where=sa.text("kind = 'organization' AND tax_code IS NOT NULL AND merged_into_id IS NULL"),
            postgresql_where=sa.text("kind = 'organization' AND tax_code IS NOT NULL AND merged_into_id IS NULL"),
        ),
        # Donor matching compares lower(email) (online form, bank transfers): without this
        # index every webhook scanned the whole donors table.
        sa.Index("ix_donors_email_lower", sa.text("lower(email)")),
        # The public ledger's name search (LIKE '%name%' on the folded name) reads only the
        # donors who may be named: this small covering index instead of the wide table
        # (2 MB against 38 MB for 100,000 donors; 10 ms against 60–150 ms on PostgreSQL).
        sa.Index(
            "ix_donors_named_search",
            "search_text",
            "id",
            "public_listing_consent",  # in the index too, so that SQLite reads it alone
            "anonymous",
            sqlite_where=sa.text("public_listing_consent IS 1 AND anonymous IS 0"),
            postgresql_where=sa.text("public_listing_consent IS true AND anonymous IS false"),
        ),
        # Fields most donors leave empty: indexed only where filled (migration 0023).
        *(filled_index(f"ix_donors_{column}", column) for column in ("tax_code", "phone", "merged_into_id")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(255))
    tax_code: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    admin_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_units.id"))
    representative: Mapped[str | None] = mapped_column(sa.String(200))
    public_listing_consent: Mapped[bool] = mapped_column(default=False)
    anonymous: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donors.id"))
    # E-mail preferences (donor accounts). Receipts, sign-in links and answers to data
    # requests are always sent; these two are opt-outs for everything else.
    email_news: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    email_reminders: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # The donor's language for e-mails and the courtesy translation of receipts ("vi" or
    # "en"; None is Vietnamese): taken from the site's language when they give online.
    language: Mapped[str | None] = mapped_column(sa.String(5))
    # Erasure (PDP Law 91/2025): personal fields gone; name/MST kept until retain_until
    # when the donor has money records (Law on Accounting 2015, art. 41: 10 years).
    erased_at: Mapped[datetime | None]
    retain_until: Mapped[date | None]
    # Diacritic- and case-free copy of name, MST, phone and email, kept by the validators
    # below, so "nguyen van an" finds "Nguyễn Văn An" with a plain LIKE on both databases.
    search_text: Mapped[str] = mapped_column(sa.String(1200), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    admin_unit: Mapped[AdminUnit | None] = relationship()
    merged_into: Mapped[Donor | None] = relationship(remote_side=[id])

    @validates("name", "tax_code", "email", "phone")
    def _refresh_search_text(self, key, value):
        parts = {k: getattr(self, k, None) for k in ("name", "tax_code", "email", "phone")}
        parts[key] = value
        self.search_text = fold(" ".join(v for v in parts.values() if v))
        return value

    @property
    def kind_label(self) -> str:
        return DonorKind(self.kind).label

    @property
    def public_name(self) -> str:
        """How the donor may appear on public pages."""
        return _("Nhà hảo tâm") if self.anonymous else self.name

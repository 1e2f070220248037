"""Frozen reports: what was published, kept so that it can be shown again exactly.

A report is computed from the ledgers whenever it is asked for; freezing a closed period's
report stores its document (every printed text and figure, as JSON) and the PDF bytes,
numbered, with the PDF's SHA-256. Never updated or deleted: the ORM refuses it and the
migration adds database triggers refusing UPDATE; a later freeze is a new number.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.models.donation import Donation
from app.models.user import User

# The public ledger (sao kê, app/services/reports/public_ledger.py): newest first, every
# filter column in the index, so a page is read from the index alone in order and stops
# after the page's lines; the capped count reads the same index. (Migration 0017_reports_b.)
ix_donations_ledger = sa.Index(
    "ix_donations_ledger",
    Donation.received_at, Donation.id, Donation.status, Donation.amount, Donation.channel,
    Donation.donor_id, Donation.reverses_id,
)
# The reports' sums over a period (app/services/reports/figures.py: money in by channel,
# source and programme, in-kind gifts, designations): counted rows of a date range read from
# the index alone. Without it SQLite chose ix_donations_status_received_at and visited the
# table for each of a million rows (5–8 s a query in bench/reports.py). `donor_check` is in it
# so that the rows credited to their donor (`Donation.credited()`: the commendation list and
# the disclosure's named donors) are read from it too (migration 0020_reports_sqlite).
ix_donations_reports = sa.Index(
    "ix_donations_reports",
    Donation.status, Donation.received_at, Donation.programme_id, Donation.donor_id, Donation.channel,
    Donation.amount, Donation.reverses_id, Donation.case_id, Donation.donor_check,
)
# The in-kind gifts of a period in date order (figures.in_kind_gifts), from the in-kind rows
# only; the query names the channel as a literal so that SQLite can use the partial index.
IN_KIND_ONLY = "channel = 'in_kind'"
ix_donations_in_kind = sa.Index(
    "ix_donations_in_kind",
    Donation.received_at, Donation.id, Donation.status, Donation.reverses_id, Donation.amount,
    sqlite_where=sa.text(IN_KIND_ONLY), postgresql_where=sa.text(IN_KIND_ONLY),
)


class FrozenReport(Base):
    __tablename__ = "frozen_reports"
    __table_args__ = (
        sa.UniqueConstraint("report", "year", "sequence",
                            name="uq_frozen_reports_sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    report: Mapped[str] = mapped_column(sa.String(40))  # catalogue name: disclosure, appeal…
    year: Mapped[int] = mapped_column(index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    period_key: Mapped[str] = mapped_column(sa.String(20))
    appeal_slug: Mapped[str] = mapped_column(sa.String(120), default="")
    sequence: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(500))
    document_json: Mapped[str] = mapped_column(sa.Text)
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))
    frozen_at: Mapped[datetime] = mapped_column(default=utcnow)
    frozen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    frozen_by_label: Mapped[str] = mapped_column(sa.String(254))

    frozen_by: Mapped[User | None] = relationship()


@sa.event.listens_for(FrozenReport, "before_update")
@sa.event.listens_for(FrozenReport, "before_delete")
def _frozen_is_immutable(_mapper, _connection, target) -> None:
    raise RuntimeError("FrozenReport is frozen and cannot be changed or deleted")

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class FormSubmission(Base):
    """A one-time form token that has been used (app/services/submissions.py).

    Inserted in the same transaction as what the form creates, so a double click, a
    reload or a retry of the same rendered form finds the row and creates nothing more.
    """

    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(60))
    result_url: Mapped[str | None] = mapped_column(sa.String(500))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

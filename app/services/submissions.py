"""One-time form tokens: a form that creates money rows or receipts carries a random token;
the first POST with it records the token in the same transaction as what it creates, and
any later POST with the same token (a double click, a reload, a retry) creates nothing and
is sent to what the first one made.

Two POSTs at once: on PostgreSQL the second INSERT waits on the primary key until the
first transaction ends, then fails and finds the row; on SQLite writers are serialized
(BEGIN IMMEDIATE), so the second sees the row at once.
"""
from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import FormSubmission

TOKEN_BYTES = 18


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def valid_token(token: str | None) -> bool:
    return bool(token) and 16 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()


def claim(token: str, purpose: str, user_id: int | None) -> FormSubmission | None:
    """Record `token` in the current transaction (committed with what the form creates).
    Returns None for a fresh token, or the earlier submission's row."""
    earlier = db.session.get(FormSubmission, token)
    if earlier is not None:
        return earlier
    row = FormSubmission(token=token, purpose=purpose[:60], user_id=user_id)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return db.session.get(FormSubmission, token)
    return None


def finish(token: str, result_url: str) -> None:
    """Remember where the first submission led, for the repeats."""
    row = db.session.get(FormSubmission, token)
    if row is not None and row.result_url is None:
        row.result_url = result_url[:500]
        db.session.commit()

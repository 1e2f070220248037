"""Receipt numbering: one valid receipt per confirmed donation, numbered without gaps.

The sequence row for the year is incremented with UPDATE … RETURNING inside the caller's
transaction. On PostgreSQL the row lock makes concurrent issuers queue; on SQLite every
transaction starts with BEGIN IMMEDIATE (app/__init__.py), which serializes writers. A
rollback returns the number with everything else, so numbers are never lost or repeated.
"""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.errors import Conflict
from app.extensions import db
from app.models import COUNTED_STATUSES, Donation, Receipt, ReceiptSequence
from app.services import audit
from app.services.audit import Actor
from app.services.setup import get_settings
from app.timeutil import local_year, utcnow


def format_receipt_number(pattern: str, year: int, sequence: int) -> str:
    return pattern.format(year=year, seq=sequence)


def next_sequence(year: int) -> int:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ReceiptSequence).values(year=year, last_number=0).on_conflict_do_nothing()
    )
    return db.session.execute(
        sa.update(ReceiptSequence)
        .where(ReceiptSequence.year == year)
        .values(last_number=ReceiptSequence.last_number + 1)
        .returning(ReceiptSequence.last_number)
    ).scalar_one()


def valid_receipt_for(donation_id: int) -> Receipt | None:
    return db.session.scalars(
        sa.select(Receipt).where(Receipt.donation_id == donation_id, Receipt.voided_at.is_(None))
    ).first()


def allocate_receipt(
    donation: Donation,
    actor: Actor,
    *,
    issued_at: datetime | None = None,
    replaces: Receipt | None = None,
) -> Receipt:
    """Give a counted, non-reversal donation its receipt, in the caller's transaction.

    Idempotent: returns the donation's valid receipt if it already has one.
    """
    if donation.is_reversal or donation.status not in COUNTED_STATUSES:
        raise Conflict("Chỉ khoản ủng hộ đã xác nhận mới được cấp giấy chứng nhận.")
    existing = valid_receipt_for(donation.id)
    if existing is not None:
        return existing
    issued_at = issued_at or utcnow()
    year = local_year(issued_at)
    sequence = next_sequence(year)
    receipt = Receipt(
        number=format_receipt_number(get_settings().receipt_number_format, year, sequence),
        year=year,
        sequence=sequence,
        donation=donation,
        issued_at=issued_at,
        verification_token=secrets.token_urlsafe(24),
        replaces=replaces,
        issued_by_id=actor.user_id,
    )
    db.session.add(receipt)
    audit.record(actor, "receipt.issue", receipt,
                 after={"number": receipt.number, "donation_id": donation.id,
                        "replaces": replaces.number if replaces else None})
    return receipt


def void_receipt_in_tx(receipt: Receipt, actor: Actor, reason: str) -> None:
    if receipt.voided_at is not None:
        return
    receipt.voided_at = utcnow()
    receipt.void_reason = reason
    # Flush now: the partial unique index allows a replacement only once this one is void.
    db.session.flush()
    audit.record(actor, "receipt.void", receipt, after={"number": receipt.number, "reason": reason})


def next_sequence_block(year: int, count: int) -> int:
    """Reserve `count` consecutive receipt numbers for `year` with one UPDATE of the counter
    row (inside the caller's transaction, like next_sequence); returns the last one."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ReceiptSequence).values(year=year, last_number=0).on_conflict_do_nothing()
    )
    return db.session.execute(
        sa.update(ReceiptSequence)
        .where(ReceiptSequence.year == year)
        .values(last_number=ReceiptSequence.last_number + count)
        .returning(ReceiptSequence.last_number)
    ).scalar_one()

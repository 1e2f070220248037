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

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _
from app.models import COUNTED_STATUSES, Donation, DonationStatus, Receipt, ReceiptSequence
from app.services import audit, sequences
from app.services.receipts import mail as receipt_mail
from app.services.audit import Actor
from app.services.donations.queries import lock_donation
from app.services.setup import get_settings, missing_settings, require_settings
from app.timeutil import local_year, utcnow


def format_receipt_number(pattern: str, year: int, sequence: int) -> str:
    """`pattern` was checked when it was saved (setup.check_number_format)."""
    return pattern.format(year=year, seq=sequence)


def next_sequence(year: int) -> int:
    return next_sequence_block(year, 1)


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
    notify: bool = True,
) -> Receipt:
    """Give a counted, non-reversal donation its receipt, in the caller's transaction.

    Idempotent: returns the donation's valid receipt if it already has one. Unless
    `notify=False` (demo data, imports of old gifts), the receipt's e-mail to the donor is
    queued in the same transaction and sent after the commit (app/services/receipts/mail.py).
    """
    if donation.is_reversal or donation.status not in COUNTED_STATUSES:
        raise Conflict(_("Chỉ khoản ủng hộ đã xác nhận mới được cấp giấy chứng nhận."))
    # A donation not yet flushed (recorded in this very transaction) has nothing in the
    # database: its receipt can only be among the session's new objects.
    fresh = sa.inspect(donation).pending
    existing = _new_receipt_for(donation) if fresh else valid_receipt_for(donation.id)
    if existing is not None:
        return existing
    require_settings(_("cấp giấy chứng nhận"))
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
    if notify:  # a fresh donation has no reversals yet: its amount is what the mail states
        receipt_mail.queue_receipt_mail(receipt, created_by=actor.label, amount=donation.amount if fresh else None)
    return receipt


def _new_receipt_for(donation: Donation) -> Receipt | None:
    return next((obj for obj in db.session.new if isinstance(obj, Receipt) and obj.donation is donation
                 and obj.voided_at is None), None)


def issue_or_defer(donation: Donation, actor: Actor, *, issued_at: datetime | None = None) -> Receipt | None:
    """Issue a just-confirmed donation's receipt, or, while the settings a receipt prints
    are incomplete, mark it deferred (the money is confirmed regardless: a webhook must
    never fail over a missing signatory). Deferred receipts are issued by
    `issue_deferred_receipts` once an admin completes the settings."""
    if missing_settings():
        donation.receipt_deferred = True
        audit.record(actor, "receipt.deferred", donation, after={"reason": "fund settings incomplete"})
        return None
    return allocate_receipt(donation, actor, issued_at=issued_at)


def issue_deferred_receipts(actor: Actor) -> int:
    """Issue every deferred receipt (in confirmation order), one commit; returns how many."""
    if missing_settings():
        return 0
    issued = 0
    ids = db.session.scalars(sa.select(Donation.id).where(Donation.receipt_deferred)
                             .order_by(Donation.confirmed_at, Donation.id)).all()
    for donation_id in ids:
        donation = lock_donation(donation_id)
        donation.receipt_deferred = False
        if donation.status in COUNTED_STATUSES and not donation.is_reversal \
                and donation.status != DonationStatus.REVERSED.value:
            allocate_receipt(donation, actor)
            issued += 1
    db.session.commit()
    return issued


def void_receipt_in_tx(receipt: Receipt, actor: Actor, reason: str) -> None:
    if receipt.voided_at is not None:
        return
    receipt.voided_at = utcnow()
    receipt.void_reason = reason
    # Flush now: the partial unique index allows a replacement only once this one is void.
    db.session.flush()
    audit.record(actor, "receipt.void", receipt, after={"number": receipt.number, "reason": reason})


def next_sequence_block(year: int, count: int) -> int:
    """Reserve `count` consecutive receipt numbers for `year` (in the caller's transaction,
    like next_sequence); returns the last one."""
    return sequences.advance(ReceiptSequence, year, count)


# --------------------------------------------------------------------------- staff actions

def _load(receipt_id: int) -> Receipt:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(_("Không tìm thấy giấy chứng nhận."))
    return receipt


def void_receipt(receipt_id: int, actor: Actor, reason: str) -> Receipt:
    """Void a receipt (it keeps its number and shows "ĐÃ HỦY"), audited, committed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Vui lòng nhập lý do hủy giấy chứng nhận."), field="reason")
    if len(reason) > 500:
        raise ValidationFailed(_("Lý do tối đa 500 ký tự."), field="reason")
    receipt = _load(receipt_id)
    lock_donation(receipt.donation_id)
    db.session.refresh(receipt)
    if receipt.voided_at is not None:
        raise Conflict(_("Giấy chứng nhận %(number)s đã bị hủy trước đó.", number=receipt.number))
    void_receipt_in_tx(receipt, actor, reason)
    db.session.commit()
    return receipt


def reissue_receipt(receipt_id: int, actor: Actor, reason: str | None = None) -> Receipt:
    """Issue a new receipt, with a new number, that replaces `receipt_id`.

    A still-valid receipt is voided first (reason: `reason` or "Cấp lại"). The donation
    must still count and must not already have another valid receipt. Audited, committed;
    the new receipt's e-mail is queued like any issue.
    """
    receipt = _load(receipt_id)
    donation = lock_donation(receipt.donation_id)
    db.session.refresh(receipt)
    if receipt.replaced_by is not None:
        raise Conflict(_("Giấy chứng nhận %(number)s đã được cấp lại bằng số %(new)s.",
                         number=receipt.number, new=receipt.replaced_by.number))
    current = valid_receipt_for(donation.id)
    if current is not None and current.id != receipt.id:
        raise Conflict(_("Khoản ủng hộ này đang có giấy chứng nhận hợp lệ số %(number)s.", number=current.number))
    if donation.is_reversal or donation.status not in COUNTED_STATUSES or \
            donation.status == DonationStatus.REVERSED.value:
        raise Conflict(_("Khoản ủng hộ đã bị đảo toàn bộ hoặc chưa được xác nhận; không thể cấp lại."))
    if receipt.voided_at is None:
        void_receipt_in_tx(receipt, actor, (reason or "").strip() or "Cấp lại giấy chứng nhận")
    replacement = allocate_receipt(donation, actor, replaces=receipt)
    db.session.commit()
    return replacement


def resend_receipt(receipt_id: int, actor: Actor, to: str | None = None):
    """Queue the receipt's e-mail again (to the donor's address unless `to` is given)."""
    receipt = _load(receipt_id)
    if receipt.voided_at is not None:
        raise Conflict(_("Không gửi lại giấy chứng nhận đã hủy."))
    message = receipt_mail.queue_receipt_mail(receipt, to=to, created_by=actor.label)
    if message is None:
        raise ValidationFailed(_("Nhà hảo tâm chưa có địa chỉ email."), field="to")
    audit.record(actor, "receipt.resend", receipt,
                 after={"number": receipt.number, "to": message.to_address})
    db.session.commit()
    return message


# --------------------------------------------------------------------------- lookups

def receipt_by_token(token: str) -> Receipt | None:
    """The receipt a verification token belongs to (tokens are 32 random URL-safe chars)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalars(sa.select(Receipt).where(Receipt.verification_token == token)).first()


_DOWNLOAD_SALT = "receipt-download"


def download_token(receipt: Receipt) -> str:
    """A signed, unguessable token for the donor's PDF download link.

    Separate from the verification token printed in the QR code: anyone holding a paper
    receipt may verify it, but only the donor (return page, e-mail) gets the PDF, which
    carries their address and MST.
    """
    from flask import current_app
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.secret_key, salt=_DOWNLOAD_SALT).dumps(
        [receipt.id, receipt.verification_token[:8]])


def current_replacement(receipt: Receipt) -> Receipt | None:
    """The valid receipt that (through any chain of re-issues) replaces a void one."""
    seen = set()
    while receipt.replaced_by is not None and receipt.id not in seen:
        seen.add(receipt.id)
        receipt = receipt.replaced_by
        if not receipt.is_void:
            return receipt
    return None


def receipt_by_download_token(token: str) -> Receipt | None:
    from flask import current_app
    from itsdangerous import BadSignature, URLSafeSerializer

    try:
        receipt_id, check = URLSafeSerializer(current_app.secret_key, salt=_DOWNLOAD_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    receipt = db.session.get(Receipt, receipt_id) if isinstance(receipt_id, int) else None
    if receipt is None or receipt.verification_token[:8] != check:
        return None
    return receipt


def search_receipts(q: str | None = None, year: int | None = None, state: str | None = None):
    """A select of receipts for the staff list, newest first: `q` matches the number or the
    donor (name, MST, phone, email; accents optional), `state` is "valid" or "void"."""
    from app.models import Donor
    from app.text import fold

    query = (sa.select(Receipt).join(Receipt.donation).join(Donation.donor)
             .order_by(Receipt.issued_at.desc(), Receipt.id.desc()))
    if q and q.strip():
        term = q.strip()
        query = query.where(sa.or_(Receipt.number.icontains(term, autoescape=True),
                                   Donor.search_text.contains(fold(term), autoescape=True)))
    if year:
        query = query.where(Receipt.year == year)
    if state == "valid":
        query = query.where(Receipt.voided_at.is_(None))
    elif state == "void":
        query = query.where(Receipt.voided_at.is_not(None))
    return query

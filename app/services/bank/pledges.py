"""Transfer pledges: what the donation form creates when a donor chooses "Chuyển khoản".

A pledge holds the amount, a transfer code and the donor's details as typed. The donor
record and the donation are made only when money with the code arrives
(app/services/bank/matching.py). An unpaid pledge expires after BANK_PLEDGE_EXPIRY_DAYS;
if its money arrives later anyway it is revived and matched like any other.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.adapters import vietqr
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.models import BankAccount, PledgeStatus, TransferPledge
from app.services import audit
from app.services.audit import Actor
from app.services.bank import accounts, codes
from app.services.donations.online import DonationRequest, _designation
from app.text import fold
from app.timeutil import utcnow
from app.vnd import format_vnd


class TransferUnavailable(DomainError):
    status_code = 503


def create_pledge(req: DonationRequest, actor: Actor, *, minimum: int, expiry_days: int) -> TransferPledge:
    """Record a pledge for `req` on the account donors are shown. One transaction."""
    if (req.currency or "VND").upper() != "VND":
        raise ValidationFailed("Quỹ chỉ nhận chuyển khoản bằng đồng Việt Nam (VND).", field="currency")
    if not isinstance(req.amount, int) or isinstance(req.amount, bool) or req.amount < minimum:
        raise ValidationFailed(f"Số tiền tối thiểu là {format_vnd(minimum)}.", field="amount")
    if req.amount >= 10 ** 13:
        raise ValidationFailed("Số tiền quá lớn.", field="amount")
    programme_id, appeal_id = _designation(req)
    account = accounts.donation_account(appeal_id)
    if account is None:
        raise TransferUnavailable("Quỹ chưa công bố tài khoản nhận chuyển khoản. Vui lòng liên hệ Quỹ.")
    now = utcnow()
    for _attempt in range(5):  # 30^6 codes: a clash is rare, and the unique index decides
        pledge = TransferPledge(
            code=codes.new_code(), token=secrets.token_urlsafe(24), account_id=account.id,
            amount=req.amount, status=PledgeStatus.PENDING.value, donor_kind=req.kind,
            donor_name=req.name.strip(), donor_email=(req.email or "").strip().lower() or None,
            donor_phone=req.phone, donor_tax_code=req.tax_code, donor_representative=req.representative,
            donor_address=req.address, anonymous=req.anonymous, public_listing=req.public_listing,
            message=(req.message or "").strip()[:500] or None, programme_id=programme_id,
            appeal_id=appeal_id, created_at=now, expires_at=now + timedelta(days=expiry_days))
        db.session.add(pledge)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            continue
        audit.record(actor, "pledge.create", pledge,
                     after={"code": pledge.code, "amount": pledge.amount, "account": account.account_number})
        db.session.commit()
        return pledge
    raise TransferUnavailable("Không tạo được mã chuyển khoản, vui lòng thử lại.")


def pledge_by_token(token: str | None) -> TransferPledge | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(TransferPledge).where(TransferPledge.token == token))


def qr_payload(pledge: TransferPledge) -> str:
    """The VietQR payload: the pledge's account, amount and its code as the memo."""
    return vietqr.encode(vietqr.VietQR(bank_bin=pledge.account.bank_bin, account=pledge.account.account_number,
                                       amount=pledge.amount, memo=pledge.code))


def expire_pledges(now: datetime | None = None, actor: Actor = Actor.system("bank")) -> int:
    """Mark pending pledges past their expiry as expired (one UPDATE); returns how many."""
    now = now or utcnow()
    result = db.session.execute(sa.update(TransferPledge).where(
        TransferPledge.status == PledgeStatus.PENDING.value, TransferPledge.expires_at < now)
        .values(status=PledgeStatus.EXPIRED.value))
    if result.rowcount:
        audit.record(actor, "pledge.expire", entity_type="transfer_pledges", after={"count": result.rowcount})
    db.session.commit()
    return result.rowcount


def donation_request(pledge: TransferPledge) -> DonationRequest:
    """The pledge's donor details in the shape the donor matcher takes."""
    return DonationRequest(kind=pledge.donor_kind, name=pledge.donor_name, email=pledge.donor_email or "",
                           amount=pledge.amount, phone=pledge.donor_phone, tax_code=pledge.donor_tax_code,
                           representative=pledge.donor_representative, address=pledge.donor_address,
                           anonymous=pledge.anonymous, public_listing=pledge.public_listing,
                           message=pledge.message)


def folded_name(pledge: TransferPledge) -> str:
    return fold(pledge.donor_name)


__all__ = ["BankAccount", "TransferUnavailable", "create_pledge", "donation_request", "expire_pledges",
           "pledge_by_token", "qr_payload"]

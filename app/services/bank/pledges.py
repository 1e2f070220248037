"""Transfer pledges: what the donation form creates when a donor chooses "Chuyển khoản".

A pledge holds the amount, a transfer code and the donor's details as typed. The donor
record and the donation are made only when money with the code arrives
(app/services/bank/matching.py). An unpaid pledge expires after BANK_PLEDGE_EXPIRY_DAYS;
if its money arrives later anyway it is revived and matched like any other.

A donor may give by transfer anonymously, with neither name nor e-mail: the pledge then
keeps no identity (name ANONYMOUS_DONOR_NAME, no e-mail, anonymous, not listed). When its
money arrives the gift gets a donor record of its own (a pledge without e-mail is never
matched to an existing donor), its receipt is issued in that name, and — there being no
address to mail it to — the receipt is shown and downloadable on the transfer page.
"""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.i18n import _, money
from app.i18n import valid as valid_language
from app.models import BankAccount, DonorKind, PledgeStatus, RecurringGift, TransferPledge
from app.services import audit
from app.services.audit import Actor
from app.services.bank import accounts, codes
from app.services.donations.online import ANONYMOUS_DONOR_NAME, DonationRequest, _designation
from app.text import fold
from app.timeutil import utcnow


class TransferUnavailable(DomainError):
    status_code = 503


def create_pledge(req: DonationRequest, actor: Actor, *, minimum: int, expiry_days: int,
                  recurring_gift: RecurringGift | None = None, commit: bool = True) -> TransferPledge:
    """Record a pledge for `req` on the account donors are shown. One transaction, unless
    `commit` is False. With `recurring_gift` it is that monthly gift's standing pledge
    (status "standing"): one code for every month (app/services/bank/standing.py)."""
    if (req.currency or "VND").upper() != "VND":
        raise ValidationFailed(_("Quỹ chỉ nhận chuyển khoản bằng đồng Việt Nam (VND)."), field="currency")
    if not isinstance(req.amount, int) or isinstance(req.amount, bool) or req.amount < minimum:
        raise ValidationFailed(_("Số tiền tối thiểu là %(amount)s.", amount=money(minimum)), field="amount")
    if req.amount >= 10 ** 13:
        raise ValidationFailed(_("Số tiền quá lớn."), field="amount")
    nameless = not req.name.strip() and not (req.email or "").strip()
    if nameless:  # given anonymously: no donor identity at all (see module docstring)
        req = replace(req, kind=DonorKind.INDIVIDUAL.value, name=ANONYMOUS_DONOR_NAME, email="", phone=None,
                      tax_code=None, representative=None, address=None, anonymous=True, public_listing=False)
    elif not req.name.strip() or not (req.email or "").strip():
        raise ValidationFailed(_("Vui lòng nhập cả họ tên và email, hoặc để trống cả hai để chuyển khoản ẩn danh."),
                               field="name")
    if recurring_gift is not None:
        programme_id, appeal_id = recurring_gift.programme_id, recurring_gift.appeal_id
    else:
        programme_id, appeal_id = _designation(req)
    account = accounts.donation_account(appeal_id)
    if account is None:
        raise TransferUnavailable(_("Quỹ chưa công bố tài khoản nhận chuyển khoản. Vui lòng liên hệ Quỹ."))
    now = utcnow()
    status = PledgeStatus.STANDING.value if recurring_gift is not None else PledgeStatus.PENDING.value
    for _attempt in range(5):  # 30^6 codes: a clash is rare, and the unique index decides
        pledge = TransferPledge(
            code=codes.new_code(), token=secrets.token_urlsafe(24), account_id=account.id,
            amount=req.amount, status=status, donor_kind=req.kind,
            donor_name=req.name.strip(), donor_email=(req.email or "").strip().lower() or None,
            donor_phone=req.phone, donor_tax_code=req.tax_code, donor_representative=req.representative,
            donor_address=req.address, anonymous=req.anonymous, public_listing=req.public_listing,
            message=(req.message or "").strip()[:500] or None, programme_id=programme_id,
            language=valid_language(req.language),
            appeal_id=appeal_id, created_at=now, expires_at=now + timedelta(days=expiry_days),
            recurring_gift_id=recurring_gift.id if recurring_gift is not None else None)
        try:
            with db.session.begin_nested():  # a clash undoes this row only, not the caller's
                db.session.add(pledge)
                db.session.flush()
        except IntegrityError:
            continue
        audit.record(actor, "pledge.create", pledge,
                     after={"code": pledge.code, "amount": pledge.amount, "account": account.account_number,
                            "recurring_gift_id": pledge.recurring_gift_id, "language": pledge.language})
        if commit:
            db.session.commit()
        return pledge
    raise TransferUnavailable(_("Không tạo được mã chuyển khoản, vui lòng thử lại."))


def pledge_by_token(token: str | None) -> TransferPledge | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(TransferPledge).where(TransferPledge.token == token))


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
    """The pledge's donor details in the shape the donor matcher takes, with the language the
    donor pledged in (so the donor record made when the money arrives gets it)."""
    return DonationRequest(kind=pledge.donor_kind, name=pledge.donor_name, email=pledge.donor_email or "",
                           amount=pledge.amount, phone=pledge.donor_phone, tax_code=pledge.donor_tax_code,
                           representative=pledge.donor_representative, address=pledge.donor_address,
                           anonymous=pledge.anonymous, public_listing=pledge.public_listing,
                           message=pledge.message, language=pledge.language)


def folded_name(pledge: TransferPledge) -> str:
    return fold(pledge.donor_name)


__all__ = ["BankAccount", "TransferUnavailable", "create_pledge", "donation_request", "expire_pledges",
           "pledge_by_token"]

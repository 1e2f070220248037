"""Confirming and reversing donations: the rules every channel shares.

Online payments (webhooks, Stripe sync), offline entries and imports all end here, so a
donation is confirmed exactly once and every correction is a new, linked row.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import COUNTED_STATUSES, Donation, DonationStatus
from app.services import audit
from app.services.receipts import issuing as receipts
from app.services.setup import missing_settings
from app.services.audit import Actor
from app.services.donations.designation import programme_for_appeal
from app.services.donations.queries import lock_donation, reversed_total
from app.timeutil import utcnow
from app.i18n import _, money




def confirm_in_tx(donation: Donation, actor: Actor, *, issue_receipt: bool = True,
                  confirmed_at: datetime | None = None) -> bool:
    """Confirm a locked pending donation. Returns False when it was already confirmed."""
    if donation.status == DonationStatus.CONFIRMED.value:
        return False
    if donation.status != DonationStatus.PENDING.value:
        raise Conflict(_("Khoản ủng hộ này không còn ở trạng thái chờ xác nhận."))
    donation.status = DonationStatus.CONFIRMED.value
    donation.confirmed_at = confirmed_at or utcnow()
    audit.record(actor, "donation.confirm", donation,
                 before={"status": DonationStatus.PENDING.value},
                 after={"status": donation.status, "amount": donation.amount})
    if issue_receipt:
        receipts.issue_or_defer(donation, actor, issued_at=confirmed_at)
    return True


def confirm_donation(donation_id: int, actor: Actor, *, issue_receipt: bool = True) -> Donation:
    """Confirm a pending donation and issue its receipt, exactly once, in one transaction."""
    donation = lock_donation(donation_id)
    confirm_in_tx(donation, actor, issue_receipt=issue_receipt)
    db.session.commit()
    return donation




def reverse_in_tx(original: Donation, actor: Actor, *, reason: str, amount: int | None = None,
                  reference: str | None = None, received_at: datetime | None = None) -> Donation:
    """Record a reversal (correction, refund, void) of a locked original, in the caller's
    transaction.

    The reversal is a new confirmed row with `reverses_id` set; a full reversal marks the
    original `reversed`. The original's receipt is voided; when money remains after a
    partial reversal a replacement receipt is issued that points back at the void one.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Vui lòng nhập lý do đảo bút toán."), field="reason")
    if original.is_reversal:
        raise Conflict(_("Không thể đảo một bút toán đảo."))
    if original.status not in COUNTED_STATUSES:
        raise Conflict(_("Chỉ đảo được khoản ủng hộ đã xác nhận."))
    remaining = original.amount - reversed_total(original.id)
    amount = remaining if amount is None else amount
    if remaining <= 0:
        raise Conflict(_("Khoản ủng hộ này đã được đảo toàn bộ."))
    if amount <= 0 or amount > remaining:
        raise ValidationFailed(_("Số tiền đảo phải lớn hơn 0 và không vượt quá số còn lại (%(remaining)s).",
                                 remaining=money(remaining)), field="amount")
    reversal = Donation(
        donor_id=original.donor_id,
        appeal_id=original.appeal_id,
        programme_id=original.programme_id,
        case_id=original.case_id,
        amount=amount,
        currency=original.currency,
        channel=original.channel,
        status=DonationStatus.CONFIRMED.value,
        received_at=received_at or utcnow(),
        confirmed_at=utcnow(),
        reference=reference,
        reverses=original,
        reason=reason,
        recorded_by_id=actor.user_id,
        donor_check=original.donor_check,  # credited to the donor only with its original
    )
    db.session.add(reversal)
    if amount == remaining:
        original.status = DonationStatus.REVERSED.value
    audit.record(actor, "donation.reverse", original,
                 after={"reversal_amount": amount, "reason": reason, "fully": amount == remaining})
    current = receipts.valid_receipt_for(original.id)
    if current is not None:
        prefix = "Đảo bút toán: "
        receipts.void_receipt_in_tx(current, actor, reason if reason.startswith(prefix) else prefix + reason)
        if amount < remaining and missing_settings():
            original.receipt_deferred = True  # the replacement waits for complete settings
        elif amount < remaining:
            receipts.allocate_receipt(original, actor, replaces=current)
    return reversal


def reverse_donation(donation_id: int, actor: Actor, *, reason: str, amount: int | None = None,
                     reference: str | None = None) -> Donation:
    original = lock_donation(donation_id)
    reversal = reverse_in_tx(original, actor, reason=reason, amount=amount, reference=reference)
    db.session.commit()
    return reversal


def record_donation(
    actor: Actor,
    *,
    donor_id: int,
    amount: int,
    channel: str,
    received_at: datetime,
    programme_id: int | None = None,
    appeal_id: int | None = None,
    reference: str | None = None,
    note: str | None = None,
    in_kind_description: str | None = None,
    public_message: str | None = None,
    confirm: bool = True,
    issue_receipt: bool = True,
    case_id: int | None = None,
) -> Donation:
    """Record a gift received outside the online checkout (cash, transfer, in kind, import).

    Validates, writes the row and, unless `confirm=False`, confirms it and issues its receipt
    in the same transaction. `received_at` must be aware (convert local times first).
    `case_id` designates the gift to one child's case: it then belongs to the case's programme.
    """
    from app.models import Appeal, Channel, Donor, Programme
    from app.services.setup import general_programme

    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(_("Số tiền phải là số nguyên đồng lớn hơn 0."), field="amount")
    try:
        channel = Channel(channel).value
    except ValueError:
        raise ValidationFailed(_("Hình thức ủng hộ không hợp lệ."), field="channel") from None
    if channel == Channel.IN_KIND.value and not (in_kind_description or "").strip():
        raise ValidationFailed(_("Vui lòng mô tả hiện vật ủng hộ."), field="in_kind_description")
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    if received_at > utcnow():
        raise ValidationFailed(_("Thời điểm nhận không được ở tương lai."), field="received_at")
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    if donor.merged_into_id is not None:
        raise Conflict(_("Nhà hảo tâm này đã được gộp vào một hồ sơ khác."), field="donor_id")
    if case_id is not None:
        from app.models import CaseState, SupportCase

        case = db.session.get(SupportCase, case_id)
        if case is None:
            raise NotFound(_("Không tìm thấy hồ sơ hỗ trợ."))
        if case.state in (CaseState.CLOSED.value, CaseState.REJECTED.value):
            raise Conflict(_("Hồ sơ %(code)s đã đóng hoặc bị từ chối: không nhận khoản ủng hộ chỉ định.",
                             code=case.code),
                           field="case_id")
        if programme_id is not None and programme_id != case.programme_id:
            raise ValidationFailed(_("Khoản ủng hộ chỉ định cho hồ sơ thuộc chương trình của hồ sơ."),
                                   field="programme_id")
        programme_id = case.programme_id
    if programme_id is not None and db.session.get(Programme, programme_id) is None:
        raise NotFound(_("Không tìm thấy chương trình."))
    appeal = db.session.get(Appeal, appeal_id) if appeal_id is not None else None
    if appeal_id is not None and appeal is None:
        raise NotFound(_("Không tìm thấy chiến dịch."))
    appeal_programme = appeal.programme_id if appeal is not None else None
    programme_id = programme_for_appeal(
        appeal_programme, programme_id, general_programme().id, appeal_title=appeal.title if appeal else "",
        programme_name=db.session.get(Programme, appeal_programme).name if appeal_programme else "")
    reference = (reference or "").strip() or None
    if reference and db.session.scalar(sa.select(Donation.id).where(Donation.reference == reference)):
        raise Conflict(_("Mã tham chiếu %(reference)s đã được ghi nhận.", reference=reference), field="reference")
    donation = Donation(
        donor_id=donor.id, amount=amount, channel=channel, received_at=received_at,
        programme_id=programme_id, appeal_id=appeal_id, reference=reference, case_id=case_id,
        note=(note or "").strip() or None, in_kind_description=(in_kind_description or "").strip() or None,
        public_message=public_message, status=DonationStatus.PENDING.value,
        recorded_by_id=actor.user_id)
    db.session.add(donation)
    audit.record(actor, "donation.record", donation,
                 after={"amount": amount, "channel": channel, "donor_id": donor.id, "reference": reference,
                        "case_id": case_id})
    if confirm:
        confirm_in_tx(donation, actor, issue_receipt=issue_receipt)
    db.session.commit()
    return donation

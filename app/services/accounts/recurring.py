"""Monthly giving by card: start (Stripe Checkout, subscription mode), cancel by the donor,
pause/resume/stop by staff on the donor's request, and the staff overview.

A RecurringGift is the promise; money arrives only as invoices Stripe reports paid
(recurring_events.py) or, for a "bank" standing pledge, as transfers with its code
(app/services/bank/standing.py). Both are cancelled, paused, resumed and stopped here
(a bank pledge has no provider to tell) and listed on the same staff page.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.adapters.stripe_gateway import GatewayError, SubscriptionRequest
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, _l
from app.models import RecurringGift, RecurringMethod, RecurringStatus
from app.services import audit
from app.services.accounts import profile
from app.services.accounts.signin import live_donors
from app.services.audit import Actor
from app.services.donations.online import check_amount, get_fund_name, resolve_designation
from app.timeutil import utcnow

S = RecurringStatus
RUNNING = (S.ACTIVE.value, S.PAST_DUE.value)


class MonthlyUnavailable(DomainError):
    status_code = 503


UNAVAILABLE = _l("Cổng thanh toán tạm thời gián đoạn, chưa có thay đổi nào. Vui lòng thử lại sau "
                 "ít phút.")


def start_monthly(email: str, amount: int, designation: str, gateway, *, success_url: str,
                  cancel_url: str, minimum: int, maximum: int, ip: str | None = None) -> tuple[RecurringGift, str]:
    """Record a pending monthly gift for the account's donor and open its Checkout."""
    if gateway is None or not getattr(gateway, "subscriptions", False):
        raise MonthlyUnavailable(_("Ủng hộ hằng tháng bằng thẻ chưa được bật trên hệ thống này."))
    donors = live_donors(email)
    if not donors:
        raise NotFound(str(profile.NOT_YOURS))
    donor = donors[0]
    check_amount(amount, "VND", minimum=minimum, maximum=maximum)
    programme_id, appeal_id = resolve_designation(designation)
    actor = profile.donor_actor(email, ip)
    gift = RecurringGift(donor_id=donor.id, method=RecurringMethod.CARD.value, amount=amount,
                         programme_id=programme_id, appeal_id=appeal_id, status=S.PENDING.value)
    db.session.add(gift)
    audit.record(actor, "recurring.create", gift, after={"amount": amount, "designation": designation})
    db.session.commit()
    try:
        session = gateway.create_subscription_session(SubscriptionRequest(
            recurring_gift_id=gift.id, amount=amount,
            description=_("Ủng hộ hằng tháng — %(fund)s", fund=get_fund_name() or _("Quỹ Bảo trợ trẻ em")),
            customer_email=email, success_url=success_url, cancel_url=cancel_url))
    except GatewayError as error:
        gift = db.session.get(RecurringGift, gift.id)
        gift.status = S.ABANDONED.value
        audit.record(actor, "recurring.checkout_failed", gift, after={"error": str(error)[:500]})
        db.session.commit()
        raise MonthlyUnavailable(str(UNAVAILABLE)) from None
    gift = db.session.get(RecurringGift, gift.id)
    gift.stripe_checkout_session_id = session.id
    db.session.commit()
    return gift, session.url


def _own_gift(email: str, gift_id: int) -> RecurringGift:
    gift = db.session.scalar(sa.select(RecurringGift).where(RecurringGift.id == gift_id).with_for_update())
    if gift is None or gift.donor_id not in profile.donor_ids(email):
        raise NotFound(str(profile.NOT_YOURS))
    return gift


def _end(gift: RecurringGift, gateway, actor: Actor, reason: str) -> None:
    if gift.status in (S.CANCELLED.value, S.LAPSED.value, S.ABANDONED.value):
        raise Conflict(_("Khoản ủng hộ hằng tháng này đã dừng."))
    if gift.stripe_subscription_id:
        if gateway is None or not getattr(gateway, "subscriptions", False):
            raise MonthlyUnavailable(str(UNAVAILABLE))
        try:
            gateway.cancel_subscription(gift.stripe_subscription_id)
        except GatewayError:
            raise MonthlyUnavailable(str(UNAVAILABLE)) from None
    before = {"status": gift.status}
    gift.status = S.CANCELLED.value if gift.stripe_subscription_id or gift.is_bank else S.ABANDONED.value
    gift.ended_at = utcnow()
    gift.end_reason = reason
    audit.record(actor, "recurring.cancel", gift, before=before, after={"status": gift.status, "reason": reason})
    db.session.commit()


def cancel_by_donor(email: str, gift_id: int, gateway, *, ip: str | None = None) -> RecurringGift:
    gift = _own_gift(email, gift_id)
    _end(gift, gateway, profile.donor_actor(email, ip), "Nhà hảo tâm tự hủy trong tài khoản.")
    return gift


# ------------------------------------------------------------------------- staff

def _staff_gift(gift_id: int) -> RecurringGift:
    gift = db.session.scalar(sa.select(RecurringGift).where(RecurringGift.id == gift_id).with_for_update())
    if gift is None:
        raise NotFound(_("Không tìm thấy khoản ủng hộ hằng tháng."))
    return gift


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Vui lòng ghi yêu cầu của nhà hảo tâm (ngày, qua kênh nào)."), field="reason")
    return reason[:500]


def stop_by_staff(gift_id: int, gateway, actor: Actor, reason: str | None) -> RecurringGift:
    gift = _staff_gift(gift_id)
    _end(gift, gateway, actor, "Dừng theo yêu cầu của nhà hảo tâm: " + _reason(reason))
    return gift


def pause_by_staff(gift_id: int, gateway, actor: Actor, reason: str | None) -> RecurringGift:
    gift = _staff_gift(gift_id)
    reason = _reason(reason)
    if gift.status not in RUNNING:
        raise Conflict(_("Chỉ tạm dừng được khoản đang ủng hộ."))
    if not gift.is_bank:  # a standing pledge by transfer has nobody to tell
        try:
            gateway.pause_subscription(gift.stripe_subscription_id)
        except (GatewayError, AttributeError):
            raise MonthlyUnavailable(str(UNAVAILABLE)) from None
    before = {"status": gift.status}
    gift.status = S.PAUSED.value
    gift.paused_at = utcnow()
    audit.record(actor, "recurring.pause", gift, before=before, after={"status": gift.status, "reason": reason})
    db.session.commit()
    return gift


def resume_by_staff(gift_id: int, gateway, actor: Actor, reason: str | None) -> RecurringGift:
    gift = _staff_gift(gift_id)
    reason = _reason(reason)
    if gift.status != S.PAUSED.value:
        raise Conflict(_("Khoản này không ở trạng thái tạm dừng."))
    if gift.is_bank:
        from app.services.bank.standing import first_of_month

        gift.due_from = first_of_month(utcnow())  # the paused months were not due
    else:
        try:
            gateway.resume_subscription(gift.stripe_subscription_id)
        except (GatewayError, AttributeError):
            raise MonthlyUnavailable(str(UNAVAILABLE)) from None
    gift.status = S.ACTIVE.value
    gift.paused_at = None
    audit.record(actor, "recurring.resume", gift, before={"status": "paused"},
                 after={"status": gift.status, "reason": reason})
    db.session.commit()
    return gift


@dataclass(frozen=True)
class RecurringOverview:
    monthly_committed: int  # đồng per month from active and past-due gifts
    committed_by_method: dict[str, int]  # the same, per method ("card", "bank")
    counts: dict[str, int]
    gifts: list[RecurringGift]


def overview(status: str | None = None, method: str | None = None) -> RecurringOverview:
    by_method = {m: int(total) for m, total in db.session.execute(
        sa.select(RecurringGift.method, sa.cast(sa.func.coalesce(sa.func.sum(RecurringGift.amount), 0), sa.BigInteger))
        .where(RecurringGift.status.in_(RUNNING)).group_by(RecurringGift.method))}
    counts = dict(db.session.execute(sa.select(RecurringGift.status, sa.func.count())
                                     .group_by(RecurringGift.status)).all())
    query = sa.select(RecurringGift).order_by(RecurringGift.id.desc())
    if status:
        query = query.where(RecurringGift.status == status)
    else:
        query = query.where(RecurringGift.status != S.ABANDONED.value)
    if method:
        query = query.where(RecurringGift.method == method)
    return RecurringOverview(sum(by_method.values()), by_method, counts, list(db.session.scalars(query.limit(500))))

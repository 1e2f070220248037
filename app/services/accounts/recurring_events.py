"""Monthly card gifts: what Stripe's webhooks mean for them.

Called by app/services/donations/online.py `apply_event`, inside the transaction that
records the event id in `payment_events`, so each event is applied at most once. Each
paid invoice becomes one Donation (`stripe_invoice_id` is unique: exactly once even if two
different events named the same invoice) and is confirmed through the ledger, which
issues its receipt and queues its mail, like a one-off card gift.

Objects are read in the shapes of Stripe's API 2025+ (`invoice.parent.subscription_details`,
`invoice.payments`), falling back to the older top-level `invoice.subscription`.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.adapters.stripe_gateway import CURRENCY
from app.extensions import db
from app.i18n import _, date_text, language, language_of, money, vietnamese
from app.models import Channel, Donation, DonationStatus, RecurringGift, RecurringStatus
from app.services import audit
from app.services.audit import Actor
from app.services.donations.ledger import confirm_in_tx
from app.timeutil import utcnow

STRIPE = Actor.system("stripe")
EVENTS = {"invoice.paid", "invoice.payment_failed", "customer.subscription.deleted",
          "customer.subscription.updated"}
ENDED = (RecurringStatus.CANCELLED.value, RecurringStatus.LAPSED.value, RecurringStatus.ABANDONED.value)

Outcome = tuple[str, int | None, str | None]


def _gift_id(metadata: dict | None) -> int | None:
    try:
        return int((metadata or {}).get("recurring_gift_id"))
    except (TypeError, ValueError):
        return None


def _lock(gift_id: int | None = None, subscription_id: str | None = None) -> RecurringGift | None:
    query = sa.select(RecurringGift).with_for_update()
    if subscription_id:
        gift = db.session.scalar(query.where(RecurringGift.stripe_subscription_id == subscription_id))
        if gift is not None:
            return gift
    if gift_id is None:
        return None
    gift = db.session.scalar(query.where(RecurringGift.id == gift_id))
    if gift is not None and subscription_id and gift.stripe_subscription_id not in (None, subscription_id):
        return None  # metadata names a gift that belongs to another subscription
    return gift


def _invoice_subscription(invoice: dict) -> tuple[str | None, int | None]:
    details = ((invoice.get("parent") or {}).get("subscription_details") or {})
    sub = details.get("subscription") or invoice.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    metadata = details.get("metadata") or (invoice.get("subscription_details") or {}).get("metadata")
    return (str(sub) if sub else None), _gift_id(metadata)


def _payment_intent(invoice: dict) -> str | None:
    for payment in ((invoice.get("payments") or {}).get("data") or []):
        pi = (payment.get("payment") or {}).get("payment_intent")
        if pi and payment.get("status") in ("paid", None):
            return pi if isinstance(pi, str) else pi.get("id")
    pi = invoice.get("payment_intent")
    return pi if isinstance(pi, str) else None


def _attach(gift: RecurringGift, subscription_id: str | None, customer: str | None) -> None:
    if subscription_id and not gift.stripe_subscription_id:
        gift.stripe_subscription_id = subscription_id
    if customer and not gift.stripe_customer_id:
        gift.stripe_customer_id = str(customer)
    if gift.started_at is None:
        gift.started_at = utcnow()


# ---------------------------------------------------------------- checkout sessions

def apply_session_event(event_type: str, session: dict) -> Outcome:
    gift = _lock(_gift_id(session.get("metadata")))
    if gift is None:
        return "unmatched", None, "no recurring gift for this session"
    if gift.stripe_checkout_session_id and session.get("id") != gift.stripe_checkout_session_id:
        return "ignored", None, "session does not belong to this monthly gift"
    if event_type == "checkout.session.expired":
        if gift.status == RecurringStatus.PENDING.value:
            gift.status = RecurringStatus.ABANDONED.value
            audit.record(STRIPE, "recurring.abandoned", gift)
            return "failed", None, None
        return "ignored", None, None
    if event_type != "checkout.session.completed":
        return "ignored", None, None
    _attach(gift, session.get("subscription"), session.get("customer"))
    if gift.status == RecurringStatus.PENDING.value:
        gift.status = RecurringStatus.ACTIVE.value
        audit.record(STRIPE, "recurring.start", gift, after={"subscription": gift.stripe_subscription_id})
        return "recurring_started", None, None
    return "already_confirmed", None, None


# ---------------------------------------------------------------- invoices & subscriptions

def apply(event_type: str, obj: dict) -> Outcome:
    if event_type == "invoice.paid":
        return _invoice_paid(obj)
    if event_type == "invoice.payment_failed":
        return _invoice_failed(obj)
    if event_type == "customer.subscription.deleted":
        return _subscription_deleted(obj)
    return _subscription_updated(obj)


def _invoice_paid(invoice: dict) -> Outcome:
    subscription_id, gift_id = _invoice_subscription(invoice)
    if not subscription_id:
        return "ignored", None, "not a subscription invoice"
    gift = _lock(gift_id, subscription_id)
    if gift is None:
        return "unmatched", None, f"no monthly gift for {subscription_id}"
    invoice_id = str(invoice.get("id") or "")[:255]
    existing = db.session.scalar(sa.select(Donation.id).where(Donation.stripe_invoice_id == invoice_id))
    if existing is not None:
        return "already_confirmed", existing, None
    amount = invoice.get("amount_paid")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return "ignored", None, "nothing paid"
    _attach(gift, subscription_id, invoice.get("customer"))
    paid_at = datetime.fromtimestamp(int(invoice.get("created") or utcnow().timestamp()), timezone.utc)
    donation = Donation(donor_id=gift.donor_id, amount=amount, currency="VND", channel=Channel.CARD.value,
                        status=DonationStatus.PENDING.value, programme_id=gift.programme_id,
                        appeal_id=gift.appeal_id, recurring_gift_id=gift.id, stripe_invoice_id=invoice_id,
                        stripe_payment_intent_id=_payment_intent(invoice), received_at=paid_at,
                        note=f"Ủng hộ hằng tháng (hóa đơn {invoice_id})")
    problem = None
    if str(invoice.get("currency") or "").lower() != CURRENCY:
        problem = f"Hóa đơn hằng tháng bằng {str(invoice.get('currency')).upper()} thay vì VND — cần cán bộ kiểm tra."
    try:
        with db.session.begin_nested():
            db.session.add(donation)
            db.session.flush()
    except IntegrityError:
        return "already_confirmed", None, "invoice or payment already recorded"
    audit.record(STRIPE, "donation.monthly_paid", donation,
                 after={"amount": amount, "invoice": invoice_id, "recurring_gift_id": gift.id})
    if gift.status not in ENDED and gift.status != RecurringStatus.PAUSED.value:
        gift.status = RecurringStatus.ACTIVE.value
    gift.last_paid_at = paid_at
    gift.failed_payments = 0
    gift.failure_message = None
    if problem:
        donation.flagged_reason = problem
        return "flagged", donation.id, problem
    confirm_in_tx(donation, STRIPE)
    return "confirmed", donation.id, None


def _invoice_failed(invoice: dict) -> Outcome:
    from app.services.receipts import mail as outbox

    subscription_id, gift_id = _invoice_subscription(invoice)
    gift = _lock(gift_id, subscription_id) if subscription_id else None
    if gift is None:
        return "unmatched", None, "no monthly gift for this invoice"
    _attach(gift, subscription_id, invoice.get("customer"))
    retry = invoice.get("next_payment_attempt")
    retry_at = datetime.fromtimestamp(int(retry), timezone.utc) if retry else None
    attempt = invoice.get("attempt_count") or 1

    def failure_text() -> str:
        if retry_at is not None:
            return _("Thẻ bị từ chối khi thanh toán %(amount)s (lần thử %(attempt)s); cổng thanh toán sẽ tự "
                     "thử lại vào %(day)s.", amount=money(gift.amount), attempt=attempt, day=date_text(retry_at))
        return _("Thẻ bị từ chối khi thanh toán %(amount)s (lần thử %(attempt)s).",
                 amount=money(gift.amount), attempt=attempt)

    with vietnamese():  # kept on the gift and in the audit log: Vietnamese, like all stored text
        message = failure_text()
    before = {"status": gift.status, "failed_payments": gift.failed_payments}
    if gift.status not in ENDED:
        gift.status = RecurringStatus.PAST_DUE.value
    gift.failed_payments += 1
    gift.last_failed_at = utcnow()
    gift.failure_message = message
    audit.record(STRIPE, "recurring.payment_failed", gift, before=before,
                 after={"status": gift.status, "failed_payments": gift.failed_payments, "message": message})
    if gift.donor.email:
        with language(language_of(gift.donor)):  # the donor's language, not the webhook's
            outbox.queue_notice(gift.donor.email, _("Khoản ủng hộ hằng tháng chưa thanh toán được"),
                                _("Kính gửi %(name)s,\n\n%(message)s\n\nQuý vị có thể xem hoặc hủy khoản "
                                  "ủng hộ hằng tháng trong tài khoản nhà hảo tâm (mục Ủng hộ hằng tháng).\n",
                                  name=gift.donor.name, message=failure_text()))
    return "payment_failed", None, message


def _subscription_deleted(subscription: dict) -> Outcome:
    gift = _lock(_gift_id(subscription.get("metadata")), str(subscription.get("id") or "") or None)
    if gift is None:
        return "unmatched", None, "no monthly gift for this subscription"
    if gift.status in ENDED:
        return "already_cancelled", None, None
    reason = (subscription.get("cancellation_details") or {}).get("reason")
    before = {"status": gift.status}
    if reason == "payment_failed":
        gift.status = RecurringStatus.LAPSED.value
        gift.end_reason = "Ngừng do nhiều lần thanh toán thẻ không thành công."
    else:
        gift.status = RecurringStatus.CANCELLED.value
        gift.end_reason = "Đã hủy tại cổng thanh toán."
    gift.ended_at = utcnow()
    audit.record(STRIPE, "recurring.ended", gift, before=before, after={"status": gift.status, "reason": reason})
    return "recurring_ended", None, None


def _subscription_updated(subscription: dict) -> Outcome:
    gift = _lock(_gift_id(subscription.get("metadata")), str(subscription.get("id") or "") or None)
    if gift is None:
        return "unmatched", None, "no monthly gift for this subscription"
    if gift.status in ENDED:
        return "ignored", None, None
    before = gift.status
    if subscription.get("pause_collection"):
        gift.status = RecurringStatus.PAUSED.value
    elif gift.status == RecurringStatus.PAUSED.value:
        gift.status = RecurringStatus.ACTIVE.value
    elif subscription.get("status") in ("past_due", "unpaid"):
        gift.status = RecurringStatus.PAST_DUE.value
    if gift.status != before:
        audit.record(STRIPE, "recurring.status", gift, before={"status": before}, after={"status": gift.status})
    return "recurring_updated", None, None

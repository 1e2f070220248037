"""Monthly card gifts: Checkout in subscription mode through the real `stripe` library
against tests/stripe_stub.py; every paid invoice becomes one donation with its receipt,
exactly once; failures are shown to donor and staff; the donor cancels; staff pause/stop."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Donation, OutboxMessage, PaymentEvent, Receipt, RecurringGift, Role
from tests import factories
from tests.account_helpers import sign_in
from tests.stripe_stub import TEST_WEBHOOK_SECRET, signed_webhook

WHSEC = TEST_WEBHOOK_SECRET


def deliver(client, event):
    body, headers = signed_webhook(event, WHSEC)
    response = client.post("/payments/stripe/webhook", data=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["outcome"]


def deliver_new(client, stub, since: int) -> list[str]:
    return [deliver(client, event) for event in stub.events[since:]]


def month_donations() -> list[Donation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Donation).where(Donation.recurring_gift_id.is_not(None))
                                   .order_by(Donation.id)))


def gift() -> RecurringGift:
    db.session.expire_all()
    return db.session.scalars(sa.select(RecurringGift).order_by(RecurringGift.id)).first()


def subscribe(client, stub, amount="300.000") -> RecurringGift:
    factories.donor(email="an@example.com")
    sign_in(client, "an@example.com")
    page = client.get("/tai-khoan/hang-thang").get_data(as_text=True)
    assert "Đăng ký ủng hộ hằng tháng bằng thẻ" in page
    response = client.post("/tai-khoan/hang-thang/dang-ky", data={"amount": amount, "designation": "general"})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].startswith(stub.base_url + "/pay/")
    record = gift()
    assert record.status == "pending" and record.amount == 300_000
    return record


def test_subscription_mode_checkout_and_first_invoice_gives_a_receipt(client, stripe_on):
    record = subscribe(client, stripe_on)
    [sent] = stripe_on.find_requests("POST", "/v1/checkout/sessions")
    assert sent.params["mode"] == "subscription"
    price = sent.params["line_items"][0]["price_data"]
    assert price["currency"] == "vnd" and price["unit_amount"] == "300000"
    assert price["recurring"] == {"interval": "month"}
    assert sent.params["subscription_data"] == {"metadata": {"recurring_gift_id": str(record.id)}}
    assert sent.params["customer_email"] == "an@example.com"

    stripe_on.complete_session(record.stripe_checkout_session_id)
    assert [e["type"] for e in stripe_on.events] == ["checkout.session.completed", "invoice.paid"]
    assert deliver_new(client, stripe_on, 0) == ["recurring_started", "confirmed"]
    record = gift()
    assert record.status == "active" and record.stripe_subscription_id.startswith("sub_")
    [donation] = month_donations()
    assert donation.amount == 300_000 and donation.status == "confirmed" and donation.channel == "card"
    assert donation.stripe_invoice_id.startswith("in_")
    receipt = db.session.scalars(sa.select(Receipt).where(Receipt.donation_id == donation.id)).one()
    assert "hằng tháng" in client.get("/tai-khoan").get_data(as_text=True)
    assert receipt.number in client.get("/tai-khoan").get_data(as_text=True)


def test_invoice_before_session_event_and_redeliveries_count_once(client, stripe_on):
    record = subscribe(client, stripe_on)
    stripe_on.complete_session(record.stripe_checkout_session_id)
    completed, paid = stripe_on.events
    assert deliver(client, paid) == "confirmed"  # the invoice overtook the session event
    assert deliver(client, completed) == "already_confirmed"  # the invoice started it
    for _ in range(3):
        assert deliver(client, paid) == "duplicate"
    stripe_on.renew(gift().stripe_subscription_id)
    second = stripe_on.events[-1]
    assert deliver(client, second) == "confirmed"
    # The same invoice under another event id (Stripe may send invoice.paid twice).
    again = dict(second, id="evt_1_same_invoice_other_event")
    assert deliver(client, again) == "already_confirmed"
    assert [d.amount for d in month_donations()] == [300_000, 300_000]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 2


def test_failed_payment_is_shown_to_donor_and_staff_and_mailed(client, stripe_on, login_as):
    record = subscribe(client, stripe_on)
    stripe_on.complete_session(record.stripe_checkout_session_id)
    deliver_new(client, stripe_on, 0)
    n = len(stripe_on.events)
    stripe_on.renew(record.stripe_subscription_id or gift().stripe_subscription_id, paid=False)
    assert deliver_new(client, stripe_on, n) == ["payment_failed"]
    record = gift()
    assert record.status == "past_due" and record.failed_payments == 1
    page = client.get("/tai-khoan/hang-thang").get_data(as_text=True)
    assert "Thanh toán lỗi" in page and "Thẻ bị từ chối khi thanh toán 300.000\u00a0₫" in page
    notice = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "notice")).one()
    assert notice.to_address == "an@example.com" and "chưa thanh toán được" in notice.subject
    assert len(month_donations()) == 1  # a failed month is no donation

    login_as(Role.ACCOUNTANT)
    staff = client.get("/staff/ung-ho-hang-thang").get_data(as_text=True)
    assert "Thẻ bị từ chối" in staff and "Thanh toán lỗi" in staff
    # Retries exhausted: Stripe cancels; the gift lapses and says so.
    n = len(stripe_on.events)
    stripe_on.give_up(gift().stripe_subscription_id)
    assert deliver_new(client, stripe_on, n) == ["recurring_ended"]
    assert gift().status == "lapsed"


def test_donor_cancels_from_the_account(client, stripe_on):
    record = subscribe(client, stripe_on)
    stripe_on.complete_session(record.stripe_checkout_session_id)
    deliver_new(client, stripe_on, 0)
    record = gift()
    response = client.post(f"/tai-khoan/hang-thang/{record.id}/huy")
    assert response.status_code == 302
    assert stripe_on.subscriptions[record.stripe_subscription_id]["status"] == "canceled"
    record = gift()
    assert record.status == "cancelled" and "tự hủy" in record.end_reason
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "recurring.cancel")).one()
    assert entry.actor_label == "donor:an@example.com"
    # Stripe's own event about it changes nothing more.
    assert deliver(client, stripe_on.events[-1]) == "already_cancelled"
    # And no more months can be billed.
    assert "Đã hủy" in client.get("/tai-khoan/hang-thang").get_data(as_text=True)


def test_gateway_outage_on_cancel_keeps_the_gift_and_says_so(client, stripe_on):
    record = subscribe(client, stripe_on)
    stripe_on.complete_session(record.stripe_checkout_session_id)
    deliver_new(client, stripe_on, 0)
    stripe_on.fail_next(500)
    response = client.post(f"/tai-khoan/hang-thang/{gift().id}/huy", follow_redirects=True)
    assert "Cổng thanh toán tạm thời gián đoạn" in response.get_data(as_text=True)
    assert gift().status == "active"


def test_staff_pause_resume_and_stop_on_request_and_committed_total(client, stripe_on, login_as):
    record = subscribe(client, stripe_on)
    stripe_on.complete_session(record.stripe_checkout_session_id)
    deliver_new(client, stripe_on, 0)
    other = factories.donor("Lê Văn Cường", email="cuong@example.com")
    db.session.add(RecurringGift(donor=other, amount=150_000, programme=factories.programme(), status="cancelled"))
    db.session.commit()
    login_as(Role.ACCOUNTANT)
    page = client.get("/staff/ung-ho-hang-thang").get_data(as_text=True)
    assert 'data-testid="monthly-committed">300.000\u00a0₫' in page and "Lê Văn Cường" in page

    gift_id = gift().id
    assert "Vui lòng ghi yêu cầu" in client.post(f"/staff/ung-ho-hang-thang/{gift_id}/tam-dung",
                                                  data={}, follow_redirects=True).get_data(as_text=True)
    client.post(f"/staff/ung-ho-hang-thang/{gift_id}/tam-dung", data={"reason": "Gọi điện 01/12: tạm dừng 2 tháng"})
    sub = stripe_on.subscriptions[gift().stripe_subscription_id]
    assert sub["pause_collection"] == {"behavior": "void", "resumes_at": None}
    assert gift().status == "paused"
    assert 'data-testid="monthly-committed">0\u00a0₫' in client.get("/staff/ung-ho-hang-thang").get_data(as_text=True)
    client.post(f"/staff/ung-ho-hang-thang/{gift_id}/tiep-tuc", data={"reason": "Email 15/12: tiếp tục"})
    assert sub["pause_collection"] is None and gift().status == "active"
    client.post(f"/staff/ung-ho-hang-thang/{gift_id}/dung", data={"reason": "Thư ngày 20/12"})
    assert sub["status"] == "canceled" and gift().status == "cancelled"
    actions = list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "recurring_gifts")))
    assert {"recurring.pause", "recurring.resume", "recurring.cancel"} <= set(actions)


def test_amount_limits_and_no_stripe_no_monthly(client, stripe_on, app, monkeypatch):
    factories.donor(email="an@example.com")
    sign_in(client, "an@example.com")
    response = client.post("/tai-khoan/hang-thang/dang-ky", data={"amount": "1.000", "designation": "general"})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecurringGift)) == 0
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    page = client.get("/tai-khoan/hang-thang").get_data(as_text=True)
    assert "Đăng ký ủng hộ hằng tháng bằng thẻ" not in page


def test_refund_of_a_month_reverses_that_donation(client, stripe_on):
    record = subscribe(client, stripe_on)
    stripe_on.complete_session(record.stripe_checkout_session_id)
    deliver_new(client, stripe_on, 0)
    [donation] = month_donations()
    stripe_on.refund(donation.stripe_payment_intent_id)
    assert deliver(client, stripe_on.events[-1]) == "refunded"
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).status == "reversed"

"""Online giving through the real `stripe` library against tests/stripe_stub.py: the form
opens a Checkout Session, signed webhooks confirm, flag, fail and refund, exactly once."""
from __future__ import annotations

import copy
import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Donation, PaymentEvent, Receipt, Role
from tests import factories
from tests.conftest import CommittingClient
from tests.stripe_stub import event_body, sign_payload, TEST_WEBHOOK_SECRET, signed_webhook

WHSEC = TEST_WEBHOOK_SECRET



FORM = {"kind": "individual", "name": "Trần Thị Mai", "email": "mai@example.com", "phone": "0912 345 678",
        "preset": "200000", "designation": "general", "currency": "VND", "public_listing": "y"}


def give(client, **changes) -> tuple[Donation, str]:
    response = client.post("/donate", data={**FORM, **changes})
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    donation = db.session.scalars(sa.select(Donation).order_by(Donation.id.desc())).first()
    return donation, response.headers["Location"]


def deliver(client, event, secret=WHSEC):
    body, headers = signed_webhook(event, secret)
    return client.post("/payments/stripe/webhook", data=body, headers=headers)


def sign_in(login_as, role):
    """login_as after earlier requests: the tests share one app context, so Flask-Login's
    per-context cache (g._login_user) still holds the anonymous user of the last request."""
    from flask import g

    user = login_as(role)
    g.pop("_login_user", None)
    return user


def reload(donation_id: int) -> Donation:
    db.session.expire_all()
    return db.session.get(Donation, donation_id)


def receipts_of(donation_id: int) -> list[Receipt]:
    return list(db.session.scalars(sa.select(Receipt).where(Receipt.donation_id == donation_id).order_by(Receipt.id)))


def test_happy_path_form_to_checkout_to_receipt(client, stripe_on):
    appeal = factories.appeal("trai-tim", title="Trái tim cho em", status="open", is_public=True,
                              goal_amount=1_000_000)
    donation, url = give(client, designation="appeal", appeal="trai-tim", preset="", custom_amount="250.000")
    assert url.startswith(stripe_on.base_url + "/pay/")
    sent = stripe_on.find_requests("POST", "/v1/checkout/sessions")[0]
    assert sent.params["mode"] == "payment"
    item = sent.params["line_items"][0]
    assert item["price_data"]["currency"] == "vnd" and item["price_data"]["unit_amount"] == "250000"
    assert sent.params["client_reference_id"] == str(donation.id)
    assert sent.params["metadata"] == {"donation_id": str(donation.id)}
    assert sent.params["customer_email"] == "mai@example.com"
    assert sent.headers.get("Idempotency-Key") == f"donation-{donation.id}-checkout"
    assert (donation.status, donation.amount, donation.appeal_id) == ("pending", 250_000, appeal.id)
    sid = donation.stripe_checkout_session_id
    assert url.endswith(sid)

    waiting = client.get(f"/donate/return?session_id={sid}")
    page = waiting.get_data(as_text=True)
    assert waiting.status_code == 200 and "Đang chờ xác nhận" in page and 'http-equiv="refresh"' in page
    assert waiting.headers["Cache-Control"] == "no-store"

    response = deliver(client, stripe_on.complete_session(sid))
    assert response.status_code == 200 and response.get_json()["outcome"] == "confirmed"
    donation = reload(donation.id)
    assert donation.status == "confirmed" and donation.stripe_payment_intent_id.startswith("pi_")
    (receipt,) = receipts_of(donation.id)

    done = client.get(stripe_on.success_url_for(sid).replace("http://localhost", ""))
    page = done.get_data(as_text=True)
    assert "Cảm ơn" in page and receipt.number in page and 'http-equiv="refresh"' not in page
    home = client.get("/").get_data(as_text=True)
    assert "250.000\u00a0₫" in home and "25%" in home  # raised and progress of the appeal


def test_a_repeated_event_changes_nothing(client, stripe_on):
    donation, _ = give(client)
    event = stripe_on.complete_session(donation.stripe_checkout_session_id)
    assert deliver(client, event).get_json()["outcome"] == "confirmed"
    again = deliver(client, event)
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert len(receipts_of(donation.id)) == 1
    confirms = db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "donation.confirm"))
    assert confirms == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 1


def _deliver_concurrently(app, bodies_and_headers, n_threads):
    barrier = threading.Barrier(n_threads)
    results, errors = [], []

    def worker(body, headers):
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=20)
                response = client.post("/payments/stripe/webhook", data=body, headers=headers)
                results.append((response.status_code, (response.get_json() or {}).get("outcome")))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    db.session.commit()  # SQLite: release the write lock before the threads need it
    threads = [threading.Thread(target=worker, args=bh) for bh in bodies_and_headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return results


def test_twenty_simultaneous_deliveries_confirm_once(app, client, stripe_on):
    donation, _ = give(client)
    event = stripe_on.complete_session(donation.stripe_checkout_session_id)
    delivery = signed_webhook(event, WHSEC)
    results = _deliver_concurrently(app, [delivery] * 20, 20)
    assert sorted(results) == [(200, "confirmed")] + [(200, "duplicate")] * 19
    assert reload(donation.id).status == "confirmed"
    assert len(receipts_of(donation.id)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "donation.confirm")) == 1


def test_twenty_different_events_for_one_payment_confirm_once(app, client, stripe_on):
    """Stripe may send completed and async_payment_succeeded (and retries with new ids) at once."""
    donation, _ = give(client)
    event = stripe_on.complete_session(donation.stripe_checkout_session_id)
    deliveries = []
    for i in range(20):
        copy_ = copy.deepcopy(event)
        copy_["id"] = f"evt_parallel_{i}"
        if i % 2:
            copy_["type"] = "checkout.session.async_payment_succeeded"
        deliveries.append(signed_webhook(copy_, WHSEC))
    results = _deliver_concurrently(app, deliveries, 20)
    assert sorted(results) == [(200, "already_confirmed")] * 19 + [(200, "confirmed")]
    assert len(receipts_of(donation.id)) == 1


def test_delayed_payment_events_out_of_order(client, stripe_on):
    donation, _ = give(client)
    sid = donation.stripe_checkout_session_id
    completed_unpaid = stripe_on.complete_session(sid, paid=False)
    succeeded = stripe_on.async_payment_succeeded(sid)
    assert deliver(client, succeeded).get_json()["outcome"] == "confirmed"
    assert deliver(client, completed_unpaid).get_json()["outcome"] == "already_confirmed"
    assert reload(donation.id).status == "confirmed" and len(receipts_of(donation.id)) == 1


def test_delayed_payment_waits_then_fails(client, stripe_on):
    donation, _ = give(client)
    sid = donation.stripe_checkout_session_id
    assert deliver(client, stripe_on.complete_session(sid, paid=False)).get_json()["outcome"] == "waiting"
    assert reload(donation.id).status == "pending"
    assert deliver(client, stripe_on.async_payment_failed(sid)).get_json()["outcome"] == "failed"
    donation = reload(donation.id)
    assert donation.status == "failed" and receipts_of(donation.id) == []
    page = client.get(f"/donate/return?session_id={sid}").get_data(as_text=True)
    assert "Thanh toán chưa thành công" in page and "Không có khoản tiền nào bị trừ" in page


def test_refund_that_overtakes_the_completed_event(client, stripe_on):
    donation, _ = give(client)
    sid = donation.stripe_checkout_session_id
    completed = stripe_on.complete_session(sid)
    refunded = stripe_on.refund(sid)
    assert deliver(client, refunded).get_json()["outcome"] == "refunded"  # looked the session up
    assert deliver(client, completed).get_json()["outcome"] == "already_confirmed"
    donation = reload(donation.id)
    assert donation.status == "reversed"
    net = db.session.scalar(sa.select(Donation.net_sum()).where(Donation.counted()))
    assert net == 0
    assert all(r.voided_at is not None for r in receipts_of(donation.id))


def test_partial_then_full_refund_reverses_and_voids_receipts(client, stripe_on):
    donation, _ = give(client, preset="", custom_amount="300.000")
    sid = donation.stripe_checkout_session_id
    deliver(client, stripe_on.complete_session(sid))
    (first,) = receipts_of(donation.id)

    partial = stripe_on.refund(sid, amount=100_000)
    assert deliver(client, partial).get_json()["outcome"] == "refunded"
    assert deliver(client, partial).get_json()["outcome"] == "duplicate"
    receipts = receipts_of(donation.id)
    assert receipts[0].voided_at is not None and receipts[1].voided_at is None
    assert receipts[1].replaces_id == first.id
    assert reload(donation.id).status == "confirmed"
    assert db.session.scalar(sa.select(Donation.net_sum()).where(Donation.counted())) == 200_000

    rest = stripe_on.refund(sid)
    assert deliver(client, rest).get_json()["outcome"] == "refunded"
    donation = reload(donation.id)
    assert donation.status == "reversed" and donation.reversed_amount == 300_000
    assert all(r.voided_at is not None for r in receipts_of(donation.id))
    assert db.session.scalar(sa.select(Donation.net_sum()).where(Donation.counted())) == 0
    page = client.get(f"/donate/return?session_id={sid}").get_data(as_text=True)
    assert "đã được hoàn tiền" in page


@pytest.mark.parametrize("tamper", [{"amount_total": 2_000}, {"currency": "usd"}])
def test_a_tampered_amount_or_currency_is_flagged_not_confirmed(client, login_as, stripe_on, tamper):
    donation, _ = give(client)
    sid = donation.stripe_checkout_session_id
    response = deliver(client, stripe_on.complete_session(sid, **tamper))
    assert response.status_code == 200 and response.get_json()["outcome"] == "flagged"
    donation = reload(donation.id)
    assert donation.status == "pending" and receipts_of(donation.id) == []
    assert "Cần cán bộ kiểm tra" in donation.flagged_reason
    assert "đang được kiểm tra" in client.get(f"/donate/return?session_id={sid}").get_data(as_text=True)

    sign_in(login_as, Role.VIEWER)
    listing = client.get("/staff/online-donations?state=flagged").get_data(as_text=True)
    assert "Trần Thị Mai" in listing and "Cần kiểm tra" in listing
    assert client.post(f"/staff/online-donations/{donation.id}/resolve",
                       data={"action": "confirm", "note": "x"}).status_code == 403
    sign_in(login_as, Role.ACCOUNTANT)
    assert client.post(f"/staff/online-donations/{donation.id}/resolve",
                       data={"action": "fail", "note": ""}).status_code == 302
    assert reload(donation.id).status == "pending"  # a note is required
    client.post(f"/staff/online-donations/{donation.id}/resolve",
                data={"action": "fail", "note": "Đã đối chiếu Stripe: số tiền sai, hoàn lại cho khách."})
    assert reload(donation.id).status == "failed"


def test_an_expired_session_marks_the_donation_failed(client, stripe_on):
    donation, _ = give(client)
    sid = donation.stripe_checkout_session_id
    assert deliver(client, stripe_on.expire_session(sid)).get_json()["outcome"] == "failed"
    donation = reload(donation.id)
    assert donation.status == "failed" and "hết hạn" in donation.reason


@pytest.mark.parametrize("case", ["wrong secret", "no header", "stale", "not json", "tampered body"])
def test_bad_signatures_get_400_and_change_nothing(client, stripe_on, case):
    donation, _ = give(client)
    event = stripe_on.complete_session(donation.stripe_checkout_session_id)
    body = event_body(event)
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, WHSEC)}
    if case == "wrong secret":
        headers["Stripe-Signature"] = sign_payload(body, "whsec_someone_else")
    elif case == "no header":
        del headers["Stripe-Signature"]
    elif case == "stale":
        headers["Stripe-Signature"] = sign_payload(body, WHSEC, timestamp=int(time.time()) - 3600)
    elif case == "not json":
        body = b"\xff\xfe not json"
        headers["Stripe-Signature"] = sign_payload(b"{}", WHSEC)
    else:
        body = body.replace(b'"amount_total": 200000', b'"amount_total": 2000000')
    response = client.post("/payments/stripe/webhook", data=body, headers=headers)
    assert response.status_code == 400 and response.is_json
    assert response.get_json()["error"] == "Chữ ký webhook không hợp lệ."
    assert reload(donation.id).status == "pending"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) == 0


def test_webhook_body_is_capped(client, stripe_on, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_MAX_BYTES", 1024)
    body = b"{" + b" " * 2048 + b"}"
    response = client.post("/payments/stripe/webhook", data=body,
                           headers={"Stripe-Signature": sign_payload(body, WHSEC)})
    assert response.status_code == 413 and response.is_json


def test_events_for_unknown_sessions_are_acknowledged(client, stripe_on):
    event = {"id": "evt_other", "object": "event", "type": "checkout.session.completed", "livemode": False,
             "data": {"object": {"id": "cs_test_other", "object": "checkout.session", "metadata": {},
                                 "amount_total": 1, "currency": "vnd", "payment_status": "paid"}}}
    assert deliver(client, event).get_json()["outcome"] == "unmatched"
    other = dict(event, id="evt_other_type", type="customer.created")
    assert deliver(client, other).get_json()["outcome"] == "ignored"


def test_provider_outage_on_submit_is_a_clear_message(client, stripe_on):
    stripe_on.fail_next(500)
    response = client.post("/donate", data=FORM)
    assert response.status_code == 503
    assert "Cổng thanh toán tạm thời gián đoạn" in response.get_data(as_text=True)
    donation = db.session.scalars(sa.select(Donation)).one()
    assert donation.status == "failed" and donation.stripe_checkout_session_id is None


def test_sync_confirms_missed_webhooks_once(client, runner, stripe_on):
    first, _ = give(client)
    second, _ = give(client, preset="500000")
    unpaid, _ = give(client, preset="100000")
    stripe_on.complete_session(first.stripe_checkout_session_id)
    stripe_on.complete_session(second.stripe_checkout_session_id)
    stripe_on.complete_session(unpaid.stripe_checkout_session_id, paid=False)  # no webhook delivered
    since = date.today().isoformat()
    result = runner.invoke(args=["stripe", "sync", "--since", since])
    assert result.exit_code == 0, result.output
    assert "Completed sessions seen: 3; confirmed now: 2" in result.output
    assert [reload(d.id).status for d in (first, second, unpaid)] == ["confirmed", "confirmed", "pending"]
    receipts = db.session.scalar(sa.select(sa.func.count()).select_from(Receipt))
    audit_count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))

    again = runner.invoke(args=["stripe", "sync", "--since", since])
    assert "confirmed now: 0; flagged for staff: 0; unchanged: 3" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == receipts
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audit_count
    # A late webhook after the sync changes nothing either.
    assert runner.invoke(args=["stripe", "sync", "--since", "2024-02-30"]).exit_code != 0


def test_staff_see_online_donations_by_state(client, login_as, stripe_on):
    ok, _ = give(client)
    deliver(client, stripe_on.complete_session(ok.stripe_checkout_session_id))
    lost, _ = give(client, name="Lê Văn Bình", email="binh@example.com")
    deliver(client, stripe_on.expire_session(lost.stripe_checkout_session_id))
    sign_in(login_as, Role.ACCOUNTANT)
    failed = client.get("/staff/online-donations?state=failed").get_data(as_text=True)
    assert "Lê Văn Bình" in failed and "Trần Thị Mai" not in failed
    detail = client.get(f"/staff/online-donations/{ok.id}").get_data(as_text=True)
    assert "checkout.session.completed" in detail and receipts_of(ok.id)[0].number in detail
    sign_in(login_as, Role.CASE_WORKER)
    assert client.get("/staff/online-donations").status_code == 403


# ---------------------------------------------------------------- issue 12, item 34

def test_refund_for_a_payment_the_provider_does_not_know_is_acknowledged_with_a_note(client, stripe_on, caplog):
    donation, _ = give(client)
    refunded = stripe_on.refund(stripe_on.complete_session(donation.stripe_checkout_session_id)
                                ["data"]["object"]["id"])
    stripe_on.fail_next(404, "No such payment_intent: 'pi_x'", error_type="invalid_request_error",
                        code="resource_missing")
    response = deliver(client, refunded)
    assert response.status_code == 200 and response.get_json()["outcome"] == "not_found"
    assert "Không tìm thấy giao dịch" in response.get_json()["note"]
    event = db.session.scalars(sa.select(PaymentEvent).where(PaymentEvent.event_id == refunded["id"])).one()
    assert event.outcome == "not_found" and "not found at the provider" in event.detail
    assert "not found at the provider" in caplog.text
    # A repeat of the same event is a duplicate, not another lookup.
    assert deliver(client, refunded).get_json()["outcome"] == "duplicate"


def test_refund_lookup_during_an_outage_is_retried(client, stripe_on):
    donation, _ = give(client)
    refunded = stripe_on.refund(stripe_on.complete_session(donation.stripe_checkout_session_id)
                                ["data"]["object"]["id"])
    stripe_on.fail_next(500)
    assert deliver(client, refunded).status_code == 503


def test_sync_tells_not_found_from_unreachable(runner, stripe_on, caplog):
    since = date.today().isoformat()
    stripe_on.fail_next(404, "No such resource", error_type="invalid_request_error", code="resource_missing")
    not_found = runner.invoke(args=["stripe", "sync", "--since", since])
    assert not_found.exit_code == 0 and "404" in not_found.output
    stripe_on.fail_next(500)
    down = runner.invoke(args=["stripe", "sync", "--since", since])
    assert down.exit_code == 1 and "unreachable" in down.output


def test_a_failed_checkout_creation_is_in_the_server_log(client, stripe_on, caplog):
    stripe_on.fail_next(500)
    client.post("/donate", data=FORM)
    assert "Checkout Session creation failed for donation" in caplog.text

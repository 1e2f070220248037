"""Tests of tests/stripe_stub.py, driven only through the real ``stripe`` library."""

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import stripe

pytestmark = pytest.mark.nodb

try:
    from tests.stripe_stub import StripeStub, decode_form, event_body, sign_payload, signed_webhook
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from stripe_stub import StripeStub, decode_form, event_body, sign_payload, signed_webhook

KEY = "sk_test_hpcpf_123"
SECRET = "whsec_test_secret"


@pytest.fixture
def stub():
    with StripeStub(api_key=KEY) as s:
        yield s


@pytest.fixture
def client(stub):
    return stripe.StripeClient(api_key=KEY, base_addresses={"api": stub.base_url})


def donation_params(donation_id=42, amount=50000, **extra):
    return {
        "mode": "payment",
        "line_items": [{
            "price_data": {"currency": "vnd", "unit_amount": amount,
                           "product_data": {"name": "Donation to HPCPF"}},
            "quantity": 1,
        }],
        "client_reference_id": str(donation_id),
        "metadata": {"donation_id": str(donation_id)},
        "customer_email": "donor@example.com",
        "success_url": "https://app.test/donate/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://app.test/donate/cancelled",
        **extra,
    }


def test_decode_form_nested_and_lists():
    assert decode_form([("line_items[0][price_data][unit_amount]", "5"), ("line_items[1][quantity]", "2"),
                        ("metadata[donation_id]", "7"), ("expand[]", "a"), ("expand[]", "b")]) == {
        "line_items": [{"price_data": {"unit_amount": "5"}}, {"quantity": "2"}],
        "metadata": {"donation_id": "7"}, "expand": ["a", "b"]}


def test_create_and_retrieve_session(stub, client):
    expires = int(time.time()) + 3600
    s = client.v1.checkout.sessions.create(params=donation_params(expires_at=expires))
    assert s.object == "checkout.session" and s.id.startswith("cs_test_")
    assert s.url == f"{stub.base_url}/pay/{s.id}"
    assert (s.amount_total, s.currency, s.status, s.payment_status) == (50000, "vnd", "open", "unpaid")
    assert s.metadata["donation_id"] == "42" and s.client_reference_id == "42"
    assert s.payment_intent is None and s.livemode is False and s.expires_at == expires
    assert "{CHECKOUT_SESSION_ID}" in s.success_url  # Stripe substitutes only on redirect

    sent = stub.find_requests("POST", "/v1/checkout/sessions")[0].params
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "50000"
    assert sent["metadata"] == {"donation_id": "42"} and sent["line_items"][0]["quantity"] == "1"

    again = client.v1.checkout.sessions.retrieve(s.id)
    assert again.id == s.id and again.amount_total == 50000
    items = client.v1.checkout.sessions.line_items.list(s.id)
    assert items.data[0].description == "Donation to HPCPF" and items.data[0].price.unit_amount == 50000


def test_idempotency_key_replays(stub, client):
    opts = {"idempotency_key": "donation-42"}
    a = client.v1.checkout.sessions.create(params=donation_params(), options=opts)
    b = client.v1.checkout.sessions.create(params=donation_params(), options=opts)
    assert a.id == b.id and len(stub.sessions) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params=donation_params(amount=1), options=opts)


def test_list_paginates_newest_first_with_filters(stub, client):
    ids = [client.v1.checkout.sessions.create(params=donation_params(i)).id for i in range(7)]
    page = client.v1.checkout.sessions.list(params={"limit": 3})
    assert page.object == "list" and page.has_more is True and [x.id for x in page.data] == ids[::-1][:3]
    listed = [x.id for x in page.auto_paging_iter()]
    assert listed == ids[::-1]
    assert len(stub.find_requests("GET", "/v1/checkout/sessions")) == 3

    stub.complete_session(ids[2])
    assert [x.id for x in client.v1.checkout.sessions.list(params={"status": "complete"})] == [ids[2]]
    future = int(time.time()) + 60
    assert client.v1.checkout.sessions.list(params={"created": {"gte": future}}).data == []
    past = client.v1.checkout.sessions.list(params={"created": {"gte": future - 3600}, "limit": 100})
    assert len(past.data) == 7


def test_errors_become_library_exceptions(stub, client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"

    bad = stripe.StripeClient(api_key="sk_test_wrong", base_addresses={"api": stub.base_url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.checkout.sessions.list()

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params={**donation_params(), "metdata": {"x": "1"}})
    assert exc.value.code == "parameter_unknown" and exc.value.param == "metdata"

    params = donation_params()
    del params["line_items"][0]["price_data"]["unit_amount"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=params)
    assert exc.value.param == "line_items[0][price_data][unit_amount]"

    stub.fail_next(503)
    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.list()
    assert client.v1.checkout.sessions.list().data == []  # only the next request failed


def test_complete_then_retrieve_shows_paid(stub, client):
    s = client.v1.checkout.sessions.create(params=donation_params())
    event = stub.complete_session(s.id)
    assert event["type"] == "checkout.session.completed" and event["object"] == "event"
    assert event["id"].startswith("evt_") and event["livemode"] is False
    obj = event["data"]["object"]
    assert obj["payment_status"] == "paid" and obj["metadata"] == {"donation_id": "42"}

    got = client.v1.checkout.sessions.retrieve(s.id, params={"expand": ["payment_intent.latest_charge"]})
    assert (got.status, got.payment_status, got.url) == ("complete", "paid", None)
    assert got.customer_details.email == "donor@example.com"
    assert got.payment_intent.status == "succeeded" and got.payment_intent.latest_charge.paid is True
    pi = client.v1.payment_intents.retrieve(obj["payment_intent"])
    assert pi.amount_received == 50000 and pi.latest_charge.startswith("ch_")
    assert stub.success_url_for(s.id) == f"https://app.test/donate/thanks?session_id={s.id}"


def test_async_payment_and_expiry_events(stub, client):
    s = client.v1.checkout.sessions.create(params=donation_params())
    assert stub.complete_session(s.id, paid=False)["data"]["object"]["payment_status"] == "unpaid"
    ev = stub.async_payment_succeeded(s.id)
    assert ev["type"] == "checkout.session.async_payment_succeeded"
    assert client.v1.checkout.sessions.retrieve(s.id).payment_status == "paid"

    s2 = client.v1.checkout.sessions.create(params=donation_params(43))
    stub.complete_session(s2.id, paid=False)
    assert stub.async_payment_failed(s2.id)["data"]["object"]["payment_status"] == "unpaid"

    s3 = client.v1.checkout.sessions.create(params=donation_params(44))
    assert stub.expire_session(s3.id)["type"] == "checkout.session.expired"
    s4 = client.v1.checkout.sessions.create(params=donation_params(45))
    assert client.v1.checkout.sessions.expire(s4.id).status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(s4.id)
    assert [e["type"] for e in stub.events][-1] == "checkout.session.expired"


def test_refunds(stub, client):
    s = client.v1.checkout.sessions.create(params=donation_params())
    pi = stub.complete_session(s.id)["data"]["object"]["payment_intent"]
    r = client.v1.refunds.create(params={"payment_intent": pi, "amount": 20000})
    assert (r.object, r.amount, r.currency, r.status, r.payment_intent) == ("refund", 20000, "vnd", "succeeded", pi)
    ev = stub.events[-1]
    assert ev["type"] == "charge.refunded" and ev["request"]["id"] is not None
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi, "amount": 40000})
    assert exc.value.code == "amount_too_large"

    ev = stub.refund(s.id)  # the rest, as if from the Dashboard
    charge = ev["data"]["object"]
    assert (charge["object"], charge["amount"], charge["amount_refunded"], charge["refunded"]) == (
        "charge", 50000, 50000, True)
    assert charge["payment_intent"] == pi and len(charge["refunds"]["data"]) == 2
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": "pi_missing"})


def test_signature_round_trip(stub, client):
    s = client.v1.checkout.sessions.create(params=donation_params())
    body, headers = signed_webhook(stub.complete_session(s.id), SECRET)
    event = client.construct_event(body, headers["Stripe-Signature"], SECRET)
    assert event.type == "checkout.session.completed" and event.data.object.id == s.id
    assert stripe.Webhook.construct_event(body, sign_payload(body.decode(), SECRET), SECRET).id == event.id

    with pytest.raises(stripe.SignatureVerificationError):
        client.construct_event(body.replace(b"50000", b"50001"), headers["Stripe-Signature"], SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        client.construct_event(body, sign_payload(body, "whsec_other"), SECRET)
    with pytest.raises(stripe.SignatureVerificationError):  # older than the 300 s tolerance
        client.construct_event(body, sign_payload(body, SECRET, int(time.time()) - 600), SECRET)
    assert json.loads(event_body(json.loads(body))) == json.loads(body)


def test_hosted_page_delivers_signed_webhook_then_redirects():
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(stripe.Webhook.construct_event(body, self.headers["Stripe-Signature"], SECRET))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with StripeStub(webhook_url=f"http://127.0.0.1:{hook.server_port}/hook", webhook_secret=SECRET) as stub:
            s = stub.client().v1.checkout.sessions.create(params=donation_params())
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)
            with opener.open(s.url) as page:
                assert b"50000 VND" in page.read()
            with pytest.raises(urllib.error.HTTPError) as exc:
                opener.open(urllib.request.Request(s.url, data=b"action=pay"))
            exc.value.close()
            assert exc.value.code == 303
            assert exc.value.headers["Location"] == f"https://app.test/donate/thanks?session_id={s.id}"
            assert [e.type for e in received] == ["checkout.session.completed"]
            assert stub.deliveries == [(received[0].id, 200)]
    finally:
        hook.shutdown()
        hook.server_close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

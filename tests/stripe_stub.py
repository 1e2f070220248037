"""A small Stripe-compatible HTTP server for the test suite.

The app's tests talk to this stub through the real ``stripe`` library (16.x,
``StripeClient``) over plain HTTP on 127.0.0.1, so nothing mocks the library
and nothing reaches api.stripe.com::

    with StripeStub() as stub:
        client = stripe.StripeClient(
            api_key="sk_test_anything",
            base_addresses={"api": stub.base_url},
        )
        session = client.v1.checkout.sessions.create(params={...})
        event = stub.complete_session(session.id)       # the customer pays
        body = event_body(event)
        header = sign_payload(body, "whsec_test")       # real Stripe-Signature

Supported (test mode only, ``livemode`` is always false):

* ``POST /v1/checkout/sessions`` with ``mode=payment`` and ``price_data`` line
  items; ``GET /v1/checkout/sessions/{id}`` (``expand`` of ``payment_intent``,
  ``payment_intent.latest_charge``, ``line_items``); ``GET
  /v1/checkout/sessions`` (``created[gt|gte|lt|lte]``, ``status``,
  ``payment_intent``, ``customer_details[email]``, ``limit``,
  ``starting_after``, ``ending_before``; newest first); ``POST
  /v1/checkout/sessions/{id}/expire``; ``GET .../{id}/line_items``.
* ``POST /v1/refunds`` (``payment_intent`` or ``charge``, optional ``amount``,
  ``reason``, ``metadata``), ``GET /v1/refunds/{id}``, ``GET
  /v1/payment_intents/{id}``, ``GET /v1/charges/{id}``, ``GET /v1/events/{id}``.
* Stripe-shaped errors: unknown id -> 404 ``resource_missing``; unknown
  top-level parameter -> 400 ``parameter_unknown`` (the allowed names come from
  the installed library's ``*Params`` TypedDicts); missing/invalid parameters
  -> 400; missing/invalid key -> 401. Error responses carry
  ``Stripe-Should-Retry: false`` so the library never sleeps and retries.
* ``Idempotency-Key`` replay (same key + same params -> same response; other
  params -> 400 ``idempotency_error``), ``Request-Id`` headers.
* A hosted "payment page" at ``session.url`` (``/pay/{id}``) with Pay / Pay by
  bank transfer / Cancel buttons that redirect to ``success_url`` (with
  ``{CHECKOUT_SESSION_ID}`` substituted) or ``cancel_url``, for browser tests.
* Events (``checkout.session.completed`` / ``.async_payment_succeeded`` /
  ``.async_payment_failed`` / ``.expired``, ``charge.refunded``) are kept in
  ``stub.events``; if ``webhook_url`` and ``webhook_secret`` are given they
  are also POSTed there, signed, synchronously (before the /pay redirect).

Subscriptions (``mode=subscription`` with ``price_data[recurring][interval]``):
completing such a session creates a customer, a price, a subscription and its
first invoice, paid, with the events ``checkout.session.completed`` and
``invoice.paid`` (API 2025+ shapes: ``invoice.parent.subscription_details`` and
``invoice.payments``). ``stub.renew(sub_id)`` bills the next month
(``invoice.paid``), ``stub.renew(sub_id, paid=False)`` fails it
(``invoice.payment_failed``, subscription ``past_due``), ``stub.give_up(sub_id)``
ends it after failed retries (``customer.subscription.deleted`` with reason
``payment_failed``). API: ``GET/POST /v1/subscriptions/{id}`` (update
``pause_collection``, ``metadata``, ``cancel_at_period_end``), ``DELETE
/v1/subscriptions/{id}`` (cancel -> ``customer.subscription.deleted``), ``GET
/v1/invoices/{id}``, ``GET /v1/prices/{id}``, ``GET /v1/customers/{id}``.

Not supported: setup mode, ``price`` ids in line items, tax, discounts,
Connect, v2 APIs, amount limits per currency, partial captures, proration.
All amounts are integers in the currency's smallest unit; VND is zero-decimal,
so 50 000 đồng is ``unit_amount=50000``. ``stub.requests`` logs every request
(method, path, decoded params, headers, status) so tests can assert what the
app sent.
"""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl

import stripe
from stripe._request_options import RequestOptions
from stripe.params import RefundCreateParams, SubscriptionCancelParams, SubscriptionUpdateParams
from stripe.params.checkout import SessionCreateParams, SessionListParams
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_VERSION: str = stripe.api_version
_OPTION_KEYS = set(RequestOptions.__annotations__)
_SESSION_CREATE_PARAMS = set(SessionCreateParams.__annotations__) - _OPTION_KEYS
_SESSION_LIST_PARAMS = set(SessionListParams.__annotations__) - _OPTION_KEYS
_REFUND_CREATE_PARAMS = set(RefundCreateParams.__annotations__) - _OPTION_KEYS
_SUB_UPDATE_PARAMS = set(SubscriptionUpdateParams.__annotations__) - _OPTION_KEYS
_SUB_CANCEL_PARAMS = set(SubscriptionCancelParams.__annotations__) - _OPTION_KEYS
_ALNUM = string.ascii_letters + string.digits


def _new_id(prefix: str, n: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(n))


class StubError(ValueError):
    """A Stripe API error; also raised by the helpers when misused."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 param: str | None = None, type: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.param, self.type = param, type

    def body(self) -> dict:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        return {"error": err}


def _missing(name: str) -> StubError:
    return StubError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)


def _no_such(kind: str, id_: str, param: str = "id") -> StubError:
    return StubError(404, f"No such {kind}: '{id_}'", code="resource_missing", param=param)


def _int(value: Any, name: str) -> int:
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
        return int(value)
    raise StubError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=name)


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """Decode Stripe's bracket form encoding (``a[b][0][c]=v``) into nested
    dicts; dicts whose keys are exactly 0..n-1 become lists."""
    root: dict = {}
    for key, value in pairs:
        head, bracket, rest = key.partition("[")
        parts = [head] + (re.findall(r"\[([^\]]*)\]", bracket + rest) if bracket else [])
        node = root
        for i, part in enumerate(parts):
            if not isinstance(node, dict):
                raise StubError(400, f"Invalid parameter structure: {key}", param=key)
            part = part or str(len(node))  # "expand[]=x" appends
            if i == len(parts) - 1:
                node[part] = value
            else:
                node = node.setdefault(part, {})

    def listify(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        node = {k: listify(v) for k, v in node.items()}
        if node and sorted(node) == sorted(str(i) for i in range(len(node))):
            return [node[str(i)] for i in range(len(node))]
        return node

    return {k: listify(v) for k, v in root.items()}  # top-level stays a dict


def sign_payload(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value (``t=…,v1=…``), computed by the
    library's own ``WebhookSignature.generate_signature_header``."""
    if isinstance(payload, (bytes, bytearray)):
        payload = payload.decode("utf-8")
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def event_body(event: dict) -> bytes:
    """The JSON body Stripe would POST to a webhook endpoint."""
    return json.dumps(event, indent=2).encode("utf-8")


def signed_webhook(event: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, dict]:
    """``(body, headers)`` ready for ``flask_client.post(url, data=body, headers=headers)``."""
    body = event_body(event)
    return body, {"Content-Type": "application/json; charset=utf-8",
                  "Stripe-Signature": sign_payload(body, secret, timestamp)}


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict
    headers: dict
    status: int = 0


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log noise
        pass


class StripeStub:
    """In-memory Stripe test-mode account served over HTTP on 127.0.0.1.

    ``api_key=None`` accepts any ``sk_test_…``/``rk_test_…`` key; otherwise
    only that exact key. Live keys are always rejected.
    """

    def __init__(self, *, api_key: str | None = None, webhook_url: str | None = None,
                 webhook_secret: str | None = None, host: str = "127.0.0.1", port: int = 0):
        self.api_key, self.webhook_url, self.webhook_secret = api_key, webhook_url, webhook_secret
        self.host, self.port = host, port
        self.clock: Callable[[], int] = lambda: int(time.time())
        self._lock = threading.RLock()
        self._server = self._thread = None
        self.base_url = ""
        self.reset()

    # ---- lifecycle -----------------------------------------------------
    def reset(self) -> None:
        """Forget all objects, events, logged requests and queued failures."""
        with self._lock:
            self.sessions: dict[str, dict] = {}
            self.payment_intents: dict[str, dict] = {}
            self.charges: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.subscriptions: dict[str, dict] = {}
            self.invoices: dict[str, dict] = {}
            self.prices: dict[str, dict] = {}
            self.customers: dict[str, dict] = {}
            self.events: list[dict] = []
            self.requests: list[RecordedRequest] = []
            self.deliveries: list[tuple[str, int | None]] = []  # (event id, HTTP status)
            self._line_items: dict[str, list[dict]] = {}
            self._idempotency: dict[str, tuple] = {}
            self._failures: list[StubError] = []
            self._outbox: list[dict] = []
            self._ctx: dict = {"id": None, "idempotency_key": None}

    def start(self) -> "StripeStub":
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self.base_url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def __enter__(self) -> "StripeStub":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def client(self, api_key: str | None = None, **kwargs: Any) -> stripe.StripeClient:
        """A real ``StripeClient`` pointed at this stub."""
        return stripe.StripeClient(api_key=api_key or self.api_key or "sk_test_stub",
                                   base_addresses={"api": self.base_url}, **kwargs)

    # ---- test-side helpers ---------------------------------------------
    def find_requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests
                if (method is None or r.method == method.upper()) and (path is None or r.path == path)]

    def fail_next(self, status: int = 500, message: str = "Simulated Stripe outage",
                  *, error_type: str = "api_error", code: str | None = None) -> None:
        """Make the next API request fail with this Stripe error."""
        self._failures.append(StubError(status, message, code=code, type=error_type))

    def success_url_for(self, session_id: str) -> str | None:
        s = self._session(session_id)
        return s["success_url"] and s["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)

    def complete_session(self, session_id: str, *, paid: bool = True,
                         amount_total: int | None = None, currency: str | None = None) -> dict:
        """The customer finishes Checkout. ``paid=False`` models delayed methods
        (bank transfer): status complete, payment_status unpaid."""
        return self._helper(self._complete, session_id, paid, amount_total, currency)

    def async_payment_succeeded(self, session_id: str) -> dict:
        return self._helper(self._settle_async, session_id, True)

    def async_payment_failed(self, session_id: str) -> dict:
        return self._helper(self._settle_async, session_id, False)

    def expire_session(self, session_id: str) -> dict:
        return self._helper(self._expire, session_id)

    def refund(self, target: str, amount: int | None = None, reason: str | None = None) -> dict:
        """Refund a session (``cs_…``), payment intent (``pi_…``) or charge
        (``ch_…``) as if from the Dashboard; returns the charge.refunded event."""
        return self._helper(lambda: self._refund(target, amount, reason, {})[1])

    def renew(self, sub_id: str, *, paid: bool = True) -> dict:
        """Bill the next month: ``invoice.paid``, or ``invoice.payment_failed``."""
        return self._helper(self._bill, sub_id, "subscription_cycle", paid)

    def give_up(self, sub_id: str) -> dict:
        """Smart Retries exhausted: the subscription is canceled for non-payment."""
        return self._helper(self._cancel_sub, sub_id, "payment_failed")

    def _helper(self, fn: Callable, *args: Any) -> dict:
        with self._lock:
            self._ctx = {"id": None, "idempotency_key": None}
            event = fn(*args)
        self._flush_webhooks()
        return event

    # ---- state transitions (call with the lock held) -------------------
    def _session(self, sid: str) -> dict:
        if sid not in self.sessions:
            raise _no_such("checkout.session", sid, "session")
        return self.sessions[sid]

    def _event(self, type_: str, obj: dict) -> dict:
        event = {"id": _new_id("evt_1"), "object": "event", "api_version": API_VERSION,
                 "created": self.clock(), "data": {"object": self._public(obj)},
                 "livemode": False, "pending_webhooks": 1, "request": dict(self._ctx),
                 "type": type_}
        self.events.append(event)
        self._outbox.append(event)
        return copy.deepcopy(event)

    def _complete(self, sid: str, paid: bool, amount_total: int | None, currency: str | None) -> dict:
        s = self._session(sid)
        if s["status"] != "open":
            raise StubError(400, f"Checkout Session {sid} is {s['status']}, not open")
        if s["mode"] == "subscription":
            return self._complete_subscription(s)
        s["amount_total"] = s["amount_total"] if amount_total is None else amount_total
        s["currency"] = (currency or s["currency"]).lower()
        now, amount = self.clock(), s["amount_total"]
        pi_id, ch_id = _new_id("pi_3"), _new_id("ch_3")
        self.charges[ch_id] = {
            "id": ch_id, "object": "charge", "amount": amount,
            "amount_captured": amount if paid else 0, "amount_refunded": 0, "captured": paid,
            "created": now, "currency": s["currency"], "livemode": False, "metadata": {},
            "paid": paid, "payment_intent": pi_id, "refunded": False,
            "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                        "url": f"/v1/charges/{ch_id}/refunds"},
            "status": "succeeded" if paid else "pending"}
        self.payment_intents[pi_id] = {
            "id": pi_id, "object": "payment_intent", "amount": amount,
            "amount_received": amount if paid else 0, "created": now, "currency": s["currency"],
            "latest_charge": ch_id, "livemode": False, "metadata": s.pop("_pi_metadata", {}),
            "status": "succeeded" if paid else "processing"}
        s.update(status="complete", payment_status="paid" if paid else "unpaid",
                 payment_intent=pi_id, url=None,
                 customer_details={"address": None, "email": s["customer_email"] or "customer@example.com",
                                   "name": "Test Customer", "phone": None, "tax_exempt": "none",
                                   "tax_ids": []})
        return self._event("checkout.session.completed", s)

    def _complete_subscription(self, s: dict) -> dict:
        now = self.clock()
        email = s["customer_email"] or "customer@example.com"
        cus = {"id": _new_id("cus_", 14), "object": "customer", "created": now, "email": email,
               "livemode": False, "metadata": {}, "name": "Test Customer"}
        self.customers[cus["id"]] = cus
        item = self._line_items[s["id"]][0]
        price = item["price"]
        self.prices[price["id"]] = price
        sub_id = _new_id("sub_1")
        sub = {"id": sub_id, "object": "subscription", "billing_cycle_anchor": now,
               "cancel_at": None, "cancel_at_period_end": False, "canceled_at": None,
               "cancellation_details": {"comment": None, "feedback": None, "reason": None},
               "collection_method": "charge_automatically", "created": now, "currency": s["currency"],
               "customer": cus["id"], "ended_at": None, "latest_invoice": None, "livemode": False,
               "items": {"object": "list", "data": [{"id": _new_id("si_", 14), "object": "subscription_item",
                                                      "price": copy.deepcopy(price), "quantity": item["quantity"],
                                                      "current_period_start": now,
                                                      "current_period_end": now + 30 * 86400}],
                         "has_more": False, "url": f"/v1/subscription_items?subscription={sub_id}"},
               "metadata": dict(s.pop("_sub_metadata", {})), "pause_collection": None,
               "start_date": now, "status": "incomplete"}
        self.subscriptions[sub_id] = sub
        invoice_event = self._bill(sub_id, "subscription_create", True, emit=False)
        s.update(status="complete", payment_status="paid", customer=cus["id"], subscription=sub_id,
                 invoice=sub["latest_invoice"], url=None,
                 customer_details={"address": None, "email": email, "name": "Test Customer", "phone": None,
                                   "tax_exempt": "none", "tax_ids": []})
        completed = self._event("checkout.session.completed", s)
        self._emit(invoice_event)  # Stripe does not promise an order; the app must not care
        return completed

    def _bill(self, sub_id: str, reason: str, paid: bool, emit: bool = True) -> dict:
        if sub_id not in self.subscriptions:
            raise _no_such("subscription", sub_id, "subscription")
        sub = self.subscriptions[sub_id]
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StubError(400, f"Subscription {sub_id} is {sub['status']}")
        now, item = self.clock(), sub["items"]["data"][0]
        amount = item["price"]["unit_amount"] * item["quantity"]
        pi_id, ch_id, in_id = _new_id("pi_3"), _new_id("ch_3"), _new_id("in_1")
        self.charges[ch_id] = {
            "id": ch_id, "object": "charge", "amount": amount, "amount_captured": amount if paid else 0,
            "amount_refunded": 0, "captured": paid, "created": now, "currency": sub["currency"],
            "livemode": False, "metadata": {}, "paid": paid, "payment_intent": pi_id, "refunded": False,
            "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                        "url": f"/v1/charges/{ch_id}/refunds"},
            "status": "succeeded" if paid else "failed",
            "failure_message": None if paid else "Your card was declined."}
        self.payment_intents[pi_id] = {
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_received": amount if paid else 0,
            "created": now, "currency": sub["currency"], "latest_charge": ch_id, "livemode": False,
            "metadata": {}, "status": "succeeded" if paid else "requires_payment_method",
            "last_payment_error": None if paid else {"code": "card_declined", "decline_code": "insufficient_funds",
                                                     "message": "Your card has insufficient funds.",
                                                     "type": "card_error"}}
        customer = self.customers.get(sub["customer"]) or {}
        invoice = {
            "id": in_id, "object": "invoice", "amount_due": amount, "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount, "attempt_count": 1, "attempted": True,
            "billing_reason": reason, "collection_method": "charge_automatically", "created": now,
            "currency": sub["currency"], "customer": sub["customer"], "customer_email": customer.get("email"),
            "lines": {"object": "list", "data": [{"id": _new_id("il_1"), "object": "line_item",
                                                  "amount": amount, "currency": sub["currency"],
                                                  "description": f"1 × {item['price'].get('nickname') or 'Monthly'}",
                                                  "period": {"start": now, "end": now + 30 * 86400},
                                                  "quantity": item["quantity"]}],
                      "has_more": False, "url": f"/v1/invoices/{in_id}/lines"},
            "livemode": False, "metadata": {},
            "next_payment_attempt": None if paid else now + 3 * 86400,
            "parent": {"type": "subscription_details", "quote_details": None,
                       "subscription_details": {"metadata": copy.deepcopy(sub["metadata"]),
                                                "subscription": sub_id}},
            "payments": {"object": "list", "data": [{
                "id": _new_id("inpay_1"), "object": "invoice_payment", "amount_paid": amount if paid else None,
                "amount_requested": amount, "currency": sub["currency"], "invoice": in_id, "is_default": True,
                "payment": {"type": "payment_intent", "payment_intent": pi_id},
                "status": "paid" if paid else "open"}], "has_more": False,
                "url": f"/v1/invoice_payments?invoice={in_id}"},
            "period_start": now, "period_end": now + 30 * 86400,
            "status": "paid" if paid else "open", "total": amount}
        self.invoices[in_id] = invoice
        sub["latest_invoice"] = in_id
        sub["status"] = "active" if paid else ("past_due" if reason == "subscription_cycle" else "incomplete")
        event_type = "invoice.paid" if paid else "invoice.payment_failed"
        if not emit:
            return {"type": event_type, "object": invoice}
        return self._event(event_type, invoice)

    def _emit(self, pending: dict) -> dict:
        return self._event(pending["type"], pending["object"])

    def _cancel_sub(self, sub_id: str, reason: str = "cancellation_requested") -> dict:
        if sub_id not in self.subscriptions:
            raise _no_such("subscription", sub_id, "subscription_exposed_id")
        sub = self.subscriptions[sub_id]
        if sub["status"] == "canceled":
            raise StubError(400, "A canceled subscription can only update its cancellation_details "
                            "and metadata.", code="resource_missing")
        now = self.clock()
        sub.update(status="canceled", canceled_at=now, ended_at=now,
                   cancellation_details={"comment": None, "feedback": None, "reason": reason})
        return self._event("customer.subscription.deleted", sub)

    def _update_sub(self, sub_id: str, p: dict) -> dict:
        unknown = sorted(set(p) - _SUB_UPDATE_PARAMS)
        if unknown:
            raise StubError(400, f"Received unknown parameter: {unknown[0]}", code="parameter_unknown",
                            param=unknown[0])
        if sub_id not in self.subscriptions:
            raise _no_such("subscription", sub_id, "subscription_exposed_id")
        sub = self.subscriptions[sub_id]
        if sub["status"] == "canceled":
            raise StubError(400, "A canceled subscription can only update its cancellation_details "
                            "and metadata.")
        previous = {}
        if "pause_collection" in p:
            pc = p["pause_collection"]
            previous["pause_collection"] = sub["pause_collection"]
            if pc in ("", None):
                sub["pause_collection"] = None
            else:
                if not isinstance(pc, dict) or pc.get("behavior") not in ("keep_as_draft", "mark_uncollectible", "void"):
                    raise StubError(400, "Invalid pause_collection[behavior]", param="pause_collection[behavior]")
                sub["pause_collection"] = {"behavior": pc["behavior"],
                                           "resumes_at": _int(pc["resumes_at"], "resumes_at") if pc.get("resumes_at") else None}
        if "metadata" in p:
            previous["metadata"] = copy.deepcopy(sub["metadata"])
            sub["metadata"].update(p["metadata"] or {})
        if "cancel_at_period_end" in p:
            previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
            sub["cancel_at_period_end"] = str(p["cancel_at_period_end"]).lower() == "true"
        event = self._event("customer.subscription.updated", sub)
        self.events[-1]["data"]["previous_attributes"] = previous
        return self._public(sub)

    def _settle_async(self, sid: str, ok: bool) -> dict:
        s = self._session(sid)
        if s["status"] != "complete" or s["payment_status"] != "unpaid":
            raise StubError(400, f"Checkout Session {sid} has no pending delayed payment")
        pi = self.payment_intents[s["payment_intent"]]
        ch = self.charges[pi["latest_charge"]]
        if ok:
            s["payment_status"] = "paid"
            pi.update(status="succeeded", amount_received=pi["amount"])
            ch.update(status="succeeded", paid=True, captured=True, amount_captured=ch["amount"])
            return self._event("checkout.session.async_payment_succeeded", s)
        pi["status"] = "requires_payment_method"
        ch["status"] = "failed"
        return self._event("checkout.session.async_payment_failed", s)

    def _expire(self, sid: str) -> dict:
        s = self._session(sid)
        if s["status"] != "open":
            raise StubError(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
        s.update(status="expired", url=None)
        return self._event("checkout.session.expired", s)

    def _refund(self, target: str, amount: Any, reason: str | None, metadata: dict) -> tuple[dict, dict]:
        if target.startswith("cs_"):
            target = self._session(target)["payment_intent"] or ""
            if not target:
                raise StubError(400, "This Checkout Session has no payment to refund.")
        if target.startswith("ch_"):
            if target not in self.charges:
                raise _no_such("charge", target, "charge")
            ch = self.charges[target]
        else:
            if target not in self.payment_intents:
                raise _no_such("payment_intent", target, "payment_intent")
            ch = self.charges[self.payment_intents[target]["latest_charge"]]
        if ch["status"] != "succeeded":
            raise StubError(400, f"This PaymentIntent ({ch['payment_intent']}) does not have a successful charge to refund.")
        left = ch["amount"] - ch["amount_refunded"]
        if left <= 0:
            raise StubError(400, f"Charge {ch['id']} has already been refunded.",
                            code="charge_already_refunded")
        amount = left if amount is None else _int(amount, "amount")
        if amount <= 0:
            raise StubError(400, "Refund amount must be positive.", param="amount")
        if amount > left:
            raise StubError(400, f"Refund amount ({amount} {ch['currency']}) is greater than unrefunded "
                            f"amount on charge ({left} {ch['currency']})", code="amount_too_large",
                            param="amount")
        rf = {"id": _new_id("re_3"), "object": "refund", "amount": amount, "charge": ch["id"],
              "created": self.clock(), "currency": ch["currency"], "metadata": metadata,
              "payment_intent": ch["payment_intent"], "reason": reason, "status": "succeeded"}
        self.refunds[rf["id"]] = rf
        ch["amount_refunded"] += amount
        ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
        ch["refunds"]["data"].insert(0, rf)
        ch["refunds"]["total_count"] += 1
        return copy.deepcopy(rf), self._event("charge.refunded", ch)

    # ---- API handlers --------------------------------------------------
    def _create_session(self, p: dict) -> dict:
        unknown = sorted(set(p) - _SESSION_CREATE_PARAMS)
        if unknown:
            raise StubError(400, f"Received unknown parameter: {unknown[0]}", code="parameter_unknown",
                            param=unknown[0])
        if not p.get("mode"):
            raise _missing("mode")
        if p["mode"] not in ("payment", "subscription"):
            raise StubError(400, f"The stub supports mode=payment and subscription, not {p['mode']!r}",
                            param="mode")
        subscription = p["mode"] == "subscription"
        if subscription:
            for key in ("payment_intent_data", "submit_type"):
                if key in p:
                    raise StubError(400, f"You can not pass `{key}` in `subscription` mode.", param=key)
        items = p.get("line_items")
        if not items:
            raise _missing("line_items")
        if not isinstance(items, list):
            raise StubError(400, "Invalid array", param="line_items")
        currency = (p.get("currency") or "").lower() or None
        line_items, total = [], 0
        for i, item in enumerate(items):
            pre = f"line_items[{i}]"
            pd = item.get("price_data") if isinstance(item, dict) else None
            if not isinstance(pd, dict):
                if isinstance(item, dict) and item.get("price"):
                    raise _no_such("price", item["price"], f"{pre}[price]")
                raise _missing(f"{pre}[price_data]")
            for key in ("currency", "unit_amount"):
                if pd.get(key) in (None, ""):
                    raise _missing(f"{pre}[price_data][{key}]")
            name = (pd.get("product_data") or {}).get("name")
            if not name and not pd.get("product"):
                raise _missing(f"{pre}[price_data][product_data][name]")
            recurring = pd.get("recurring")
            if subscription and not (isinstance(recurring, dict) and recurring.get("interval")):
                raise StubError(400, "You must specify `recurring` in `price_data` when using "
                                "`subscription` mode.", param=f"{pre}[price_data][recurring]")
            if not subscription and recurring:
                raise StubError(400, "You specified `payment` mode but passed a recurring price. Either "
                                "switch to `subscription` mode or use only one-time prices.", param=pre)
            if recurring and recurring.get("interval") not in ("day", "week", "month", "year"):
                raise StubError(400, "Invalid recurring[interval]", param=f"{pre}[price_data][recurring][interval]")
            unit = _int(pd["unit_amount"], f"{pre}[price_data][unit_amount]")
            if item.get("quantity") in (None, ""):
                raise _missing(f"{pre}[quantity]")
            qty = _int(item["quantity"], f"{pre}[quantity]")
            if unit < 0 or qty < 1:
                raise StubError(400, "Amounts must be >= 0 and quantity >= 1", param=pre)
            cur = pd["currency"].lower()
            if currency and cur != currency:
                raise StubError(400, f"Line item currency {cur} does not match session currency {currency}",
                                param=f"{pre}[price_data][currency]")
            currency = cur
            total += unit * qty
            line_items.append({"id": _new_id("li_1"), "object": "item", "amount_discount": 0,
                               "amount_subtotal": unit * qty, "amount_tax": 0, "amount_total": unit * qty,
                               "currency": cur, "description": name, "quantity": qty,
                               "price": {"id": _new_id("price_1"), "object": "price", "currency": cur,
                                         "unit_amount": unit, "product": pd.get("product") or _new_id("prod_"),
                                         "active": True, "livemode": False, "nickname": name,
                                         "recurring": ({"interval": recurring["interval"],
                                                        "interval_count": _int(recurring.get("interval_count", 1), "interval_count"),
                                                        "usage_type": "licensed"} if recurring else None),
                                         "type": "recurring" if recurring else "one_time"}})
        for key in ("success_url", "cancel_url"):
            if p.get(key) and not re.match(r"https?://", p[key]):
                raise StubError(400, "Not a valid URL", code="url_invalid", param=key)
        now = self.clock()
        expires_at = _int(p["expires_at"], "expires_at") if p.get("expires_at") else now + 86400
        if not now + 1800 - 5 <= expires_at <= now + 86400 + 5:
            raise StubError(400, "The `expires_at` timestamp must be between 30 minutes and 24 hours "
                            "from Checkout Session creation.", param="expires_at")
        sid = _new_id("cs_test_a1", 56)
        self._line_items[sid] = line_items
        s = {"id": sid, "object": "checkout.session", "amount_subtotal": total, "amount_total": total,
             "cancel_url": p.get("cancel_url"), "client_reference_id": p.get("client_reference_id"),
             "created": now, "currency": currency, "customer": None, "customer_details": None,
             "customer_email": p.get("customer_email"), "expires_at": expires_at, "livemode": False,
             "locale": p.get("locale"), "metadata": p.get("metadata") or {}, "mode": p["mode"],
             "subscription": None, "invoice": None,
             "_sub_metadata": (p.get("subscription_data") or {}).get("metadata") or {},
             "payment_intent": None, "payment_method_types": p.get("payment_method_types") or ["card"],
             "payment_status": "unpaid", "status": "open", "submit_type": p.get("submit_type"),
             "success_url": p.get("success_url"), "ui_mode": "hosted",
             "url": f"{self.base_url}/pay/{sid}",
             "_pi_metadata": (p.get("payment_intent_data") or {}).get("metadata") or {}}
        self.sessions[sid] = s
        return self._public(s)

    def _list_sessions(self, p: dict) -> dict:
        unknown = sorted(set(p) - _SESSION_LIST_PARAMS)
        if unknown:
            raise StubError(400, f"Received unknown parameter: {unknown[0]}", code="parameter_unknown",
                            param=unknown[0])
        limit = _int(p.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise StubError(400, "This value must be between 1 and 100.", param="limit")
        rows = list(reversed(self.sessions.values()))  # newest first
        created = p.get("created")
        if created is not None:
            bounds = created if isinstance(created, dict) else {"eq": created}
            ops = {"eq": int.__eq__, "gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
            for op, val in bounds.items():
                if op not in ops:
                    raise StubError(400, f"Received unknown parameter: created[{op}]", code="parameter_unknown")
                rows = [s for s in rows if ops[op](s["created"], _int(val, f"created[{op}]"))]
        for key in ("status", "payment_intent"):
            if p.get(key):
                rows = [s for s in rows if s[key] == p[key]]
        email = (p.get("customer_details") or {}).get("email")
        if email:
            rows = [s for s in rows if (s["customer_details"] or {}).get("email") == email]
        ids = [s["id"] for s in rows]
        if p.get("starting_after"):
            if p["starting_after"] not in self.sessions:
                raise _no_such("checkout.session", p["starting_after"], "starting_after")
            rest = rows[ids.index(p["starting_after"]) + 1:] if p["starting_after"] in ids else []
            page, has_more = rest[:limit], len(rest) > limit
        elif p.get("ending_before"):
            if p["ending_before"] not in self.sessions:
                raise _no_such("checkout.session", p["ending_before"], "ending_before")
            before = rows[:ids.index(p["ending_before"])] if p["ending_before"] in ids else []
            page, has_more = before[-limit:], len(before) > limit
        else:
            page, has_more = rows[:limit], len(rows) > limit
        expand = [e[len("data."):] for e in p.get("expand") or [] if e.startswith("data.")]
        return {"object": "list", "data": [self._public(s, expand) for s in page],
                "has_more": has_more, "url": "/v1/checkout/sessions"}

    def _public(self, obj: dict, expand: list[str] | tuple = ()) -> dict:
        out = {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}
        for path in expand:
            head, _, rest = path.partition(".")
            if head == "line_items" and out.get("object") == "checkout.session":
                out["line_items"] = self._line_items_list(out["id"])
                continue
            value = out.get(head)
            store = {"pi_": self.payment_intents, "ch_": self.charges, "re_": self.refunds}
            target = store.get(str(value)[:3], {}).get(value)
            if value is not None and target is None:
                raise StubError(400, f"This property cannot be expanded ({head}).", param="expand")
            if target is not None:
                out[head] = self._public(target, [rest] if rest else [])
        return out

    def _line_items_list(self, sid: str) -> dict:
        self._session(sid)
        return {"object": "list", "data": copy.deepcopy(self._line_items[sid]), "has_more": False,
                "url": f"/v1/checkout/sessions/{sid}/line_items"}

    def _get(self, store: dict, kind: str, id_: str, p: dict) -> dict:
        if id_ not in store:
            raise _no_such(kind, id_)
        return self._public(store[id_], p.get("expand") or [])

    def _route(self, method: str, path: str, p: dict) -> dict:
        parts = path.strip("/").split("/")
        routes: dict[tuple, Callable[[], dict]] = {
            ("POST", 3): lambda: self._create_session(p),
            ("GET", 3): lambda: self._list_sessions(p),
            ("GET", 4): lambda: self._get(self.sessions, "checkout.session", parts[3], p),
            ("POST", 5, "expire"): lambda: self._public(self._expire(parts[3])["data"]["object"]),
            ("GET", 5, "line_items"): lambda: self._line_items_list(parts[3]),
        }
        if parts[:3] == ["v1", "checkout", "sessions"]:
            key = (method, len(parts)) + ((parts[4],) if len(parts) == 5 else ())
            if key in routes:
                return routes[key]()
        elif method == "POST" and parts == ["v1", "refunds"]:
            unknown = sorted(set(p) - _REFUND_CREATE_PARAMS)
            if unknown:
                raise StubError(400, f"Received unknown parameter: {unknown[0]}",
                                code="parameter_unknown", param=unknown[0])
            target = p.get("payment_intent") or p.get("charge")
            if not target:
                raise StubError(400, "One of the following params should be provided for this "
                                "request: payment_intent or charge.")
            return self._refund(target, p.get("amount"), p.get("reason"), p.get("metadata") or {})[0]
        elif len(parts) == 3 and parts[:2] == ["v1", "subscriptions"] and method in ("POST", "DELETE"):
            if method == "DELETE":
                unknown = sorted(set(p) - _SUB_CANCEL_PARAMS)
                if unknown:
                    raise StubError(400, f"Received unknown parameter: {unknown[0]}",
                                    code="parameter_unknown", param=unknown[0])
                self._cancel_sub(parts[2])
                return self._public(self.subscriptions[parts[2]])
            return self._update_sub(parts[2], p)
        elif method == "GET" and len(parts) == 3 and parts[0] == "v1":
            stores = {"payment_intents": (self.payment_intents, "payment_intent"),
                      "subscriptions": (self.subscriptions, "subscription"),
                      "invoices": (self.invoices, "invoice"), "prices": (self.prices, "price"),
                      "customers": (self.customers, "customer"),
                      "charges": (self.charges, "charge"), "refunds": (self.refunds, "refund"),
                      "events": ({e["id"]: e for e in self.events}, "event")}
            if parts[1] in stores:
                return self._get(*stores[parts[1]], parts[2], p)
        raise StubError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                        "https://stripe.com/docs or we can help at https://support.stripe.com/.")

    # ---- HTTP plumbing -------------------------------------------------
    def _auth_ok(self, header: str) -> bool:
        key = header[len("Bearer "):].strip() if header.startswith("Bearer ") else ""
        if self.api_key is not None:
            return key == self.api_key
        return bool(re.fullmatch(r"(sk|rk)_test_\w+", key))

    def _wsgi(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        if request.path.startswith("/pay/"):
            return self._pay_page(request)(environ, start_response)
        req_id = _new_id("req_", 14)
        headers = {"Content-Type": "application/json", "Request-Id": req_id,
                   "Stripe-Version": request.headers.get("Stripe-Version", API_VERSION)}
        idem = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        bad_params = None
        try:
            pairs = parse_qsl(request.query_string.decode(), keep_blank_values=True)
            if request.method == "POST":
                pairs += parse_qsl(request.get_data(as_text=True), keep_blank_values=True)
            params = decode_form(pairs)
        except StubError as e:
            params, bad_params = {}, e
        rec = RecordedRequest(request.method, request.path, params, dict(request.headers))
        with self._lock:
            self.requests.append(rec)
            self._ctx = {"id": req_id, "idempotency_key": idem}
            replay = self._idempotency.get(idem) if idem else None
            try:
                if not self._auth_ok(request.headers.get("Authorization", "")):
                    raise StubError(401, "Invalid API Key provided.")
                if self._failures:
                    raise self._failures.pop(0)
                if bad_params:
                    raise bad_params
                if replay and replay[0] != (request.path, params):
                    raise StubError(400, f"Keys for idempotent requests can only be used with the same "
                                    f"parameters they were first used with. Try using a key other than "
                                    f"'{idem}' if you meant to execute a different request.",
                                    type="idempotency_error")
                if replay:
                    status, body = replay[1], replay[2]
                    headers["Idempotent-Replayed"] = "true"
                else:
                    status, body = 200, self._route(request.method, request.path, params)
            except StubError as e:
                status, body = e.status, e.body()
                headers["Stripe-Should-Retry"] = "false"
            if idem and not replay and status < 500 and status != 401:
                self._idempotency[idem] = ((request.path, params), status, body)
            if idem:
                headers["Idempotency-Key"] = idem
            rec.status = status
        self._flush_webhooks()
        return Response(json.dumps(body), status=status, headers=headers)(environ, start_response)

    def _pay_page(self, request: Request) -> Response:
        """Stand-in for Stripe's hosted Checkout page (for browser tests)."""
        sid = request.path.split("/")[2]
        with self._lock:
            s = self.sessions.get(sid)
            if s is None or s["status"] != "open":
                return Response("This Checkout Session is no longer available.", status=404)
            if request.method == "POST":
                action = request.form.get("action")
                if action == "cancel":
                    return Response(status=303, headers={"Location": s["cancel_url"] or "/"})
                self._ctx = {"id": None, "idempotency_key": None}
                self._complete(sid, action != "bank_transfer", None, None)
        if request.method == "POST":
            self._flush_webhooks()  # like Stripe, the webhook may arrive before the redirect
            return Response(status=303, headers={"Location": self.success_url_for(sid) or "/"})
        name = html.escape(str(self._line_items[sid][0]["description"]))
        return Response(
            f"<!doctype html><title>Stripe stub checkout</title><h1>{name}</h1>"
            f"<p id=amount>{s['amount_total']} {s['currency'].upper()}</p><form method=post>"
            "<button name=action value=pay>Pay</button>"
            "<button name=action value=bank_transfer>Pay by bank transfer</button>"
            "<button name=action value=cancel>Cancel</button></form>", mimetype="text/html")

    def _flush_webhooks(self) -> None:
        with self._lock:
            pending, self._outbox = self._outbox, []
        if not (self.webhook_url and self.webhook_secret):
            return
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for event in pending:
            body, headers = signed_webhook(event, self.webhook_secret)
            req = urllib.request.Request(self.webhook_url, data=body, headers=headers, method="POST")
            try:
                with opener.open(req, timeout=10) as resp:
                    status: int | None = resp.status
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError:
                status = None
            self.deliveries.append((event["id"], status))


# The keys the app under test is given when pointed at the stub (tests/conftest.py
# `stripe_on`): signatures of test webhooks use TEST_WEBHOOK_SECRET.
TEST_SECRET_KEY = "sk_test_hai_phong_fund"
TEST_WEBHOOK_SECRET = "whsec_test_hai_phong"


def stripe_stub_fixture() -> Iterator[StripeStub]:
    """Generator for the `stripe_stub` fixture (tests/conftest.py)."""
    with StripeStub() as stub:
        yield stub

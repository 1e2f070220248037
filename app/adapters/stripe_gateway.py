"""The payment gateway: Stripe Checkout, or the application's own demo checkout.

The rest of the application sees only `CheckoutGateway` (create a session, list completed
sessions, find the session of a payment intent, verify a webhook) and plain dicts shaped
like Stripe's JSON. `StripeGateway` wraps the official library's `StripeClient`
(optionally pointed at a Stripe-compatible server through STRIPE_API_BASE);
`DemoGateway` serves a checkout page inside the app and signs its events with a dev-only
secret, so both modes run the very same webhook code, signature check included.

No Flask imports here: `gateway_for(config)` takes the config mapping.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol

import stripe

CURRENCY = "vnd"  # the only currency we take; VND is zero-decimal (unit_amount = đồng)


class GatewayError(Exception):
    """The payment provider could not be reached or refused the request."""


class ProviderNotFound(GatewayError):
    """The provider answered, and what we asked for does not exist there (HTTP 404,
    `resource_missing`): asking again will not help, unlike an outage."""


def _gateway_error(error: Exception) -> GatewayError:
    status = getattr(error, "http_status", None)
    code = getattr(error, "code", None)
    if status == 404 or code == "resource_missing":
        return ProviderNotFound(str(error))
    return GatewayError(str(error))


class InvalidSignature(Exception):
    """A webhook body whose signature is missing, wrong, stale or unparseable."""


class MalformedEvent(Exception):
    """A correctly signed webhook body that is not an event we can read (a list, null, a
    string where an object belongs, absurd nesting, NUL characters)."""


MAX_EVENT_DEPTH = 32
# Fields of a Checkout Session / Charge the handlers read: each must be a string when present.
_STRING_FIELDS = ("id", "object", "client_reference_id", "currency", "payment_intent",
                  "payment_status", "status")
_INT_FIELDS = ("amount_total", "amount_refunded")


def _walk_ok(value: Any, depth: int = 0) -> bool:
    """No deeper than MAX_EVENT_DEPTH, and no text PostgreSQL cannot store (NUL, lone surrogates)."""
    if depth > MAX_EVENT_DEPTH:
        return False
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return all(_walk_ok(k, depth + 1) and _walk_ok(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_walk_ok(v, depth + 1) for v in value)
    return True


def check_event_shape(event: Any) -> dict:
    """Return the event if it has the shape every handler relies on; else MalformedEvent."""
    if not isinstance(event, dict):
        raise MalformedEvent("the body is not a JSON object")
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise MalformedEvent("the event has no string id and type")
    if not _walk_ok(event):
        raise MalformedEvent("nesting too deep or text with NUL / invalid characters")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("data.object is not an object")
    for key in _STRING_FIELDS:
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise MalformedEvent(f"data.object.{key} is not a string")
    for key in _INT_FIELDS:
        if obj.get(key) is not None and (not isinstance(obj[key], int) or isinstance(obj[key], bool)):
            raise MalformedEvent(f"data.object.{key} is not a whole number")
    metadata = obj.get("metadata")
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(v, (str, type(None))) for v in metadata.values())):
        raise MalformedEvent("data.object.metadata is not an object of strings")
    refunds = obj.get("refunds")
    if refunds is not None:
        items = refunds.get("data") if isinstance(refunds, dict) else "not an object"
        if not isinstance(items, (list, type(None))) or not all(isinstance(r, dict) for r in items or []):
            raise MalformedEvent("data.object.refunds is not a list object")
    return event


@dataclass(frozen=True)
class CheckoutRequest:
    donation_id: int
    amount: int  # whole đồng
    description: str
    customer_email: str | None
    success_url: str  # may contain {CHECKOUT_SESSION_ID}
    cancel_url: str
    expires_in_minutes: int = 60
    locale: str = "vi"  # Stripe's hosted page: the site's language ("vi" or "en")


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class SubscriptionRequest:
    """A monthly card gift: Checkout in subscription mode with an inline monthly price."""

    recurring_gift_id: int
    amount: int  # whole đồng per month
    description: str
    customer_email: str | None
    success_url: str
    cancel_url: str
    expires_in_minutes: int = 60
    locale: str = "vi"


class CheckoutGateway(Protocol):
    demo: bool
    webhook_secret: str | None
    # Monthly gifts (StripeGateway only; DemoGateway.subscriptions is False):
    #   create_subscription_session(SubscriptionRequest) -> CheckoutSession
    #   cancel_subscription(id), pause_subscription(id), resume_subscription(id) -> dict

    def create_session(self, request: CheckoutRequest) -> CheckoutSession: ...

    def completed_sessions(self, created_gte: int) -> Iterator[dict]: ...

    def session_for_payment_intent(self, payment_intent_id: str) -> dict | None: ...


def verify_event(payload: bytes, signature_header: str | None, secret: str | None) -> dict:
    """Check Stripe's signature with the official library and return the event as a dict."""
    if not secret:
        raise InvalidSignature("webhook secret not configured")
    if not signature_header:
        raise InvalidSignature("missing Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature_header, secret,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
    except (stripe.SignatureVerificationError, ValueError) as error:  # ValueError: bad UTF-8
        raise InvalidSignature(str(error)) from None
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as error:  # signed, but not JSON we can read
        raise MalformedEvent(f"not JSON: {type(error).__name__}") from None
    return check_event_shape(event)


def _session_params(request: CheckoutRequest) -> dict[str, Any]:
    return {
        "mode": "payment",
        "line_items": [{
            "price_data": {
                "currency": CURRENCY,
                "unit_amount": request.amount,  # VND is zero-decimal: đồng, never ×100
                "product_data": {"name": request.description},
            },
            "quantity": 1,
        }],
        "client_reference_id": str(request.donation_id),
        "metadata": {"donation_id": str(request.donation_id)},
        "payment_intent_data": {"metadata": {"donation_id": str(request.donation_id)}},
        "customer_email": request.customer_email or None,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "expires_at": int(time.time()) + 60 * request.expires_in_minutes,
        "locale": request.locale,
        "submit_type": "donate",
    }


def _subscription_params(request: SubscriptionRequest) -> dict[str, Any]:
    gift = str(request.recurring_gift_id)
    return {
        "mode": "subscription",
        "line_items": [{
            "price_data": {
                "currency": CURRENCY,
                "unit_amount": request.amount,  # đồng, zero-decimal
                "recurring": {"interval": "month"},
                "product_data": {"name": request.description},
            },
            "quantity": 1,
        }],
        "client_reference_id": f"monthly-{gift}",
        "metadata": {"recurring_gift_id": gift},
        # Copied onto every invoice (invoice.parent.subscription_details.metadata).
        "subscription_data": {"metadata": {"recurring_gift_id": gift}},
        "customer_email": request.customer_email or None,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "expires_at": int(time.time()) + 60 * request.expires_in_minutes,
        "locale": request.locale,
    }


class StripeGateway:
    demo = False
    subscriptions = True

    def __init__(self, api_key: str, webhook_secret: str | None, api_base: str | None = None):
        options: dict[str, Any] = {"api_key": api_key}
        if api_base:
            options["base_addresses"] = {"api": api_base.rstrip("/")}
        self.client = stripe.StripeClient(**options)
        self.webhook_secret = webhook_secret

    def create_session(self, request: CheckoutRequest) -> CheckoutSession:
        params = {k: v for k, v in _session_params(request).items() if v is not None}
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params,
                # A retry of the same donation never opens a second session.
                options={"idempotency_key": f"donation-{request.donation_id}-checkout"})
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return CheckoutSession(id=session.id, url=session.url)

    def create_subscription_session(self, request: SubscriptionRequest) -> CheckoutSession:
        params = {k: v for k, v in _subscription_params(request).items() if v is not None}
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params,
                options={"idempotency_key": f"monthly-{request.recurring_gift_id}-checkout"})
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return CheckoutSession(id=session.id, url=session.url)

    def cancel_subscription(self, subscription_id: str) -> dict:
        try:
            return _plain(self.client.v1.subscriptions.cancel(subscription_id))
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error

    def pause_subscription(self, subscription_id: str) -> dict:
        """Stop collecting (invoices are voided) until resumed: Stripe's pause_collection."""
        try:
            return _plain(self.client.v1.subscriptions.update(
                subscription_id, params={"pause_collection": {"behavior": "void"}}))
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error

    def resume_subscription(self, subscription_id: str) -> dict:
        try:
            return _plain(self.client.v1.subscriptions.update(
                subscription_id, params={"pause_collection": ""}))
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error

    def completed_sessions(self, created_gte: int) -> Iterator[dict]:
        try:
            page = self.client.v1.checkout.sessions.list(
                params={"created": {"gte": created_gte}, "status": "complete", "limit": 100})
            for session in page.auto_paging_iter():
                yield _plain(session)
        except stripe.StripeError as error:
            raise _gateway_error(error) from error

    def session_for_payment_intent(self, payment_intent_id: str) -> dict | None:
        try:
            page = self.client.v1.checkout.sessions.list(
                params={"payment_intent": payment_intent_id, "limit": 1})
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return _plain(page.data[0]) if page.data else None


def _plain(obj: Any) -> dict:
    """A StripeObject as the plain dict the webhook would have carried."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict(recursive=True)
    return dict(obj)


class DemoGateway:
    """The application's own checkout page, for `make run` and newcomers. No money moves."""

    demo = True
    subscriptions = False  # monthly gifts need Stripe (or the test stub)

    def __init__(self, webhook_secret: str, checkout_url: str):
        self.webhook_secret = webhook_secret
        self.checkout_url = checkout_url  # contains {session_id}

    def create_session(self, request: CheckoutRequest) -> CheckoutSession:
        session_id = "cs_demo_" + secrets.token_hex(24)
        return CheckoutSession(id=session_id, url=self.checkout_url.format(session_id=session_id))

    def completed_sessions(self, created_gte: int) -> Iterator[dict]:
        return iter(())  # demo events are delivered synchronously; nothing can be missed

    def session_for_payment_intent(self, payment_intent_id: str) -> dict | None:
        return None

    def session_event(self, event_type: str, *, session_id: str, donation_id: int, amount: int,
                      customer_email: str | None, paid: bool = True) -> dict:
        """A Stripe-shaped checkout.session.* event, as Stripe would send it."""
        now = int(time.time())
        session = {
            "id": session_id, "object": "checkout.session", "amount_subtotal": amount,
            "amount_total": amount, "currency": CURRENCY,
            "client_reference_id": str(donation_id), "created": now,
            "customer_details": {"email": customer_email}, "customer_email": customer_email,
            "livemode": False, "metadata": {"donation_id": str(donation_id)}, "mode": "payment",
            "payment_intent": "pi_demo_" + session_id[len("cs_demo_"):] if paid else None,
            "payment_status": "paid" if paid else "unpaid",
            "status": "complete" if event_type == "checkout.session.completed" else "expired",
        }
        return {"id": "evt_demo_" + secrets.token_hex(12), "object": "event",
                "api_version": stripe.api_version, "created": now, "livemode": False,
                "data": {"object": session}, "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None}, "type": event_type}

    def sign(self, event: dict) -> tuple[bytes, str]:
        """The body and Stripe-Signature header Stripe would send, signed with our secret."""
        body = json.dumps(event).encode("utf-8")
        header = stripe.WebhookSignature.generate_signature_header(body.decode("utf-8"), self.webhook_secret)
        return body, header


def gateway_for(config: Mapping[str, Any], demo_checkout_url: str) -> CheckoutGateway | None:
    """The gateway the configuration asks for, or None when online giving is off
    (production without a Stripe key)."""
    if config.get("STRIPE_SECRET_KEY"):
        return StripeGateway(config["STRIPE_SECRET_KEY"], config.get("STRIPE_WEBHOOK_SECRET"),
                             config.get("STRIPE_API_BASE"))
    if config.get("DEMO_MODE_ALLOWED"):
        secret = config.get("STRIPE_WEBHOOK_SECRET") or config.get("STRIPE_DEMO_WEBHOOK_SECRET")
        if secret:
            return DemoGateway(secret, demo_checkout_url)
    return None

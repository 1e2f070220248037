"""Payment provider callbacks, under /payments. JSON only; CSRF does not apply (the
provider signs its requests instead)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.adapters.stripe_gateway import GatewayError, InvalidSignature
from app.blueprints.giving import current_gateway
from app.services import metrics
from app.services.donations import online as online_giving

bp = Blueprint("payments", __name__, url_prefix="/payments")


def webhook_secret() -> str | None:
    config = current_app.config
    if config.get("STRIPE_WEBHOOK_SECRET"):
        return config["STRIPE_WEBHOOK_SECRET"]
    if not config.get("STRIPE_SECRET_KEY") and config.get("DEMO_MODE_ALLOWED"):
        return config.get("STRIPE_DEMO_WEBHOOK_SECRET")  # demo mode only, never production
    return None


@bp.post("/stripe/webhook")
def stripe_webhook():
    """Stripe's webhook endpoint. 400 for anything unsigned or badly signed (never 500),
    200 once the event is applied or recognised as a repeat."""
    secret = webhook_secret()
    if not secret:
        current_app.logger.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not set")
        return jsonify(error="Webhook chưa được cấu hình.", status=503), 503
    request.max_content_length = current_app.config["STRIPE_WEBHOOK_MAX_BYTES"]
    payload = request.get_data(cache=False)  # 413 (JSON) above the cap
    try:
        outcome = online_giving.handle_webhook(payload, request.headers.get("Stripe-Signature"),
                                               secret, current_gateway())
    except InvalidSignature as error:
        current_app.logger.warning("Rejected Stripe webhook: %s", error)
        metrics.webhook("stripe", "invalid_signature")
        return jsonify(error="Chữ ký webhook không hợp lệ.", status=400), 400
    except GatewayError as error:  # a lookup at the provider failed; Stripe will retry
        current_app.logger.warning("Stripe webhook deferred: %s", error)
        metrics.webhook("stripe", "deferred")
        return jsonify(error="Cổng thanh toán tạm thời không phản hồi.", status=503), 503
    metrics.webhook("stripe", str(outcome))
    return jsonify(received=True, outcome=outcome)

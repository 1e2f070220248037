"""Payment provider callbacks, under /payments. JSON only; CSRF does not apply (the
provider signs its requests instead)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.adapters.stripe_gateway import GatewayError, InvalidSignature, MalformedEvent
from app.blueprints.giving import current_gateway
from app.i18n import _
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
        return jsonify(error=_("Webhook chưa được cấu hình."), status=503), 503
    request.max_content_length = current_app.config["STRIPE_WEBHOOK_MAX_BYTES"]
    payload = request.get_data(cache=False)  # 413 (JSON) above the cap
    try:
        outcome = online_giving.handle_webhook(payload, request.headers.get("Stripe-Signature"),
                                               secret, current_gateway())
    except InvalidSignature as error:
        current_app.logger.warning("Rejected Stripe webhook: %s", error)
        metrics.webhook("stripe", "invalid_signature")
        return jsonify(error=_("Chữ ký webhook không hợp lệ."), status=400), 400
    except MalformedEvent as error:
        current_app.logger.warning("Rejected signed but malformed Stripe webhook: %s", error)
        metrics.webhook("stripe", "malformed")
        return jsonify(error=_("Nội dung webhook không hợp lệ."), status=400), 400
    except GatewayError as error:  # the provider is unreachable; Stripe will retry
        current_app.logger.error("Stripe webhook deferred (provider unreachable): %s", error)
        metrics.webhook("stripe", "deferred")
        return jsonify(error=_("Cổng thanh toán tạm thời không phản hồi."), status=503), 503
    metrics.webhook("stripe", str(outcome))
    if outcome == "not_found":
        return jsonify(received=True, outcome=outcome,
                       note=_("Không tìm thấy giao dịch ở cổng thanh toán; đã ghi lại để cán bộ kiểm tra."))
    return jsonify(received=True, outcome=outcome)


# --------------------------------------------------------------------------- bank notifications

def _bank_secret(name: str) -> str | None:
    config = current_app.config
    if config.get(name):
        return config[name]
    if name == "SEPAY_API_KEY" and config.get("DEMO_MODE_ALLOWED"):
        return config.get("SEPAY_DEMO_API_KEY")  # demo mode only, never production
    return None


def _bank_webhook(provider: str, secret_name: str, parse):
    """The shared shape of the three bank webhooks: 503 without a secret, 413 above the
    size cap, 401 for a missing or wrong key/signature (or a replay), 400 for a body we
    cannot read (nothing written), 200 {"success": true} once applied or already known."""
    from app.adapters.bank_lines import BankInputError
    from app.adapters.bank_notifications import InvalidSignature
    from app.services.audit import Actor
    from app.services.bank.notifications import apply_lines

    secret = _bank_secret(secret_name)
    if not secret:
        current_app.logger.error("%s webhook received but %s is not set", provider, secret_name)
        return jsonify(success=False, error=_("Webhook chưa được cấu hình."), status=503), 503
    request.max_content_length = current_app.config["BANK_WEBHOOK_MAX_BYTES"]
    body = request.get_data(cache=False)  # 413 (JSON) above the cap
    try:
        lines = parse(body, secret)
    except InvalidSignature as error:
        current_app.logger.warning("Rejected %s webhook: %s", provider, error)
        return jsonify(success=False, error=_("Xác thực thất bại: %(error)s.", error=error), status=401), 401
    except BankInputError as error:
        current_app.logger.warning("Unreadable %s webhook: %s", provider, error)
        return jsonify(success=False, error=_("Dữ liệu không hợp lệ: %(error)s.", error=error), status=400), 400
    results = apply_lines(lines, Actor.system(provider))
    return jsonify(success=True, results=results)


@bp.post("/sepay/webhook")
def sepay_webhook():
    from app.adapters.bank_notifications import sepay

    def parse(body, secret):
        sepay.verify(request.headers.get("Authorization"), secret)
        return sepay.parse(body)

    return _bank_webhook("sepay", "SEPAY_API_KEY", parse)


@bp.post("/casso/webhook")
def casso_webhook():
    from app.adapters.bank_notifications import casso

    return _bank_webhook("casso", "CASSO_WEBHOOK_SECRET", lambda body, secret: casso.parse_verified(
        body, request.headers.get("X-Casso-Signature"), secret))


@bp.post("/payos/webhook")
def payos_webhook():
    from app.adapters.bank_notifications import payos

    return _bank_webhook("payos", "PAYOS_CHECKSUM_KEY", payos.parse_verified)

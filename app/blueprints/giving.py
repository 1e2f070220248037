"""Public giving pages: appeals, the donation form, the return page and the demo checkout."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer

from app.adapters.stripe_gateway import DemoGateway, gateway_for
from app.errors import DomainError, NotFound
from app.extensions import db, limiter
from app.forms import attach_error
from app.forms.donate import DonationForm
from app.i18n import _, current as current_language
from app.models import DonationStatus
from app.services.setup import get_settings
from app.services import public_site
from app.services import page_cache
from app.services.page_cache import cached_page
from app.services.donations import online as online_giving
from app.services.audit import Actor
from app.services.bank import pledges as bank_pledges
from app.services.bank import qr as bank_qr
from app.services.bank import standing
from app.services.bank import transfers as bank_transfers
from app.services.receipts.issuing import valid_receipt_for

bp = Blueprint("giving", __name__)


def current_gateway():
    """The configured gateway (Stripe, the demo checkout, or None when giving is off)."""
    return gateway_for(current_app.config, url_for("giving.demo_checkout", session_id="SID")
                       .replace("SID", "{session_id}"))


def _absolute(endpoint: str, **values) -> str:
    base = current_app.config.get("CHECKOUT_RETURN_BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _cancel_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="donation-cancel")


def _rate_limit_exempt() -> bool:
    # The limiter is one object shared by every app built in a process; this keeps an app
    # whose config turns limits off unlimited even after another app turned them on.
    return not current_app.config.get("RATELIMIT_ENABLED", True)


@bp.get("/appeals/<slug>")
@cached_page
def appeal(slug: str):
    record = public_site.public_appeal(slug)
    if record is None:
        abort(404)
    (progress,) = public_site.progress([record])
    return render_template("public/appeal.html", appeal=record, progress=progress,
                           gifts=public_site.listed_gifts(record.id))


@bp.route("/donate", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["DONATE_RATE_LIMIT"], methods=["POST"],
               exempt_when=_rate_limit_exempt)
def donate():
    slug = (request.values.get("appeal") or "").strip()
    # A GET is the same page for every visitor but for the CSRF token: drawn once per cache
    # version (page_cache.draw_form_page below), then only the visitor's token is new.
    page = page_cache.form_page(f"donate:{slug}", generate_csrf)
    if page is not None:
        return page
    get_settings()  # a database without reference data: one clear sentence (503), not a form that fails
    config = current_app.config
    try:
        appeal = online_giving.open_appeal(slug)
    except NotFound:
        flash(_("Chiến dịch này không tồn tại hoặc đã kết thúc; bạn vẫn có thể ủng hộ Quỹ."), "warning")
        appeal = None
    form = DonationForm(designation_choices=online_giving.designation_choices(appeal),
                        minimum=config["DONATION_MIN_AMOUNT"], maximum=config["DONATION_CARD_MAX_AMOUNT"])
    if request.method == "GET":
        form.appeal.data = appeal.slug if appeal else ""
        form.designation.data = "appeal" if appeal else "general"
    gateway = current_gateway()
    status = 200
    if gateway is None and request.method == "GET":
        form.method.data = "transfer"
    transfer = request.method == "POST" and request.form.get("method") == "transfer"
    if gateway is None and not transfer:
        status = 503 if request.method == "POST" else 200
    elif form.validate_on_submit():
        req = online_giving.DonationRequest(
            kind=form.kind.data, name=form.name.data.strip(), email=form.email.data.strip(),
            amount=form.amount, currency=form.currency.data or "VND", phone=(form.phone.data or "").strip() or None,
            tax_code=(form.tax_code.data or "").strip() or None,
            representative=(form.representative.data or "").strip() or None,
            address=(form.address.data or "").strip() or None, designation=form.designation.data,
            appeal_slug=appeal.slug if appeal else None, anonymous=form.anonymous.data,
            public_listing=form.public_listing.data, message=form.message.data,
            language=current_language())
        if transfer:
            actor = Actor(user_id=None, label="online-form", ip=request.remote_addr)
            try:
                if form.frequency.data == "monthly":
                    pledge = standing.start_standing(
                        req, actor, minimum=config["MONTHLY_MIN_AMOUNT"], maximum=config["MONTHLY_MAX_AMOUNT"],
                        expiry_days=config["BANK_PLEDGE_EXPIRY_DAYS"]).standing_pledge
                else:
                    pledge = bank_pledges.create_pledge(
                        req, actor, minimum=config["DONATION_MIN_AMOUNT"],
                        expiry_days=config["BANK_PLEDGE_EXPIRY_DAYS"])
            except DomainError as error:
                if error.status_code == 503:
                    flash(error.message, "danger")
                else:
                    attach_error(form, error, "custom_amount")
                status = error.status_code
            else:
                return redirect(url_for("giving.transfer", token=pledge.token), code=303)
            return render_template("public/donate.html", form=form, appeal=appeal, gateway=gateway,
                                   demo=bool(gateway and gateway.demo)), status
        serializer = _cancel_serializer()
        try:
            _donation, url = online_giving.start_checkout(
                req, gateway,
                success_url=_absolute("giving.donation_return") + "?session_id={CHECKOUT_SESSION_ID}",
                cancel_url_for=lambda d: _absolute("giving.donation_cancelled", t=serializer.dumps(d.id)),
                minimum=config["DONATION_MIN_AMOUNT"], maximum=config["DONATION_CARD_MAX_AMOUNT"],
                expires_in_minutes=config["STRIPE_CHECKOUT_EXPIRES_MINUTES"],
                actor=Actor(user_id=None, label="online-form", ip=request.remote_addr))
        except DomainError as error:
            if error.status_code == 503:
                flash(error.message, "danger")
            else:
                attach_error(form, error, "custom_amount")
            status = error.status_code
        else:
            return redirect(url, code=303)
    elif request.method == "POST":
        status = 422
    if request.method == "GET":
        return _draw_donate_form(slug, form, appeal, gateway)
    return render_template("public/donate.html", form=form, appeal=appeal, gateway=gateway,
                           demo=bool(gateway and gateway.demo)), status


def _draw_donate_form(slug: str, form: DonationForm, appeal, gateway) -> str:
    """The GET page, kept by the page cache with a slot for the visitor's CSRF token."""
    csrf = getattr(form, "csrf_token", None)  # absent when CSRF is off (some tests)

    def draw(token):
        if csrf is not None:
            csrf.current_token = token
        return render_template("public/donate.html", form=form, appeal=appeal, gateway=gateway,
                               demo=bool(gateway and gateway.demo))

    return page_cache.draw_form_page(f"donate:{slug}", draw, csrf.current_token if csrf is not None else None)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/donate/return")
def donation_return():
    """Where Checkout sends the donor back. Found only by the unguessable session id, so
    nobody can look at another donor's gift by trying numbers."""
    donation = online_giving.donation_for_session(request.args.get("session_id"))
    if donation is None:
        abort(404)
    receipt = valid_receipt_for(donation.id) if donation.status == DonationStatus.CONFIRMED.value else None
    if donation.status == DonationStatus.PENDING.value and not donation.flagged_reason:
        state = "pending"
    elif donation.status == DonationStatus.PENDING.value:
        state = "review"
    else:
        state = donation.status
    return _no_store(current_app.make_response(render_template(
        "public/donation_return.html", donation=donation, receipt=receipt, state=state,
        reason=online_giving.reason_text(donation.reason), refresh_seconds=3)))


@bp.get("/donate/cancelled")
def donation_cancelled():
    try:
        donation_id = _cancel_serializer().loads(request.args.get("t", ""))
    except BadSignature:
        abort(404)
    from app.models import Donation

    donation = db.session.get(Donation, donation_id)
    if donation is None:
        abort(404)
    return _no_store(current_app.make_response(render_template(
        "public/donation_cancelled.html", donation=donation)))


@bp.route("/donate/demo/<session_id>", methods=["GET", "POST"])
def demo_checkout(session_id: str):
    """The demo mode's stand-in for Stripe's hosted checkout. No money moves."""
    gateway = current_gateway()
    if not isinstance(gateway, DemoGateway) or not session_id.startswith("cs_demo_"):
        abort(404)
    donation = online_giving.donation_for_session(session_id)
    if donation is None:
        abort(404)
    if request.method == "POST":
        if donation.status != DonationStatus.PENDING.value:
            flash(_("Phiên thanh toán này đã kết thúc."), "warning")
        elif request.form.get("action") == "cancel":
            online_giving.demo_cancel(gateway, donation)
            return redirect(url_for("giving.donation_cancelled",
                                    t=_cancel_serializer().dumps(donation.id)), code=303)
        else:
            online_giving.demo_pay(gateway, donation)
        return redirect(url_for("giving.donation_return", session_id=session_id), code=303)
    return _no_store(current_app.make_response(render_template(
        "public/demo_checkout.html", donation=donation)))


# --------------------------------------------------------------------------- bank transfer

def _pledge_or_404(token: str):
    pledge = bank_pledges.pledge_by_token(token)
    if pledge is None:
        abort(404)
    return pledge


def demo_transfer_key() -> str | None:
    """The key the demo's "simulate the transfer" button signs with: only in demo mode and
    only while no real SePay key is configured."""
    config = current_app.config
    if config.get("SEPAY_API_KEY") or not config.get("DEMO_MODE_ALLOWED"):
        return None
    return config.get("SEPAY_DEMO_API_KEY")


@bp.get("/donate/transfer/<token>")
def transfer(token: str):
    """The donor's transfer page: where to send the money, the code and the VietQR. Found
    only by an unguessable token; refreshes itself (no JavaScript needed) until received."""
    pledge = _pledge_or_404(token)
    view = bank_transfers.transfer_view(pledge)
    return _no_store(current_app.make_response(render_template(
        "public/transfer.html", pledge=pledge, view=view, demo=demo_transfer_key() is not None,
        lapse_months=current_app.config["BANK_PLEDGE_LAPSE_MONTHS"],
        refresh_seconds=10)))


@bp.get("/donate/transfer/<token>/qr.png")
def transfer_qr(token: str):
    pledge = _pledge_or_404(token)
    response = current_app.make_response(bank_qr.qr_png(pledge))
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = f'inline; filename="VietQR-{pledge.code}.png"'
    return response


@bp.post("/donate/transfer/<token>/demo-paid")
def transfer_demo_paid(token: str):
    """Demo mode: pretend the bank told us the money arrived (a SePay-shaped notification,
    signed with the demo key, through the same verification and matching as the webhook)."""
    key = demo_transfer_key()
    if key is None:
        abort(404)
    pledge = _pledge_or_404(token)
    bank_transfers.demo_notify(pledge, key)
    return redirect(url_for("giving.transfer", token=token), code=303)

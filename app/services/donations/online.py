"""Online giving: from the donation form to a confirmed donation, through Stripe Checkout.

`start_checkout` records the donor and a pending card donation, then opens a Checkout
Session through the gateway (app/adapters/stripe_gateway.py). The money is only ever
confirmed by what the provider says: a signed webhook (`handle_webhook`), or
`sync_completed_sessions` for webhooks that never arrived. Both end in `apply_session`,
which locks the donation row, checks amount and currency against the pending donation and
confirms it exactly once (a mismatch is flagged for staff instead).

Each webhook event id is inserted into `payment_events` in the same transaction as its
effect, so a re-delivered event — even twenty at once — changes nothing the second time:
the unique index makes the later inserts wait for the first transaction and then fail.

Languages (issue 17): what the donor reads (form choices, errors) is in the site's language;
what is written to the database for staff (flagged_reason, donor_check, notes, a failure
reason) stays Vietnamese, the record's language (`reason_text` shows ours to the donor).
The donor's language is recorded on the donor (`match_or_create_donor`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.adapters.stripe_gateway import (
    CURRENCY, CheckoutGateway, CheckoutRequest, DemoGateway, GatewayError, ProviderNotFound,
    verify_event,
)
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, _l, money, valid as valid_language
from app.models import (
    Appeal, AppealStatus, Channel, Donation, DonationStatus, Donor, DonorKind, PaymentEvent,
    Programme,
)
from app.services import audit
from app.services.accounts import recurring_events
from app.services.audit import Actor
from app.services.donations.designation import programme_for_appeal
from app.services.donations.ledger import confirm_in_tx, reverse_in_tx
from app.services.donations.queries import lock_donation, reversed_total
from app.services.setup import general_programme
from app.text import fold, normalize_org_name
from app.timeutil import utcnow
from app.vnd import format_vnd  # stored notes for staff stay Vietnamese

# The back office's list of online (card) gifts and its filters; the dashboard counts
# the same conditions, so its numbers equal the rows of the filtered list.
ONLINE_GIFTS = sa.and_(Donation.channel == Channel.CARD.value, Donation.reverses_id.is_(None),
                 Donation.stripe_checkout_session_id.is_not(None))
ONLINE_FILTERS = {
    "all": (_l("Tất cả"), None),
    "flagged": (_l("Cần kiểm tra"), sa.or_(sa.and_(Donation.flagged_reason.is_not(None),
                                               Donation.status == DonationStatus.PENDING.value),
                                       Donation.donor_check.is_not(None))),
    "pending": (_l("Chờ thanh toán"), sa.and_(Donation.flagged_reason.is_(None),
                                          Donation.status == DonationStatus.PENDING.value)),
    "confirmed": (_l("Đã xác nhận"), Donation.status == DonationStatus.CONFIRMED.value),
    "failed": (_l("Không thành công"), Donation.status == DonationStatus.FAILED.value),
    "reversed": (_l("Đã hoàn tiền"), Donation.status == DonationStatus.REVERSED.value),
}


LOG = logging.getLogger(__name__)
STRIPE = Actor.system("stripe")
ACCEPTED_CURRENCIES = ("VND",)
# The name of a donor who gave no identity at all (a bank transfer without name or e-mail):
# the gift has a donor record of its own with this name, anonymous, and its receipt says so.
ANONYMOUS_DONOR_NAME = "Nhà hảo tâm ẩn danh"



def N_(text: str) -> str:
    """Marks a msgid for the catalog; the text stays Vietnamese (it is stored)."""
    return text


# Why a card gift failed: stored in Vietnamese (Donation.reason), shown to the donor in their
# language by `reason_text`.
REASON_EXPIRED = N_("Phiên thanh toán đã hết hạn trước khi nhà hảo tâm thanh toán.")
REASON_ASYNC_FAILED = N_("Thanh toán chậm (chuyển khoản) không thành công.")
REASON_CHECKOUT_UNAVAILABLE = N_("Không mở được phiên thanh toán với cổng thanh toán.")
_KNOWN_REASONS = frozenset({REASON_EXPIRED, REASON_ASYNC_FAILED, REASON_CHECKOUT_UNAVAILABLE})


def reason_text(reason: str | None) -> str | None:
    """A stored failure reason for the donor's page: ours translated, a person's note as typed."""
    return _(reason) if reason in _KNOWN_REASONS else reason


class PaymentUnavailable(DomainError):
    status_code = 503


@dataclass(frozen=True)
class DonationRequest:
    """What the donation form gives us, already parsed (amount is an int of đồng)."""

    kind: str
    name: str
    email: str
    amount: int
    currency: str = "VND"
    phone: str | None = None
    tax_code: str | None = None
    representative: str | None = None
    address: str | None = None
    designation: str = "general"  # "general", "appeal" or "programme:<code>"
    appeal_slug: str | None = None
    anonymous: bool = False
    public_listing: bool = False
    message: str | None = None
    language: str | None = None  # the site's language when the donor gave ("vi"/"en"); None: unknown


# --------------------------------------------------------------------------- donors

def match_or_create_donor(req: DonationRequest, actor: Actor) -> tuple[Donor, str | None]:
    """The donor record for a form submission, and why staff must check it (or None).

    The form is unauthenticated, so a match only *suggests*, and never changes the matched
    record: what was typed (name, e-mail, address, privacy choices) is kept on the donation
    by `start_checkout`. An individual is reused only when the same e-mail and (folded) name
    agree on exactly one live record, never by name alone. An organization whose MST is on
    file is attached to that record, but unless the name and the e-mail both agree with it
    the gift needs a donor check: it counts for the fund, is not credited to the company
    (commendation, statements) until staff accept it, and its receipt shows and is mailed
    to what was typed. A request without an e-mail (a transfer given anonymously, with no
    name either) is never matched: it gets a donor record of its own, named
    ANONYMOUS_DONOR_NAME when no name was typed.

    The one thing a match does change is the donor's language (`req.language`, the site's
    language the donor gave in): a new record takes it, and a record whose e-mail is the
    one typed is updated to it, so e-mails to them follow the language they last used.
    """
    donor, check = _match_or_create(req, actor)
    language = valid_language(req.language)
    email = req.email.strip().lower()
    if language and email and (donor.email or "").strip().lower() == email and donor.language != language:
        donor.language = language  # a returning donor: the language they gave in this time
    return donor, check


def _match_or_create(req: DonationRequest, actor: Actor) -> tuple[Donor, str | None]:
    email = req.email.strip().lower()
    live = sa.and_(Donor.merged_into_id.is_(None), Donor.kind == req.kind)
    if not email and not (req.kind == DonorKind.ORGANIZATION.value and req.tax_code):
        pass  # no e-mail (an anonymous transfer): never matched, a donor record of its own
    elif req.kind == DonorKind.ORGANIZATION.value and req.tax_code:
        donor = db.session.scalars(sa.select(Donor).where(live, Donor.tax_code == req.tax_code)).first()
        if donor is not None:
            differs = []
            if normalize_org_name(donor.name) != normalize_org_name(req.name):
                differs.append("tên")
            if (donor.email or "").strip().lower() != email:
                differs.append("email")
            if not differs:
                return donor, None
            return donor, (f"MST {req.tax_code} trùng với hồ sơ #{donor.id} “{donor.name}” nhưng "
                           f"{' và '.join(differs)} trên biểu mẫu trực tuyến khác hồ sơ. Kiểm tra "
                           "rồi chấp nhận hoặc chuyển khoản ủng hộ sang nhà hảo tâm đúng.")
    else:
        same_name = normalize_org_name if req.kind == DonorKind.ORGANIZATION.value else fold
        candidates = [d for d in db.session.scalars(
            sa.select(Donor).where(live, sa.func.lower(Donor.email) == email)
            .where(Donor.tax_code.is_(None) if req.kind == DonorKind.ORGANIZATION.value else sa.true()))
            if same_name(d.name) == same_name(req.name)]
        if len(candidates) == 1:
            return candidates[0], None
    donor = Donor(kind=req.kind, name=req.name.strip() or ANONYMOUS_DONOR_NAME, email=email or None,
                  phone=req.phone or None,
                  tax_code=req.tax_code or None, representative=req.representative or None,
                  address=req.address or None, anonymous=req.anonymous,
                  public_listing_consent=req.public_listing, language=valid_language(req.language))
    db.session.add(donor)
    audit.record(actor, "donor.create", donor, after={"kind": donor.kind, "source": "online_form"})
    return donor, None


def typed_details(req: DonationRequest) -> dict:
    """The donation's own copy of what the donor typed (see Donation.donor_name)."""
    return dict(donor_name=req.name.strip(), donor_email=req.email.strip().lower(),
                donor_phone=req.phone or None, donor_address=req.address or None,
                donor_tax_code=req.tax_code if req.kind == DonorKind.ORGANIZATION.value else None,
                anonymous=req.anonymous, public_listing=req.public_listing)


def _preference_note(donor: Donor, req: DonationRequest) -> str | None:
    """A note when the typed privacy choices differ from the matched record's: they apply
    to this gift; staff may carry them over to the record when they accept it."""
    if donor.id is None or (donor.anonymous == req.anonymous
                            and donor.public_listing_consent == req.public_listing):
        return None
    return ("Lựa chọn trên biểu mẫu: " + ("ẩn danh" if req.anonymous else "không ẩn danh") + ", "
            + ("đồng ý" if req.public_listing else "không đồng ý") + " công khai tên — chỉ áp dụng "
            "cho khoản này; hồ sơ nhà hảo tâm chưa đổi.")


# --------------------------------------------------------------------------- checkout

def designation_choices(appeal: Appeal | None) -> list[tuple[str, str]]:
    """(value, label) pairs for the form's designation select."""
    choices = []
    if appeal is not None:
        programme = db.session.get(Programme, appeal.programme_id) if appeal.programme_id else None
        choices.append(("appeal", _("Chiến dịch “%(title)s” — chương trình %(programme)s", title=appeal.title,
                                    programme=programme.name) if programme
                        else _("Chiến dịch “%(title)s”", title=appeal.title)))
    choices.append(("general", _("Quỹ chung — Quỹ sử dụng cho nơi cần nhất")))
    for programme in db.session.scalars(
            sa.select(Programme).where(Programme.is_active, ~Programme.is_general)
            .order_by(Programme.sort_order, Programme.name)):
        choices.append((f"programme:{programme.code}", _("Chương trình: %(name)s", name=programme.name)))
    return choices


def open_appeal(slug: str | None) -> Appeal | None:
    """A public, open appeal by slug (None for an empty slug); NotFound otherwise."""
    if not slug:
        return None
    appeal = db.session.scalars(sa.select(Appeal).where(
        Appeal.slug == slug, Appeal.is_public, Appeal.status == AppealStatus.OPEN.value)).first()
    if appeal is None:
        raise NotFound(_("Chiến dịch này không tồn tại hoặc đã kết thúc."))
    return appeal


def _designation(req: DonationRequest) -> tuple[int, int | None]:
    """(programme_id, appeal_id) for the form's designation."""
    appeal = open_appeal(req.appeal_slug)
    if req.designation == "appeal":
        if appeal is None:
            raise ValidationFailed(_("Vui lòng chọn nơi nhận hợp lệ."), field="designation")
        return programme_for_appeal(appeal.programme_id, None, general_programme().id), appeal.id
    if req.designation == "general":
        return general_programme().id, None
    if req.designation.startswith("programme:"):
        programme = db.session.scalars(sa.select(Programme).where(
            Programme.code == req.designation.split(":", 1)[1], Programme.is_active)).first()
        if programme is not None:
            return programme.id, None
    raise ValidationFailed(_("Vui lòng chọn nơi nhận hợp lệ."), field="designation")


def resolve_designation(designation: str, appeal_slug: str | None = None) -> tuple[int, int | None]:
    """(programme_id, appeal_id) for a designation value of `designation_choices`."""
    return _designation(DonationRequest(kind="individual", name="", email="", amount=0,
                                        designation=designation, appeal_slug=appeal_slug))


def check_amount(amount: int, currency: str, *, minimum: int, maximum: int) -> None:
    if (currency or "").upper() not in ACCEPTED_CURRENCIES:
        raise ValidationFailed(_("Quỹ chỉ nhận ủng hộ trực tuyến bằng đồng Việt Nam (VND)."), field="currency")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValidationFailed(_("Số tiền không hợp lệ."), field="amount")
    if amount < minimum:
        raise ValidationFailed(_("Số tiền tối thiểu là %(amount)s.", amount=money(minimum)), field="amount")
    if amount > maximum:
        raise ValidationFailed(_(
            "Thanh toán bằng thẻ tối đa %(amount)s mỗi lần. Với khoản lớn hơn, vui lòng chuyển "
            "khoản vào tài khoản của Quỹ hoặc chia thành nhiều lần.", amount=money(maximum)), field="amount")


def start_checkout(req: DonationRequest, gateway: CheckoutGateway, *, success_url: str,
                   cancel_url_for, minimum: int, maximum: int, expires_in_minutes: int = 60,
                   actor: Actor) -> tuple[Donation, str]:
    """Record a pending card donation and open its Checkout Session.

    Returns the donation and the URL to send the donor to. The donation is committed before
    the provider is called, so a crash in between leaves a pending row staff can see, never
    a payment without a record. `cancel_url_for(donation)` builds the cancel address.
    """
    check_amount(req.amount, req.currency, minimum=minimum, maximum=maximum)
    programme_id, appeal_id = _designation(req)
    donor, check = match_or_create_donor(req, actor)
    donation = Donation(donor=donor, amount=req.amount, currency="VND", channel=Channel.CARD.value,
                        status=DonationStatus.PENDING.value, programme_id=programme_id,
                        appeal_id=appeal_id, public_message=(req.message or "").strip()[:500] or None,
                        note=_preference_note(donor, req), donor_check=check, **typed_details(req))
    db.session.add(donation)
    audit.record(actor, "donation.online_start", donation,
                 after={"amount": req.amount, "designation": req.designation, "donor_id": donor.id,
                        "demo": gateway.demo, "donor_check": check})
    db.session.commit()

    description = _("Ủng hộ %(fund)s", fund=get_fund_name() or _("Quỹ Bảo trợ trẻ em"))
    try:
        session = gateway.create_session(CheckoutRequest(
            donation_id=donation.id, amount=donation.amount, description=description,
            customer_email=donation.donor_email, success_url=success_url,
            cancel_url=cancel_url_for(donation), expires_in_minutes=expires_in_minutes,
            locale=valid_language(req.language) or "vi"))  # Stripe's page in the donor's language
    except GatewayError as error:
        LOG.error("Checkout Session creation failed for donation %s: %s", donation.id, error)
        donation = lock_donation(donation.id)
        donation.status = DonationStatus.FAILED.value
        donation.reason = REASON_CHECKOUT_UNAVAILABLE
        audit.record(actor, "donation.online_failed", donation, after={"error": str(error)[:500]})
        db.session.commit()
        raise PaymentUnavailable(_("Cổng thanh toán tạm thời gián đoạn, chưa có khoản tiền nào bị trừ. "
                                   "Vui lòng thử lại sau ít phút hoặc chuyển khoản trực tiếp cho Quỹ.")) from None
    donation = lock_donation(donation.id)
    donation.stripe_checkout_session_id = session.id
    audit.record(actor, "donation.checkout_session", donation, after={"session": session.id})
    db.session.commit()
    return donation, session.url


def get_fund_name() -> str | None:
    from app.services.setup import get_settings

    try:
        return get_settings().fund_name
    except RuntimeError:
        return None


def donation_for_session(session_id: str | None) -> Donation | None:
    if not session_id or len(session_id) > 255:
        return None
    return db.session.scalars(
        sa.select(Donation).where(Donation.stripe_checkout_session_id == session_id)).first()


# --------------------------------------------------------------------------- webhook

def handle_webhook(payload: bytes, signature_header: str | None, secret: str | None,
                   gateway: CheckoutGateway | None = None) -> str:
    """Verify a webhook delivery and apply it once. Returns our outcome (for the response
    and the tests). Raises InvalidSignature for a body we cannot trust and MalformedEvent
    for a signed body that is not an event we can read."""
    event = verify_event(payload, signature_header, secret)
    return apply_event(event, gateway)


HANDLED = {
    "checkout.session.completed", "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed", "checkout.session.expired", "charge.refunded",
}


def apply_event(event: dict, gateway: CheckoutGateway | None = None) -> str:
    """Apply one verified event in one transaction, at most once per event id. Monthly
    gifts' events (subscription-mode sessions, invoices, subscriptions) go to
    app/services/accounts/recurring_events.py under the same ledger."""
    obj = (event.get("data") or {}).get("object") or {}
    record = _claim_event(event, obj)
    if record is None:
        return "duplicate"
    try:
        if event["type"] in recurring_events.EVENTS:
            outcome, donation_id, detail = recurring_events.apply(event["type"], obj)
        elif event["type"].startswith("checkout.session.") and obj.get("mode") == "subscription":
            outcome, donation_id, detail = recurring_events.apply_session_event(event["type"], obj)
        elif event["type"] not in HANDLED:
            outcome, donation_id, detail = "ignored", None, None
        elif event["type"] == "charge.refunded":
            outcome, donation_id, detail = _apply_refund(obj, gateway)
        else:
            outcome, donation_id, detail = _apply_session_event(event["type"], obj)
        record.outcome, record.donation_id, record.detail = outcome, donation_id, detail
        db.session.commit()
    except Exception:
        db.session.rollback()  # the event row goes too, so the provider's retry is applied
        raise
    return outcome


def _claim_event(event: dict, obj: dict) -> PaymentEvent | None:
    """Insert the event's row, or return None if it was seen before (now or concurrently)."""
    seen = sa.select(PaymentEvent.id).where(PaymentEvent.provider == "stripe",
                                            PaymentEvent.event_id == event["id"])
    if db.session.scalar(seen) is not None:
        db.session.rollback()
        return None
    record = PaymentEvent(provider="stripe", event_id=event["id"][:255], event_type=event["type"][:80],
                          object_id=str(obj.get("id") or "")[:255] or None,
                          livemode=bool(event.get("livemode")), outcome="received")
    db.session.add(record)
    try:
        db.session.flush()  # waits here for a concurrent delivery of the same event
    except IntegrityError:
        db.session.rollback()
        return None
    return record


def _donation_id_of(session: dict) -> int | None:
    raw = (session.get("metadata") or {}).get("donation_id") or session.get("client_reference_id")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _flag(donation: Donation, reason: str, actor: Actor) -> None:
    if donation.flagged_reason == reason:
        return
    before = donation.flagged_reason
    donation.flagged_reason = reason if not before else f"{before}\n{reason}"
    audit.record(actor, "donation.flag", donation, before={"flagged_reason": before},
                 after={"flagged_reason": donation.flagged_reason})


def _mismatch(donation: Donation, session: dict) -> str | None:
    problems = []
    donation_ids = {(session.get("metadata") or {}).get("donation_id"), session.get("client_reference_id")}
    if donation_ids - {None} != {str(donation.id)}:
        problems.append("mã khoản ủng hộ trong phiên thanh toán không khớp")
    if donation.stripe_checkout_session_id and session.get("id") != donation.stripe_checkout_session_id:
        problems.append(f"phiên thanh toán {session.get('id')} không phải phiên đã tạo cho khoản này")
    currency = str(session.get("currency") or "").lower()
    if currency != CURRENCY:
        problems.append(f"loại tiền {currency.upper() or '?'} thay vì VND")
    amount = session.get("amount_total")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount != donation.amount:
        problems.append(f"số tiền thanh toán {amount} khác số tiền đăng ký {donation.amount}")
    if not problems:
        return None
    return "Cổng thanh toán báo: " + "; ".join(problems) + ". Cần cán bộ kiểm tra, chưa xác nhận."


def apply_session(session: dict, actor: Actor = STRIPE, *, settled: bool | None = None) -> tuple[str, int | None, str | None]:
    """Bring our donation in line with a completed Checkout Session, in the caller's
    transaction. `settled` overrides the session's payment_status (async events).

    Returns (outcome, donation_id, detail)."""
    donation_id = _donation_id_of(session)
    if donation_id is None:
        return "unmatched", None, "no donation_id in metadata"
    try:
        donation = lock_donation(donation_id)
    except NotFound:
        return "unmatched", None, f"donation {donation_id} not found"
    paid = session.get("payment_status") in ("paid", "no_payment_required") if settled is None else settled
    problem = _mismatch(donation, session)
    if problem:
        if donation.status == DonationStatus.PENDING.value:
            _flag(donation, problem, actor)
        return "flagged", donation.id, problem
    if session.get("payment_intent") and not donation.stripe_payment_intent_id:
        donation.stripe_payment_intent_id = str(session["payment_intent"])
    if donation.status == DonationStatus.CONFIRMED.value or donation.status == DonationStatus.REVERSED.value:
        return "already_confirmed", donation.id, None
    if not paid:
        return "waiting", donation.id, None
    if donation.status != DonationStatus.PENDING.value:
        problem = (f"Cổng thanh toán báo đã thanh toán nhưng khoản ủng hộ đang ở trạng thái "
                   f"“{donation.status_label}”. Cần cán bộ kiểm tra.")
        _flag(donation, problem, actor)
        return "flagged", donation.id, problem
    if donation.flagged_reason:
        return "flagged", donation.id, donation.flagged_reason
    confirm_in_tx(donation, actor)
    return "confirmed", donation.id, None


def _fail(session: dict, reason: str, actor: Actor) -> tuple[str, int | None, str | None]:
    donation_id = _donation_id_of(session)
    if donation_id is None:
        return "unmatched", None, None
    try:
        donation = lock_donation(donation_id)
    except NotFound:
        return "unmatched", None, None
    if donation.stripe_checkout_session_id != session.get("id"):
        return "ignored", donation.id, "session does not belong to this donation"
    if donation.status != DonationStatus.PENDING.value:
        return "ignored", donation.id, f"status {donation.status}"
    donation.status = DonationStatus.FAILED.value
    donation.reason = reason
    audit.record(actor, "donation.online_failed", donation, before={"status": "pending"},
                 after={"status": donation.status, "reason": reason})
    return "failed", donation.id, None


def _apply_session_event(event_type: str, session: dict) -> tuple[str, int | None, str | None]:
    if event_type == "checkout.session.completed":
        return apply_session(session)
    if event_type == "checkout.session.async_payment_succeeded":
        return apply_session(session, settled=True)
    if event_type == "checkout.session.async_payment_failed":
        return _fail(session, REASON_ASYNC_FAILED, STRIPE)
    return _fail(session, REASON_EXPIRED, STRIPE)  # checkout.session.expired


def _apply_refund(charge: dict, gateway: CheckoutGateway | None) -> tuple[str, int | None, str | None]:
    """charge.refunded: reverse what was refunded so far (amount_refunded is cumulative, so
    refund events applied in any order end at the same total) and void the receipt."""
    pi = charge.get("payment_intent")
    if not pi:
        return "unmatched", None, "charge without payment_intent"
    donation_id = db.session.scalar(sa.select(Donation.id).where(Donation.stripe_payment_intent_id == pi))
    if donation_id is None and gateway is not None:
        # The refund overtook checkout.session.completed: ask the provider for the session.
        try:
            session = gateway.session_for_payment_intent(pi)
        except ProviderNotFound as error:
            # Not an outage: the provider has no such payment. Record it (the event is not
            # retried forever) and let staff look; 200 to the provider.
            LOG.warning("Refund for %s: not found at the provider: %s", pi, error)
            return "not_found", None, f"payment_intent {pi} not found at the provider: {error}"[:500]
        if session is not None:
            apply_session(session)
            donation_id = db.session.scalar(
                sa.select(Donation.id).where(Donation.stripe_payment_intent_id == pi))
    if donation_id is None:
        return "unmatched", None, f"no donation for {pi}"
    donation = lock_donation(donation_id)
    if str(charge.get("currency") or "").lower() != CURRENCY:
        problem = f"Hoàn tiền bằng loại tiền {charge.get('currency')} — cần cán bộ kiểm tra."
        _flag(donation, problem, STRIPE)
        return "flagged", donation.id, problem
    refunded = charge.get("amount_refunded")
    if not isinstance(refunded, int) or refunded <= 0:
        return "ignored", donation.id, "nothing refunded"
    if donation.status not in (DonationStatus.CONFIRMED.value, DonationStatus.REVERSED.value):
        problem = (f"Cổng thanh toán báo đã hoàn {format_vnd(refunded)} cho khoản chưa xác nhận — "
                   "cần cán bộ kiểm tra.")
        _flag(donation, problem, STRIPE)
        return "flagged", donation.id, problem
    already = reversed_total(donation.id)
    to_reverse = min(refunded, donation.amount) - already
    if to_reverse <= 0:
        return "already_refunded", donation.id, None
    refunds = (charge.get("refunds") or {}).get("data") or []
    reason = "Hoàn tiền qua cổng thanh toán"
    if refunds and refunds[0].get("reason"):
        reason += f" ({refunds[0]['reason']})"
    reverse_in_tx(donation, STRIPE, reason=reason, amount=to_reverse,
                  reference=f"{charge.get('id')}:refunded:{refunded}"[:120])
    return "refunded", donation.id, None


# --------------------------------------------------------------------------- sync & demo

@dataclass
class SyncResult:
    seen: int = 0
    confirmed: int = 0
    flagged: int = 0
    unchanged: int = 0
    not_found: str | None = None  # the provider said 404: nothing to retry


def sync_completed_sessions(gateway: CheckoutGateway, since: datetime,
                            actor: Actor = Actor.system("stripe-sync")) -> SyncResult:
    """Confirm donations whose completed, paid session's webhook never arrived. Each session
    is applied in its own transaction; running it again changes nothing."""
    result = SyncResult()
    try:
        for session in gateway.completed_sessions(int(since.timestamp())):
            _sync_one(session, actor, result)
    except ProviderNotFound as error:
        LOG.warning("Stripe sync: not found at the provider (not retried): %s", error)
        result.not_found = str(error)
    return result


def _sync_one(session: dict, actor: Actor, result: SyncResult) -> None:
    result.seen += 1
    if _donation_id_of(session) is None:
        result.unchanged += 1
        return
    outcome, _, _ = apply_session(session, actor)
    db.session.commit()
    if outcome == "confirmed":
        result.confirmed += 1
    elif outcome == "flagged":
        result.flagged += 1
    else:
        result.unchanged += 1


def demo_pay(gateway: DemoGateway, donation: Donation) -> str:
    """The demo checkout's "Thanh toán" button: a Stripe-shaped completed event, signed,
    through the same verification and handling as a real webhook."""
    event = gateway.session_event(
        "checkout.session.completed", session_id=donation.stripe_checkout_session_id,
        donation_id=donation.id, amount=donation.amount, customer_email=donation.mail_address)
    body, header = gateway.sign(event)
    db.session.rollback()  # end the read transaction before the webhook's own
    return handle_webhook(body, header, gateway.webhook_secret, gateway)


def demo_cancel(gateway: DemoGateway, donation: Donation) -> str:
    event = gateway.session_event(
        "checkout.session.expired", session_id=donation.stripe_checkout_session_id,
        donation_id=donation.id, amount=donation.amount, customer_email=donation.mail_address, paid=False)
    body, header = gateway.sign(event)
    db.session.rollback()
    return handle_webhook(body, header, gateway.webhook_secret, gateway)


def recent_events(donation_id: int) -> list[PaymentEvent]:
    return list(db.session.scalars(sa.select(PaymentEvent).where(PaymentEvent.donation_id == donation_id)
                                   .order_by(PaymentEvent.received_at, PaymentEvent.id)))


__all__ = [
    "DonationRequest", "PaymentUnavailable", "apply_event", "apply_session", "check_amount",
    "demo_cancel", "demo_pay", "designation_choices", "donation_for_session", "handle_webhook",
    "match_or_create_donor", "open_appeal", "start_checkout", "sync_completed_sessions", "utcnow",
]


def resolve_by_staff(donation_id: int, action: str, note: str, actor: Actor) -> Donation:
    """A person settles a pending online donation: confirm it (after checking the payment in
    the provider's dashboard) or mark it failed. The note is required and audited."""
    if not note:
        raise ValidationFailed(_("Vui lòng ghi lý do / kết quả đối chiếu."), field="note")
    donation = lock_donation(donation_id)
    if donation.channel != Channel.CARD.value or donation.reverses_id is not None:
        raise NotFound(_("Không tìm thấy khoản ủng hộ trực tuyến."))
    if donation.status != DonationStatus.PENDING.value:
        raise ValidationFailed(_("Chỉ xử lý được khoản đang chờ xác nhận."))
    audit.record(actor, "donation.online_resolve", donation,
                 before={"status": donation.status, "flagged_reason": donation.flagged_reason},
                 after={"action": action, "note": note[:1000]})
    if action == "confirm":
        confirm_in_tx(donation, actor)
    else:
        donation.status = DonationStatus.FAILED.value
        donation.reason = note[:1000]
    db.session.commit()
    return donation


def settle_donor_check(donation_id: int, action: str, actor: Actor, *, donor_id: int | None = None,
                       apply_preferences: bool = False) -> Donation:
    """Staff settle which donor a public-form gift belongs to (Donation.donor_check):

    - "accept": it is the matched donor's gift; with `apply_preferences` the privacy
      choices typed on the form become the donor record's;
    - "reassign": it belongs to another live donor (`donor_id`);
    - "new": it belongs to a new donor made from what was typed (the MST only when no
      live organization holds it).

    The gift's reversals follow it. Audited, committed."""
    donation = lock_donation(donation_id)
    if donation.reverses_id is not None or donation.donor_name is None:
        raise NotFound(_("Không tìm thấy khoản ủng hộ từ biểu mẫu công khai."))
    if action not in ("accept", "reassign", "new"):
        raise ValidationFailed(_("Thao tác không hợp lệ."), field="action")
    if donation.donor_check is None and action != "accept":
        raise Conflict(_("Khoản ủng hộ này không cần kiểm tra nhà hảo tâm."))
    before = {"donor_id": donation.donor_id, "donor_check": donation.donor_check}
    target = donation.donor
    if action == "reassign":
        target = db.session.get(Donor, donor_id) if donor_id else None
        if target is None or target.merged_into_id is not None:
            raise ValidationFailed(_("Vui lòng chọn một nhà hảo tâm đang hoạt động."), field="donor_id")
    elif action == "new":
        tax_code = donation.donor_tax_code
        if tax_code and db.session.scalar(sa.select(Donor.id).where(
                Donor.tax_code == tax_code, Donor.merged_into_id.is_(None),
                Donor.kind == DonorKind.ORGANIZATION.value)) is not None:
            tax_code = None
        target = Donor(kind=donation.donor.kind, name=donation.donor_name, email=donation.donor_email,
                       phone=donation.donor_phone, address=donation.donor_address, tax_code=tax_code,
                       anonymous=bool(donation.anonymous), public_listing_consent=bool(donation.public_listing))
        db.session.add(target)
        db.session.flush()
        audit.record(actor, "donor.create", target, after={"kind": target.kind, "source": "donor_check",
                                                             "donation_id": donation.id})
    for row in [donation, *donation.reversals]:
        row.donor_id = target.id
        row.donor = target
        row.donor_check = None
    if action == "accept" and apply_preferences:
        prefs_before = {"anonymous": target.anonymous, "public_listing_consent": target.public_listing_consent}
        if donation.anonymous is not None:
            target.anonymous = donation.anonymous
        if donation.public_listing is not None:
            target.public_listing_consent = donation.public_listing
        audit.record(actor, "donor.preferences_from_donation", target, before=prefs_before,
                     after={"anonymous": target.anonymous, "public_listing_consent": target.public_listing_consent,
                            "donation_id": donation.id})
    audit.record(actor, "donation.donor_check", donation, before=before,
                 after={"action": action, "donor_id": target.id})
    db.session.commit()
    return donation

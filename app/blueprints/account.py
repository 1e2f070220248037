"""The donor account, /tai-khoan: sign-in by e-mailed link, gifts, receipts, statements,
contact details, privacy and e-mail preferences, personal-data rights, monthly giving.

The donor's identity is the e-mail address in the signed session key `donor_account`,
set only by following a one-time link. It is not a Flask-Login user: staff pages never
see it, and signing in here signs nobody in to /staff. Every record is looked up through
the account's address (app/services/accounts/profile.py), so another donor's ids are
"not found".
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import wraps

from flask import (
    Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for,
)

from app.errors import DomainError
from app.extensions import csrf, limiter
from app.forms import attach_error
from app.i18n import _
from app.forms.account import (
    ConfirmForm, ContactForm, DataRequestForm, EmailChangeForm, SettingsForm, SignInForm,
)
from app.models import DonorKind, RequestKind
from app.services.accounts import profile, rights, signin
from app.services.accounts.unsubscribe import email_from_token
from app.services.receipts import documents as receipt_documents

bp = Blueprint("account", __name__, url_prefix="/tai-khoan")
SESSION_KEY = "donor_account"


def _rate_limit_exempt() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def account_email() -> str | None:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        return None
    try:
        since = datetime.fromisoformat(data["since"])
    except (KeyError, TypeError, ValueError):
        return None
    if datetime.now(timezone.utc) - since > timedelta(hours=current_app.config["ACCOUNT_SESSION_HOURS"]):
        session.pop(SESSION_KEY, None)
        return None
    return data["email"]


def account_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        email = account_email()
        if email is None:
            flash(_("Vui lòng đăng nhập tài khoản nhà hảo tâm."), "warning")
            return redirect(url_for("account.sign_in"))
        g.account_email = email
        return view(*args, **kwargs)
    return wrapped


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _ip() -> str | None:
    return request.remote_addr


def _link(endpoint: str):
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return lambda token: base + url_for(endpoint, token=token)


def _fund_name() -> str:
    from app.services.setup import get_settings

    try:
        return get_settings().fund_name
    except RuntimeError:
        return _("Quỹ Bảo trợ trẻ em")


# ------------------------------------------------------------------------- sign in

@bp.route("/dang-nhap", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ACCOUNT_SIGN_IN_RATE_LIMIT"], methods=["POST"],
               exempt_when=_rate_limit_exempt)
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        try:
            signin.request_link(form.email.data, link_for=_link("account.link"),
                                minutes=current_app.config["ACCOUNT_LINK_MINUTES"],
                                fund_name=_fund_name(), ip=_ip())
        except DomainError as error:
            attach_error(form, error, "email")
        else:
            # The same page whether or not the address is known.
            return render_template("account/link_sent.html",
                                   minutes=current_app.config["ACCOUNT_LINK_MINUTES"])
    return render_template("account/sign_in.html", form=form)


def _invalid_link(error: signin.LinkInvalid):
    return render_template("account/link_invalid.html", message=error.message, reason=error.reason), 400


@bp.get("/dang-nhap/<token>")
@limiter.limit("30 per minute", exempt_when=_rate_limit_exempt)
def link(token: str):
    """Mail scanners open links: a GET only shows the button, the POST signs in."""
    try:
        signin.check(token)
    except signin.LinkInvalid as error:
        return _invalid_link(error)
    return render_template("account/confirm_link.html", form=ConfirmForm())


@bp.post("/dang-nhap/<token>")
@limiter.limit("30 per minute", exempt_when=_rate_limit_exempt)
def link_use(token: str):
    if not ConfirmForm().validate_on_submit():
        return _invalid_link(signin.LinkInvalid("invalid"))
    try:
        email = signin.consume(token, ip=_ip())
    except signin.LinkInvalid as error:
        return _invalid_link(error)
    session[SESSION_KEY] = {"email": email, "since": datetime.now(timezone.utc).isoformat()}
    flash(_("Đã đăng nhập tài khoản nhà hảo tâm."), "success")
    return redirect(url_for("account.overview"))


@bp.post("/dang-xuat")
def sign_out():
    session.pop(SESSION_KEY, None)
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("account.sign_in"))


# ------------------------------------------------------------------------- pages

@bp.get("")
@account_required
def overview():
    email = g.account_email
    donors = signin.live_donors(email)
    from app.services.bank.standing import waiting_pledges

    return render_template(
        "account/overview.html", email=email, donors=donors, gifts=profile.gifts(email),
        years={d.id: profile.statement_years(d.id) for d in donors},
        monthly=profile.recurring_gifts(email), waiting=waiting_pledges(email))


@bp.get("/giay-chung-nhan/<int:receipt_id>.pdf")
@account_required
def receipt_pdf(receipt_id: int):
    from app.blueprints.receipts_public import pdf_response

    receipt = profile.own_receipt(g.account_email, receipt_id)
    return pdf_response(receipt_documents.receipt_pdf(receipt), receipt_documents.receipt_filename(receipt))


@bp.get("/sao-ke/<int:donor_id>/<int:year>.pdf")
@account_required
def statement_pdf(donor_id: int, year: int):
    from app.blueprints.receipts_public import pdf_response

    donor = profile.own_donor(g.account_email, donor_id)
    receipt_documents.check_year(year)
    filename, pdf = receipt_documents.donor_statement_pdf(donor.id, year)
    return pdf_response(pdf, filename)


@bp.route("/ho-so/<int:donor_id>", methods=["GET", "POST"])
@account_required
def edit(donor_id: int):
    email = g.account_email
    donor = profile.own_donor(email, donor_id)
    contact = ContactForm(obj=donor, prefix="contact")
    settings = SettingsForm(obj=donor, prefix="settings", formdata=None)
    settings.language.data = donor.language or "vi"
    change = EmailChangeForm(prefix="email", formdata=None)
    if contact.submit.data and contact.validate_on_submit():
        try:
            profile.update_contact(email, donor.id, {k: contact[k].data for k in
                                                      ("name", "tax_code", "phone", "address", "representative")},
                                   ip=_ip())
        except DomainError as error:
            attach_error(contact, error, "name")
        else:
            flash(_("Đã lưu thông tin liên hệ."), "success")
            return redirect(url_for("account.edit", donor_id=donor.id))
    status = 422 if contact.errors else 200
    return render_template("account/edit.html", donor=donor, contact=contact, settings=settings,
                           change=change, organization=donor.kind == DonorKind.ORGANIZATION.value,
                           has_receipts=profile.has_receipts(donor.id)), status


@bp.post("/ho-so/<int:donor_id>/lua-chon")
@account_required
def settings(donor_id: int):
    form = SettingsForm(prefix="settings")
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, vui lòng thử lại."), "danger")
    else:
        profile.update_settings(g.account_email, donor_id,
                                public_listing_consent=form.public_listing_consent.data,
                                anonymous=form.anonymous.data, email_news=form.email_news.data,
                                email_reminders=form.email_reminders.data,
                                language=form.language.data if form.language.name in request.form else None,
                                ip=_ip())
        flash(_("Đã lưu lựa chọn của Quý vị."), "success")
    return redirect(url_for("account.edit", donor_id=donor_id))


@bp.post("/ho-so/<int:donor_id>/email")
@account_required
def email_change(donor_id: int):
    form = EmailChangeForm(prefix="email")
    profile.own_donor(g.account_email, donor_id)
    if not form.validate_on_submit():
        flash(" ".join(form.new_email.errors) or _("Biểu mẫu không hợp lệ."), "danger")
        return redirect(url_for("account.edit", donor_id=donor_id))
    try:
        new = profile.request_email_change(g.account_email, donor_id, form.new_email.data,
                                           link_for=_link("account.email_confirm"),
                                           minutes=current_app.config["ACCOUNT_LINK_MINUTES"], ip=_ip())
    except DomainError as error:
        flash(error.message, "danger")
    else:
        flash(_("Đã gửi thư xác nhận tới %(email)s. Địa chỉ chỉ được đổi khi Quý vị bấm đường dẫn trong thư.", email=new),
              "info")
    return redirect(url_for("account.edit", donor_id=donor_id))


@bp.route("/xac-nhan-email/<token>", methods=["GET", "POST"])
def email_confirm(token: str):
    form = ConfirmForm()
    try:
        if request.method == "POST" and form.validate_on_submit():
            donor, new = profile.confirm_email_change(token, ip=_ip())
            data = session.get(SESSION_KEY)
            if isinstance(data, dict):  # the account follows its address
                session[SESSION_KEY] = {**data, "email": new}
            flash(_("Đã đổi email thành %(email)s.", email=new), "success")
            return redirect(url_for("account.overview"))
        signin.check(token, signin.EMAIL_CHANGE)
    except signin.LinkInvalid as error:
        return _invalid_link(error)
    return render_template("account/confirm_link.html", form=form, email_change=True)


# ------------------------------------------------------------------- data rights

@bp.get("/du-lieu")
@account_required
def data():
    email = g.account_email
    donors = signin.live_donors(email)
    return render_template("account/data.html", donors=donors, form=DataRequestForm(),
                           confirm=ConfirmForm(), requests=rights.requests_of([d.id for d in donors]),
                           retention_years=rights.RETENTION_YEARS)


@bp.get("/du-lieu/<int:donor_id>.json")
@account_required
def export_json(donor_id: int):
    donor = profile.own_donor(g.account_email, donor_id)
    body = rights.export_json(donor.id)
    _audit_export(donor, "json")
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="du-lieu-ca-nhan-{donor.id}.json"'
    return response


@bp.get("/du-lieu/<int:donor_id>.pdf")
@account_required
def export_pdf(donor_id: int):
    from app.blueprints.receipts_public import pdf_response

    donor = profile.own_donor(g.account_email, donor_id)
    pdf = rights.export_pdf(donor.id)
    _audit_export(donor, "pdf")
    return pdf_response(pdf, f"du-lieu-ca-nhan-{donor.id}.pdf", attachment=True)


def _audit_export(donor, fmt: str) -> None:
    from app.extensions import db
    from app.services import audit

    audit.record(profile.donor_actor(g.account_email, _ip()), "account.data_export", donor,
                 after={"format": fmt})
    db.session.commit()


@bp.post("/du-lieu/<int:donor_id>/yeu-cau")
@account_required
def data_request(donor_id: int):
    donor = profile.own_donor(g.account_email, donor_id)
    form = DataRequestForm()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ, vui lòng thử lại."), "danger")
        return redirect(url_for("account.data"))
    if form.kind.data == RequestKind.ERASURE.value and not form.confirm.data:
        flash(_("Vui lòng đánh dấu ô xác nhận trước khi gửi yêu cầu xóa dữ liệu."), "danger")
        return redirect(url_for("account.data"))
    try:
        req = rights.create_request(donor.id, form.kind.data, profile.donor_actor(g.account_email, _ip()),
                                    channel="account", details=form.details.data)
    except DomainError as error:
        flash(error.message, "danger")
    else:
        from app.i18n import date_text

        flash(_("Quỹ đã nhận yêu cầu “%(kind)s”. Quỹ sẽ xác nhận trước ngày %(acknowledge_by)s và trả lời "
                "trước ngày %(due_on)s.", kind=req.kind_label, acknowledge_by=date_text(req.acknowledge_by),
                due_on=date_text(req.due_on)), "success")
    return redirect(url_for("account.data"))


@bp.post("/du-lieu/<int:donor_id>/rut-dong-y")
@account_required
def withdraw_consent(donor_id: int):
    donor = profile.own_donor(g.account_email, donor_id)
    if ConfirmForm().validate_on_submit():
        actor = profile.donor_actor(g.account_email, _ip())
        req = rights.create_request(donor.id, RequestKind.WITHDRAW_CONSENT.value, actor,
                                    channel="account", details=None, commit=False)
        rights.withdraw_consent(donor.id, actor, commit=False)
        req.status = "done"
        req.completed_at = req.acknowledged_at = req.received_at
        req.outcome = "Có hiệu lực ngay: tên không còn công khai, ngừng gửi thư không bắt buộc."
        from app.extensions import db
        db.session.commit()
        flash(_("Đã rút lại sự đồng ý, có hiệu lực ngay: tên Quý vị không còn hiện trên trang công khai "
                "và Quỹ ngừng gửi thư tin tức, thông báo. Giấy chứng nhận ủng hộ vẫn được gửi."), "success")
    return redirect(url_for("account.data"))


# ------------------------------------------------------------------- unsubscribe

@bp.route("/huy-nhan-thu/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: the mail client POSTs with no form; the token is the proof
@limiter.limit("30 per minute", exempt_when=_rate_limit_exempt)
def unsubscribe(token: str):
    from app.services.accounts import preferences

    email = email_from_token(token)
    if email is None:
        return render_template("errors/error.html", code=404,
                               message=_("Đường dẫn hủy nhận thư không hợp lệ.")), 404
    if request.method == "POST":
        preferences.unsubscribe(email, ip=_ip())
        if request.form.get("List-Unsubscribe") == "One-Click":
            return Response("Unsubscribed", mimetype="text/plain")
        return render_template("account/unsubscribed.html", email=email)
    return render_template("account/unsubscribe.html", email=email, form=ConfirmForm())


# ------------------------------------------------------------------- monthly giving

def _monthly_form(form_class=None, **kwargs):
    from app.forms.account import MonthlyForm
    from app.services.donations import online

    form = (form_class or MonthlyForm)(**kwargs)
    form.amount.minimum = current_app.config["MONTHLY_MIN_AMOUNT"]
    form.designation.choices = online.designation_choices(None)
    return form


def _bank_form():
    """The standing-pledge form, when the fund shows donors a bank account."""
    from app.forms.account import BankMonthlyForm
    from app.services.bank.accounts import donation_account

    return _monthly_form(BankMonthlyForm, prefix="bank") if donation_account(None) is not None else None


def _monthly_page(form=None, bank_form=None, status: int = 200):
    from app.blueprints.giving import current_gateway

    if form is None:
        gateway = current_gateway()
        form = _monthly_form() if gateway is not None and getattr(gateway, "subscriptions", False) else None
    return render_template("account/monthly.html", gifts=profile.recurring_gifts(g.account_email),
                           form=form, bank_form=bank_form if bank_form is not None else _bank_form(),
                           confirm=ConfirmForm()), status


@bp.get("/hang-thang")
@account_required
def monthly():
    if request.args.get("ket-qua") == "ok":
        flash(_("Cảm ơn Quý vị đã đăng ký ủng hộ hằng tháng. Giấy chứng nhận của mỗi tháng sẽ được gửi "
                "qua email khi thanh toán thành công."), "success")
    return _monthly_page()


@bp.post("/hang-thang/dang-ky")
@account_required
@limiter.limit(lambda: current_app.config["DONATE_RATE_LIMIT"], exempt_when=_rate_limit_exempt)
def monthly_start():
    from app.blueprints.giving import _absolute, current_gateway
    from app.services.accounts import recurring

    form = _monthly_form()
    if not form.validate_on_submit():
        return _monthly_page(form, status=422)
    try:
        _gift, url = recurring.start_monthly(
            g.account_email, form.amount.data, form.designation.data, current_gateway(),
            success_url=_absolute("account.monthly", **{"ket-qua": "ok"}),
            cancel_url=_absolute("account.monthly"),
            minimum=current_app.config["MONTHLY_MIN_AMOUNT"],
            maximum=current_app.config["MONTHLY_MAX_AMOUNT"], ip=_ip())
    except DomainError as error:
        if error.status_code == 404:
            raise
        attach_error(form, error, "amount")
        return _monthly_page(form, status=error.status_code)
    return redirect(url, code=303)


@bp.post("/hang-thang/chuyen-khoan")
@account_required
@limiter.limit(lambda: current_app.config["DONATE_RATE_LIMIT"], exempt_when=_rate_limit_exempt)
def monthly_bank_start():
    """A standing pledge by bank transfer for the account's donor: active at once (the
    address is proven), then the transfer page with its code and VietQR."""
    from app.services.bank import standing
    from app.services.donations.online import DonationRequest

    form = _bank_form()
    if form is None:
        flash(_("Quỹ chưa công bố tài khoản nhận chuyển khoản. Vui lòng liên hệ Quỹ."), "danger")
        return redirect(url_for("account.monthly"))
    if not form.validate_on_submit():
        return _monthly_page(bank_form=form, status=422)
    donors = signin.live_donors(g.account_email)
    if not donors:
        return redirect(url_for("account.sign_in"))
    donor = donors[0]
    req = DonationRequest(kind=donor.kind, name=donor.name, email=g.account_email, amount=form.amount.data,
                          phone=donor.phone, tax_code=donor.tax_code, representative=donor.representative,
                          address=donor.address, designation=form.designation.data,
                          anonymous=donor.anonymous, public_listing=donor.public_listing_consent)
    try:
        gift = standing.start_standing(
            req, profile.donor_actor(g.account_email, _ip()), donor=donor,
            minimum=current_app.config["MONTHLY_MIN_AMOUNT"], maximum=current_app.config["MONTHLY_MAX_AMOUNT"],
            expiry_days=current_app.config["BANK_PLEDGE_EXPIRY_DAYS"])
    except DomainError as error:
        attach_error(form, error, "amount")
        return _monthly_page(bank_form=form, status=error.status_code)
    flash(_("Đã đăng ký ủng hộ hằng tháng bằng chuyển khoản. Mỗi tháng dùng cùng một nội dung chuyển khoản "
            "%(code)s.", code=gift.standing_pledge.code), "success")
    return redirect(url_for("giving.transfer", token=gift.standing_pledge.token), code=303)


@bp.post("/hang-thang/<int:gift_id>/huy")
@account_required
def monthly_cancel(gift_id: int):
    from app.blueprints.giving import current_gateway
    from app.services.accounts import recurring

    if ConfirmForm().validate_on_submit():
        try:
            gift = recurring.cancel_by_donor(g.account_email, gift_id, current_gateway(), ip=_ip())
        except DomainError as error:
            if error.status_code == 404:
                raise
            flash(error.message, "danger")
        else:
            if gift.is_bank:
                flash(_("Đã hủy ủng hộ hằng tháng; Quỹ ngừng gửi thư nhắc. Vui lòng hủy cả lệnh chuyển tiền "
                        "định kỳ trong ứng dụng ngân hàng (nếu có): khoản nào vẫn chuyển đến sẽ được ghi nhận "
                        "là ủng hộ."), "success")
            else:
                flash(_("Đã hủy ủng hộ hằng tháng. Thẻ của Quý vị sẽ không bị trừ tiền nữa."), "success")
    return redirect(url_for("account.monthly"))

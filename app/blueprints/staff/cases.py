"""Support cases, disbursements and programme balances (issue 6).

Who sees what (app/services/cases/workflow.py): case workers, directors and admins see the child;
accountants see case code, programme, state and amounts (`cases/detail_finance.html`
never receives identity fields to render); viewers see the balances page only.
"""
from __future__ import annotations

import io
from datetime import datetime, time

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.params import parse_id
from app.blueprints.staff import once
from app.blueprints.staff.base import bp
from app.blueprints.staff.confirm import confirmation_page
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.forms.cases import (
    CaseDonationForm, CaseForm, CategoryForm, CategoryUpdateForm, ConsentForm, DisbursementForm, DocumentForm,
    ReasonForm, TransitionForm,
)
from app.models import (
    AdminUnit, CaseState, CircumstanceCategory, Disbursement, DisbursementStatus, Donor,
    Programme, Role,
)
from app.security import ALL_STAFF, current_actor, roles_required
from app.services.cases import documents as case_documents
from app.services.cases import workflow as cases
from app.services.cases import disbursements
from app.services.setup import general_programme
from app.timeutil import local_to_utc, local_today, utcnow
from app.i18n import _, money as money_text

WORKERS = (Role.CASE_WORKER, Role.DIRECTOR)
FINANCE = (Role.CASE_WORKER, Role.DIRECTOR, Role.ACCOUNTANT)


def _role() -> str:
    return current_user.role


def _programme_choices():
    return [(p.id, p.name) for p in db.session.scalars(
        sa.select(Programme).where(Programme.is_active).order_by(Programme.sort_order))]


def _safe_back(default: str) -> str:
    target = request.form.get("next") or ""
    return target if target.startswith("/staff/") and "//" not in target else default


def payee_label(row: Disbursement) -> str:
    return disbursements.payee_shown(row, _role())


@bp.app_context_processor
def _case_helpers():
    return {"payee_label": payee_label, "may_see_identity": lambda: current_user.is_authenticated
            and cases.may_see_identity(current_user.role)}


# --------------------------------------------------------------------------- cases

@bp.get("/cases")
@roles_required(*FINANCE)
def case_list():
    state = request.args.get("state") or None
    if state not in {s.value for s in CaseState}:
        state = None
    programme_id = parse_id(request.args.get("programme"))
    code = (request.args.get("q") or "").strip()[:40] or None
    attention = request.args.get("attention") if request.args.get("attention") in cases.ATTENTION else None
    mine = request.args.get("mine") == "1"
    rows = cases.list_cases(state=state, programme_id=programme_id, code=code, attention=attention,
                            created_by_id=current_user.id if mine else None)
    cases.record_list_view(current_actor(), _role(), len(rows))
    template = "cases/list.html" if cases.may_see_identity(_role()) else "cases/list_finance.html"
    return render_template(template, cases=rows, states=list(CaseState), state=state,
                           programmes=_programme_choices(), programme_id=programme_id, q=code or "",
                           attention=attention, attentions=cases.ATTENTION, mine=mine)


def _fill_case_choices(form: CaseForm) -> None:
    form.programme_id.choices = _programme_choices()
    form.admin_unit_id.choices = [(0, _("— Chọn —"))] + [(u.id, u.name) for u in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.is_active).order_by(AdminUnit.code))]
    form.category_ids.choices = [(c.id, c.name) for c in cases.active_categories()]


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(*WORKERS)
def case_new():
    form = CaseForm()
    _fill_case_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            case = cases.create_case(form.values(), current_actor(), _role(),
                                     category_ids=form.category_ids.data)
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "child_name")
            status = error.status_code
        else:
            flash(_("Đã tiếp nhận hồ sơ %(code)s.", code=case.code), "success")
            return redirect(url_for("staff.case_detail", case_id=case.id))
    elif request.method == "POST":
        status = 400
    return render_template("cases/form.html", form=form, case=None), status


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@roles_required(*WORKERS)
def case_edit(case_id: int):
    case = cases.get_case(case_id)
    form = CaseForm(obj=case)
    _fill_case_choices(form)
    if request.method == "GET":
        form.category_ids.data = [c.id for c in case.categories]
        form.admin_unit_id.data = case.admin_unit_id or 0
    status = 200
    if form.validate_on_submit():
        try:
            cases.update_case(case.id, form.values(), current_actor(), _role(),
                              category_ids=form.category_ids.data)
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "child_name")
            status = error.status_code
        else:
            flash(_("Đã lưu hồ sơ."), "success")
            return redirect(url_for("staff.case_detail", case_id=case.id))
    elif request.method == "POST":
        status = 400
    return render_template("cases/form.html", form=form, case=case), status


def _render_case(case_id: int, status: int = 200):
    role = _role()
    case = cases.view_case(case_id, current_actor(), role)
    money = disbursements.case_money(case)
    context = dict(
        case=case, money=money, transitions=cases.available_transitions(case, role),
        disbursements=disbursements.list_disbursements(case_id=case.id),
        donations=disbursements.case_donations(case.id),
        history=case.transitions, transition_form=TransitionForm(), reason_form=ReasonForm(),
        CaseState=CaseState, can_record=case.state in disbursements.DISBURSABLE_STATES,
        available=disbursements.available_for(case.programme_id, case.id))
    if cases.may_see_identity(role):
        return render_template("cases/detail.html", document_form=DocumentForm(),
                               consent_missing=cases.consent_missing(case), **context), status
    return render_template("cases/detail_finance.html", **context), status


@bp.get("/cases/<int:case_id>")
@roles_required(*FINANCE)
def case_detail(case_id: int):
    return _render_case(case_id)


@bp.post("/cases/<int:case_id>/transition")
@roles_required(*FINANCE)
def case_transition(case_id: int):
    cases.get_case(case_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
        return _render_case(case_id, 400)
    try:
        case = cases.transition_case(case_id, form.target.data, current_actor(), _role(),
                                     comment=form.comment.data, approved_amount=form.approved_amount.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _render_case(case_id, error.status_code)
    flash(_("Hồ sơ %(code)s đã chuyển sang «%(state)s».", code=case.code, state=case.state_label), "success")
    return redirect(url_for("staff.case_detail", case_id=case_id))


@bp.post("/cases/<int:case_id>/approved-amount")
@roles_required(Role.DIRECTOR)
def case_correct_approved(case_id: int):
    """Correct the approved amount downward (audited, with a reason)."""
    from app.vnd import AmountError, parse_vnd

    cases.get_case(case_id)
    try:
        amount = parse_vnd(request.form.get("amount", ""))
    except AmountError as error:
        flash(error.message, "danger")
        return _render_case(case_id, 422)
    try:
        disbursements.correct_approved_amount(case_id, current_actor(), _role(), amount=amount,
                                              reason=request.form.get("reason"))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _render_case(case_id, error.status_code)
    flash(_("Đã điều chỉnh số tiền phê duyệt xuống %(amount)s.", amount=money_text(amount)), "success")
    return redirect(url_for("staff.case_detail", case_id=case_id))


@bp.route("/cases/<int:case_id>/consent", methods=["GET", "POST"])
@roles_required(*WORKERS)
def case_consent(case_id: int):
    case = cases.get_case(case_id)
    form = ConsentForm(obj=case)
    status = 200
    if form.validate_on_submit():
        try:
            cases.update_consent(case.id, current_actor(), _role(),
                                 guardian_consent_on=form.guardian_consent_on.data,
                                 child_consent_on=form.child_consent_on.data,
                                 story_publishable=form.story_publishable.data,
                                 story_initials=form.story_initials.data, story_text=form.story_text.data)
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "guardian_consent_on")
            status = error.status_code
        else:
            flash(_("Đã lưu thông tin đồng ý."), "success")
            return redirect(url_for("staff.case_detail", case_id=case.id))
    elif request.method == "POST":
        status = 400
    return render_template("cases/consent.html", form=form, case=case,
                           needs_child=cases.child_consent_needed(case)), status


@bp.post("/cases/<int:case_id>/consent/withdraw")
@roles_required(*WORKERS)
def case_consent_withdraw(case_id: int):
    """Guardian or child withdraws consent (issue 16): the story is unpublished at once."""
    try:
        cases.withdraw_consent(case_id, request.form.get("who", ""), current_actor(), _role())
    except DomainError as error:
        if error.status_code == 404:
            raise
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(_("Đã ghi nhận việc rút lại sự đồng ý; câu chuyện đã được gỡ khỏi trang công khai."), "success")
    return redirect(url_for("staff.case_consent", case_id=case_id))


@bp.post("/cases/<int:case_id>/documents")
@roles_required(*WORKERS)
def case_document_upload(case_id: int):
    cases.get_case(case_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        flash(_("Biểu mẫu không hợp lệ."), "danger")
        return _render_case(case_id, 400)
    try:
        document = case_documents.upload_document(case_id, form.kind.data, form.file.data,
                                                  current_actor(), _role())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _render_case(case_id, error.status_code)
    flash(_("Đã tải lên «%(name)s».", name=document.original_name), "success")
    return redirect(url_for("staff.case_detail", case_id=case_id))


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
@roles_required(*WORKERS)
def case_document_download(case_id: int, document_id: int):
    document, data = case_documents.open_document(case_id, document_id, current_actor(), _role())
    response = send_file(io.BytesIO(data), mimetype=document.content_type, as_attachment=True,
                         download_name=case_documents.download_name(document), max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- money

@bp.route("/cases/<int:case_id>/disbursements/new", methods=["GET", "POST"])
@roles_required(*FINANCE)
def disbursement_new(case_id: int):
    case = cases.get_case(case_id)
    form = DisbursementForm()
    general = general_programme()
    form.programme_id.choices = [(case.programme_id, _("%(name)s (chương trình của hồ sơ)", name=case.programme.name))]
    if general.id != case.programme_id:
        form.programme_id.choices.append((general.id, _("%(name)s (bổ sung)", name=general.name)))
    if request.method == "GET":
        form.paid_on.data = local_today()
    status = 200
    if form.validate_on_submit():
        repeat = once.claim("disbursement.create", url_for("staff.case_detail", case_id=case.id))
        if repeat is not None:
            return repeat
        try:
            row = disbursements.record_disbursement(
                case.id, current_actor(), _role(), amount=form.amount.data, paid_on=form.paid_on.data,
                payee_kind=form.payee_kind.data, payee_name=form.payee_name.data, method=form.method.data,
                voucher_number=form.voucher_number.data, programme_id=form.programme_id.data,
                proof=form.proof.data, note=form.note.data)
        except DomainError as error:
            once.release()
            db.session.rollback()
            attach_error(form, error, "amount")
            status = error.status_code
        else:
            flash(_("Đã ghi khoản chi %(amount)s cho hồ sơ %(code)s, chờ lãnh đạo duyệt.",
                    amount=money_text(row.amount), code=case.code), "success")
            once.finish(url_for("staff.case_detail", case_id=case.id))
            return redirect(url_for("staff.case_detail", case_id=case.id))
    elif request.method == "POST":
        status = 400
    money = disbursements.case_money(case)
    return render_template("cases/disbursement_form.html", form=form, case=case, money=money,
                           available=disbursements.available_for(case.programme_id, case.id)), status


@bp.get("/disbursements")
@roles_required(*FINANCE)
def disbursement_list():
    status = request.args.get("status") or None
    rows = disbursements.list_disbursements(status=status)
    return render_template("cases/disbursements.html", rows=rows, status=status,
                           statuses=list(DisbursementStatus), reason_form=ReasonForm())


def _decide(disbursement_id: int, action):
    row = db.session.get(Disbursement, disbursement_id)
    if row is None:
        abort(404)
    back = _safe_back(url_for("staff.disbursement_list"))
    try:
        message = action(row)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return render_template("cases/disbursements.html", rows=disbursements.list_disbursements(),
                               status=None, statuses=list(DisbursementStatus),
                               reason_form=ReasonForm()), error.status_code
    flash(message, "success")
    return redirect(back)


@bp.post("/disbursements/<int:disbursement_id>/approve")
@roles_required(Role.DIRECTOR)
def disbursement_approve(disbursement_id: int):
    row = db.session.get(Disbursement, disbursement_id)
    if row is None:
        abort(404)
    if row.status == DisbursementStatus.RECORDED.value:
        step = confirmation_page(
            _("Duyệt khoản chi %(amount)s?", amount=money_text(row.amount)),
            [_("Khoản chi %(amount)s cho hồ sơ %(code)s (%(kind)s: %(payee)s) sẽ được duyệt và trừ vào "
               "số dư chương trình.", amount=money_text(row.amount), code=row.case.code,
               kind=row.payee_kind_label, payee=payee_label(row))],
            button=_("Duyệt khoản chi"), style="success", cancel_url=_safe_back(url_for("staff.disbursement_list")))
        if step is not None:
            return step

    def approve(row):
        disbursements.approve_disbursement(row.id, current_actor(), _role())
        return _("Đã duyệt khoản chi.")
    return _decide(disbursement_id, approve)


@bp.post("/disbursements/<int:disbursement_id>/reject")
@roles_required(Role.DIRECTOR)
def disbursement_reject(disbursement_id: int):
    def reject(row):
        disbursements.reject_disbursement(row.id, current_actor(), _role(), reason=request.form.get("reason", ""))
        return _("Đã không duyệt khoản chi.")
    return _decide(disbursement_id, reject)


@bp.post("/disbursements/<int:disbursement_id>/reverse")
@roles_required(Role.DIRECTOR)
def disbursement_reverse(disbursement_id: int):
    def reverse(row):
        disbursements.reverse_disbursement(row.id, current_actor(), _role(), reason=request.form.get("reason", ""))
        return _("Đã đảo khoản chi (bút toán đảo mới, có lý do).")
    return _decide(disbursement_id, reverse)


@bp.route("/cases/<int:case_id>/donations/new", methods=["GET", "POST"])
@roles_required(Role.ACCOUNTANT, Role.DIRECTOR)
def case_donation_new(case_id: int):
    case = cases.get_case(case_id)
    form = CaseDonationForm()
    form.donor_id.choices = [(0, _("— Chọn —"))] + [(d.id, _("%(name)s (MST %(tax_code)s)", name=d.name, tax_code=d.tax_code)
                                                     if d.tax_code else d.name)
                                                 for d in db.session.scalars(
        sa.select(Donor).where(Donor.merged_into_id.is_(None)).order_by(Donor.name).limit(1000))]
    if request.method == "GET":
        form.received_on.data = local_today()
    status = 200
    if form.validate_on_submit():
        # A date without a time: noon Vietnam time, or now when that is still to come today.
        received_at = min(local_to_utc(datetime.combine(form.received_on.data, time(12, 0))), utcnow())
        repeat = once.claim("case.donation", url_for("staff.case_detail", case_id=case.id))
        if repeat is not None:
            return repeat
        try:
            disbursements.designate_donation(
                case.id, current_actor(), _role(), donor_id=form.donor_id.data, amount=form.amount.data,
                channel=form.channel.data, received_at=received_at,
                reference=form.reference.data, note=form.note.data,
                in_kind_description=form.in_kind_description.data)
        except DomainError as error:
            once.release()
            db.session.rollback()
            attach_error(form, error, "amount")
            status = error.status_code
        else:
            once.finish(url_for("staff.case_detail", case_id=case.id))
            flash(_("Đã ghi nhận khoản ủng hộ chỉ định cho hồ sơ %(code)s.", code=case.code), "success")
            return redirect(url_for("staff.case_detail", case_id=case.id))
    elif request.method == "POST":
        status = 400
    return render_template("cases/donation_form.html", form=form, case=case), status


@bp.get("/programme-balances")
@roles_required(*ALL_STAFF)
def programme_balances():
    balances = disbursements.programme_balances()
    counts = cases.case_state_counts()
    return render_template("cases/balances.html", balances=balances, counts=counts,
                           states=list(CaseState))


# --------------------------------------------------------------------------- categories

@bp.route("/case-categories", methods=["GET", "POST"])
@roles_required(Role.DIRECTOR)
def case_categories():
    form = CategoryForm()
    status = 200
    if form.validate_on_submit():
        try:
            category = cases.add_category(form.name.data, current_actor())
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "name")
            status = error.status_code
        else:
            flash(_("Đã thêm «%(name)s».", name=category.name), "success")
            return redirect(url_for("staff.case_categories"))
    elif request.method == "POST":
        status = 400
    rows = db.session.scalars(sa.select(CircumstanceCategory).order_by(
        CircumstanceCategory.sort_order, CircumstanceCategory.id)).all()
    return render_template("cases/categories.html", form=form, categories=rows), status


@bp.post("/case-categories/<int:category_id>")
@roles_required(Role.DIRECTOR)
def case_category_update(category_id: int):
    form = CategoryUpdateForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
        return redirect(url_for("staff.case_categories"))
    name = request.form.get("name")
    active = request.form.get("active")
    category = cases.update_category(category_id, current_actor(), name=name if name is not None else None,
                                     is_active=None if active is None else active == "1")
    flash(_("Đã cập nhật «%(name)s».", name=category.name), "success")
    return redirect(url_for("staff.case_categories"))

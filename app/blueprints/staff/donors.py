"""Donors: list and search, detail with yearly totals, create/edit with duplicate
suggestions, merge with confirmation."""
from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for

from app.params import parse_id, parse_year
from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.forms import attach_error
from app.forms.backoffice import DonorForm, MergeForm
from app.models import Role
from app.security import current_actor, roles_required
from app.services import donor_profiles as profiles
from app.services.donors import CHOOSABLE, merge_donors
from app.services.paging import page_number
from app.services.setup import get_settings
from app.timeutil import local_today
from app.i18n import _

READERS = (Role.ACCOUNTANT, Role.DIRECTOR, Role.VIEWER)
WRITERS = (Role.ACCOUNTANT, Role.DIRECTOR)


def _year_arg() -> int:
    return parse_year(request.args.get("year"), local_today().year)


@bp.get("/donors")
@roles_required(*READERS)
def donor_list():
    year = _year_arg()
    kind = request.args.get("kind") or None
    sort = request.args.get("sort") if request.args.get("sort") in profiles.SORTS else "name"
    q = (request.args.get("q") or "").strip()
    include_merged = request.args.get("merged") == "1"
    page = profiles.search_donors(q=q, kind=kind, year=year, include_merged=include_merged, sort=sort,
                                  page=page_number(request.args.get("page")),
                                  per_page=current_app.config.get("ITEMS_PER_PAGE", 25))
    args = {k: v for k, v in dict(q=q, kind=kind, year=year, sort=sort,
                                  merged="1" if include_merged else None).items() if v}
    return render_template("staff/donors/list.html", page=page, q=q, kind=kind, year=year, sort=sort,
                           include_merged=include_merged, sorts=profiles.SORTS, args=args,
                           threshold=get_settings().commendation_threshold,
                           years=range(local_today().year, local_today().year - 8, -1))


@bp.get("/donors/lookup")
@roles_required(*READERS)
def donor_lookup():
    return jsonify(profiles.lookup(request.args.get("q", "")))


@bp.route("/donors/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def donor_create():
    form = DonorForm()
    suggestions = []
    status = 200
    if form.validate_on_submit():
        values = form.values()
        try:
            clean = profiles.clean_donor_fields(values)
            suggestions = profiles.find_duplicates(
                kind=clean["kind"], name=clean["name"], tax_code=clean.get("tax_code"),
                email=clean.get("email"), phone=clean.get("phone"))
            if suggestions and not form.confirm_new.data:
                form.confirm_new.errors.append(
                    _("Có hồ sơ tương tự (xem bên phải). Hãy mở hồ sơ có sẵn, hoặc đánh dấu ô này để vẫn tạo mới."))
                status = 409
            else:
                donor = profiles.create_donor(current_actor(), **values)
                flash(_("Đã tạo hồ sơ nhà hảo tâm %(name)s.", name=donor.name), "success")
                return redirect(url_for("staff.donor_detail", donor_id=donor.id))
        except DomainError as error:
            attach_error(form, error, "name")
            status = error.status_code
    elif request.method == "POST":
        status = 422
    return render_template("staff/donors/form.html", form=form, donor=None, suggestions=suggestions), status


@bp.get("/donors/<int:donor_id>")
@roles_required(*READERS)
def donor_detail(donor_id: int):
    donor = profiles.get_donor(donor_id)
    settings = get_settings()
    years = profiles.totals_by_year(donor.id, settings.commendation_threshold)
    suggestions = [] if donor.merged_into_id else profiles.find_duplicates(
        kind=donor.kind, name=donor.name, tax_code=donor.tax_code, email=donor.email,
        phone=donor.phone, exclude_id=donor.id)
    return render_template(
        "staff/donors/detail.html", donor=donor, years=years, threshold=settings.commendation_threshold,
        history=profiles.donor_history(donor.id), receipts=profiles.donor_receipts(donor.id),
        merged=profiles.merged_records(donor.id), suggestions=suggestions,
        lifetime=sum(y.net for y in years))


@bp.route("/donors/<int:donor_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def donor_edit(donor_id: int):
    donor = profiles.get_donor(donor_id)
    if donor.merged_into_id:
        flash(_("Hồ sơ này đã được gộp; hãy sửa hồ sơ còn lại."), "warning")
        return redirect(url_for("staff.donor_detail", donor_id=donor.merged_into_id))
    form = DonorForm(obj=donor)
    del form.confirm_new
    status = 200
    if form.validate_on_submit():
        try:
            profiles.update_donor(donor.id, current_actor(), **form.values())
        except DomainError as error:
            attach_error(form, error, "name")
            status = error.status_code
        else:
            flash(_("Đã lưu hồ sơ nhà hảo tâm."), "success")
            return redirect(url_for("staff.donor_detail", donor_id=donor.id))
    elif request.method == "POST":
        status = 422
    return render_template("staff/donors/form.html", form=form, donor=donor, suggestions=[]), status


@bp.route("/donors/<int:donor_id>/merge", methods=["GET", "POST"])
@roles_required(*WRITERS)
def donor_merge(donor_id: int):
    """Step 1 (GET ?other_id=): both records side by side with their totals. Step 2 (POST
    with the confirmation box): merge `other_id` into this donor."""
    survivor = profiles.get_donor(donor_id)
    if survivor.merged_into_id:
        flash(_("Hồ sơ này đã được gộp vào hồ sơ khác."), "warning")
        return redirect(url_for("staff.donor_detail", donor_id=survivor.merged_into_id))
    form = MergeForm(formdata=request.args) if request.method == "GET" else MergeForm()
    if request.method == "GET" and not request.args.get("other_id"):
        form.other_id.errors = []
    other = None
    other_id = parse_id(request.values.get("other_id"))
    if other_id:
        try:
            other = profiles.get_donor(other_id)
        except DomainError as error:
            form.other_id.errors = [error.message]
    threshold = get_settings().commendation_threshold
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and other is not None:
            if not form.confirm.data:
                form.confirm.errors.append(_("Vui lòng xác nhận trước khi gộp."))
                status = 422
            else:
                try:
                    keep = {f: request.form.get(f"keep_{f}", "survivor") for f in CHOOSABLE}
                    merge_donors(survivor.id, other.id, current_actor(), keep=keep)
                except DomainError as error:
                    form.other_id.errors = [error.message]
                    status = error.status_code
                else:
                    flash(_("Đã gộp hồ sơ #%(id)s (%(name)s) vào hồ sơ này.", id=other.id, name=other.name), "success")
                    return redirect(url_for("staff.donor_detail", donor_id=survivor.id))
        else:
            status = 422
    compare = None
    if other is not None:
        compare = [(d, sum(y.net for y in profiles.totals_by_year(d.id, threshold)))
                   for d in (survivor, other)]
    return render_template("staff/donors/merge.html", survivor=survivor, other=other, form=form,
                           compare=compare, choosable=CHOOSABLE), status




@bp.app_context_processor
def inject_user_can():
    from app.security import user_can

    return {"user_can": user_can}

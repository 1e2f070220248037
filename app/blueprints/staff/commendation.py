"""The commendation list: review, exclusions, print overrides, freeze and downloads.

Directors (and admins) act; accountants read; other roles get 403.

The pages speak the reader's language; the list's files are official documents and stay
Vietnamese (app/services/commendation.py renders them inside `vietnamese()`).
"""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from app.params import parse_year
from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.forms import attach_error
from app.forms.commendation import ConfirmForm, ExclusionForm, FreezeForm, OverrideForm
from app.i18n import _
from app.models import Role
from app.security import current_actor, roles_required, user_can
from app.services import commendation
from app.timeutil import local_today

READERS = (Role.DIRECTOR, Role.ACCOUNTANT)
ACTORS = (Role.DIRECTOR,)


def _send(exported: commendation.ExportFile):
    return send_file(BytesIO(exported.data), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename, max_age=0)


@bp.get("/commendation")
@roles_required(*READERS)
def commendation_index():
    raw = request.args.get("year")
    year = parse_year(raw, 0, minimum=1, maximum=9999) if raw else local_today().year - 1
    # A year outside the lists' range (or not a year) is a 404 from build_list.
    return _render_index(year, FreezeForm(formdata=None))


def _render_index(year: int, freeze_form: FreezeForm, status: int = 200):
    clist = commendation.build_list(year)
    this_year = local_today().year
    return render_template(
        "staff/commendation/index.html", year=year, clist=clist,
        years=list(range(this_year, max(commendation.FIRST_YEAR, this_year - 10) - 1, -1)),
        submissions=commendation.submissions_for(year), freeze_form=freeze_form,
        can_act=user_can(*ACTORS), year_closed=year < this_year), status


@bp.post("/commendation/<int:year>/freeze")
@roles_required(*ACTORS)
def commendation_freeze(year: int):
    commendation.check_year(year)
    form = FreezeForm()
    if not form.validate_on_submit():
        return _render_index(year, form, 400)
    submission = commendation.freeze(year, current_actor())
    flash(_("Đã chốt danh sách số %(number)s.", number=submission.number), "success")
    return redirect(url_for("staff.commendation_submission", submission_id=submission.id))


@bp.get("/commendation/<int:year>/export.<fmt>")
@roles_required(*READERS)
def commendation_export(year: int, fmt: str):
    return _send(commendation.export_live(year, fmt))


@bp.get("/commendation/<int:year>/donors/<int:donor_id>")
@roles_required(*READERS)
def commendation_donor(year: int, donor_id: int):
    return _render_donor(year, donor_id)


def _render_donor(year: int, donor_id: int, *, exclusion_form=None, override_form=None, status=200):
    review = commendation.review_donor(year, donor_id)
    if override_form is None:
        override_form = OverrideForm(formdata=None, obj=review.override)
    return render_template(
        "staff/commendation/donor.html", year=year, review=review,
        exclusion_form=exclusion_form or ExclusionForm(formdata=None),
        override_form=override_form, include_form=ConfirmForm(),
        can_act=user_can(*ACTORS)), status


@bp.post("/commendation/<int:year>/donors/<int:donor_id>/exclude")
@roles_required(*ACTORS)
def commendation_exclude(year: int, donor_id: int):
    commendation.review_donor(year, donor_id)  # 404 before anything else
    form = ExclusionForm()
    if form.validate_on_submit():
        try:
            commendation.exclude_donor(year, donor_id, form.reason.data, form.note.data, current_actor())
        except DomainError as error:
            attach_error(form, error, "reason")
            return _render_donor(year, donor_id, exclusion_form=form, status=error.status_code)
        flash(_("Đã loại nhà hảo tâm khỏi danh sách năm này."), "success")
        return redirect(url_for("staff.commendation_donor", year=year, donor_id=donor_id))
    return _render_donor(year, donor_id, exclusion_form=form, status=400)


@bp.post("/commendation/<int:year>/donors/<int:donor_id>/include")
@roles_required(*ACTORS)
def commendation_include(year: int, donor_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    commendation.include_donor(year, donor_id, current_actor())
    flash(_("Đã đưa nhà hảo tâm trở lại danh sách xét."), "success")
    return redirect(url_for("staff.commendation_donor", year=year, donor_id=donor_id))


@bp.post("/commendation/<int:year>/donors/<int:donor_id>/override")
@roles_required(*ACTORS)
def commendation_override(year: int, donor_id: int):
    commendation.review_donor(year, donor_id)
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            commendation.set_override(year, donor_id, current_actor(), name=form.name.data,
                                      title=form.title.data, address=form.address.data)
        except DomainError as error:
            attach_error(form, error, "name")
            return _render_donor(year, donor_id, override_form=form, status=error.status_code)
        flash(_("Đã lưu cách in trên danh sách."), "success")
        return redirect(url_for("staff.commendation_donor", year=year, donor_id=donor_id))
    return _render_donor(year, donor_id, override_form=form, status=400)


@bp.get("/commendation/submissions/<int:submission_id>")
@roles_required(*READERS)
def commendation_submission(submission_id: int):
    submission = commendation.get_submission(submission_id)
    return render_template(
        "staff/commendation/submission.html", submission=submission,
        organizations=commendation.submission_rows(submission, "organization"),
        individuals=commendation.submission_rows(submission, "individual"),
        diff=commendation.diff_submission(submission))


@bp.get("/commendation/submissions/<int:submission_id>/export.<fmt>")
@roles_required(*READERS)
def commendation_submission_export(submission_id: int, fmt: str):
    return _send(commendation.export_submission(commendation.get_submission(submission_id), fmt))

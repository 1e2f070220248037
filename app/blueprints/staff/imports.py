"""Bulk import in the back office: upload → preview (nothing written) → confirm → report."""
from __future__ import annotations

import hashlib
import json
import re

from flask import abort, flash, redirect, render_template, request, url_for

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.forms.backoffice import ImportConfirmForm, ImportUploadForm
from app.models import Role
from app.security import current_actor, roles_required
from app.services import files
from app.services.donations import importer
from app.services.jobs import kinds as job_kinds
from app.services.jobs import runner as jobs
from app.i18n import _

IMPORTERS = (Role.ACCOUNTANT, Role.DIRECTOR)
_TOKEN = re.compile(r"[0-9a-f]{64}\.(csv|xlsx)")
PREVIEW_ROWS = 50


def _exists(token: str) -> bool:
    if not _TOKEN.fullmatch(token or ""):
        abort(400)
    return files.imports().exists(token)


@bp.route("/donations/import", methods=["GET", "POST"])
@roles_required(*IMPORTERS)
def donation_import():
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return render_template("staff/donations/import.html", form=form, plan=None,
                               columns=importer.COLUMNS), 422 if request.method == "POST" else 200
    data = form.file.data.read()
    ext = "xlsx" if form.file.data.filename.lower().endswith(".xlsx") else "csv"
    token = f"{hashlib.sha256(data).hexdigest()}.{ext}"
    files.imports().put(token, data)
    try:
        plan = importer.plan_import(data, form.file.data.filename)
    except DomainError as error:
        form.file.errors.append(error.message)
        return render_template("staff/donations/import.html", form=form, plan=None, columns=importer.COLUMNS), 422
    confirm = ImportConfirmForm(token=token)
    return render_template("staff/donations/import.html", form=form, plan=plan, confirm=confirm,
                           preview=plan.rows[:PREVIEW_ROWS], columns=importer.COLUMNS,
                           file_name=form.file.data.filename)


@bp.get("/donations/import/template.<fmt>")
@roles_required(*IMPORTERS)
def donation_import_template(fmt: str):
    """The import template with Vietnamese headings and two example rows."""
    from flask import Response

    from app.renderers.import_template import template_csv, template_xlsx

    headings = [importer.VIETNAMESE_HEADINGS[c] for c in importer.COLUMNS]
    if fmt == "csv":
        body, mimetype = template_csv(headings, importer.TEMPLATE_EXAMPLES), "text/csv"
    elif fmt == "xlsx":
        body = template_xlsx(headings, importer.TEMPLATE_EXAMPLES, importer.TEMPLATE_NOTES)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="mau-nhap-khoan-ung-ho.{fmt}"'
    return response


@bp.post("/donations/import/confirm")
@roles_required(*IMPORTERS)
def donation_import_confirm():
    form = ImportConfirmForm()
    if not form.validate_on_submit() or not form.token.data:
        flash(_("Phiên nhập dữ liệu không hợp lệ; vui lòng tải tệp lên lại."), "warning")
        return redirect(url_for("staff.donation_import")), 303
    if not _exists(form.token.data):
        abort(404)
    # The worker plans again (the file could have been checked against older data) and
    # writes; the job page shows progress and then the report.
    job, created = jobs.submit(job_kinds.IMPORT, {
        "token": form.token.data, "file_name": (request.form.get("file_name") or form.token.data)[:200],
        "skip_invalid": bool(form.skip_invalid.data), "no_receipts": bool(form.no_receipts.data),
    }, current_actor(), key=form.token.data)
    if not created:
        flash(_("Tệp này đang được nhập; đây là tác vụ đang chạy."), "warning")
    return redirect(url_for("staff.job_detail", job_id=job.id))


@bp.get("/donations/import/report/<token>")
@roles_required(*IMPORTERS)
def donation_import_report(token: str):
    if not _TOKEN.fullmatch(token):
        abort(404)
    try:
        report = json.loads(files.imports().get(f"{token}.report.json"))
    except KeyError:
        abort(404)
    errors = [importer.report_error_text(e) for e in report.get("errors") or ()]
    return render_template("staff/donations/import_report.html", report=report, errors=errors)

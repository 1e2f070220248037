"""Bulk import in the back office: upload → preview (nothing written) → confirm → report."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.forms.backoffice import ImportConfirmForm, ImportUploadForm
from app.models import Role
from app.security import current_actor, roles_required
from app.services.donations import importer

IMPORTERS = (Role.ACCOUNTANT, Role.DIRECTOR)
_TOKEN = re.compile(r"[0-9a-f]{64}\.(csv|xlsx)")
PREVIEW_ROWS = 50


def _folder() -> Path:
    folder = Path(current_app.config.get("IMPORT_FOLDER") or Path(current_app.instance_path) / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _load(token: str) -> bytes:
    if not _TOKEN.fullmatch(token or ""):
        abort(400)
    path = _folder() / token
    if not path.exists():
        abort(404)
    return path.read_bytes()


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
    (_folder() / token).write_bytes(data)
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
        flash("Phiên nhập dữ liệu không hợp lệ; vui lòng tải tệp lên lại.", "warning")
        return redirect(url_for("staff.donation_import")), 303
    data = _load(form.token.data)
    plan = importer.plan_import(data, request.form.get("file_name") or form.token.data)
    if not plan.ok and not form.skip_invalid.data:
        flash(f"Tệp có {plan.error_count} lỗi: không ghi dữ liệu nào. Sửa tệp hoặc chọn bỏ qua các dòng lỗi.", "danger")
        return redirect(url_for("staff.donation_import"))
    try:
        result = importer.execute_plan(plan, current_actor(), skip_invalid=form.skip_invalid.data,
                                       issue_receipts=not form.no_receipts.data)
    except DomainError as error:  # 409: a simultaneous confirmation of the same file won
        flash(error.message, "danger")
        return render_template("staff/donations/import.html", form=ImportUploadForm(formdata=None),
                               plan=None, columns=importer.COLUMNS), error.status_code
    report = {
        "file_name": plan.file_name, "rows": plan.total_rows, "imported": result.donations,
        "already_imported": plan.already_imported, "invalid": plan.invalid_rows if form.skip_invalid.data else 0,
        "donors_created": result.donors_created, "matched": plan.matched_rows, "receipts": result.receipts,
        "first_id": result.first_id, "last_id": result.last_id,
        "errors": [str(e) for e in plan.errors[:500]],
        "duplicates": [dict(row=d.row, name=d.name, existing=d.existing_ids, rows=d.other_rows)
                       for d in plan.possible_duplicates[:1000]],
        "duplicate_count": len(plan.possible_duplicates),
    }
    (_folder() / f"{form.token.data}.report.json").write_text(json.dumps(report, ensure_ascii=False))
    flash(f"Đã nhập {result.donations} khoản ủng hộ.", "success")
    return redirect(url_for("staff.donation_import_report", token=form.token.data))


@bp.get("/donations/import/report/<token>")
@roles_required(*IMPORTERS)
def donation_import_report(token: str):
    if not _TOKEN.fullmatch(token):
        abort(404)
    path = _folder() / f"{token}.report.json"
    if not path.exists():
        abort(404)
    return render_template("staff/donations/import_report.html", report=json.loads(path.read_text()))

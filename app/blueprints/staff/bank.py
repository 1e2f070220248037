"""Bank transfers in the back office: the reconciliation queue (/staff/bank), a line's
actions, statement upload → preview → import, the fund's accounts (admin)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for

from app.adapters.statements import StatementError
from app.blueprints.staff.base import bp
from app.errors import DomainError
from app.extensions import db
from app.i18n import _, ngettext
from app.models import (
    LINE_STATE_LABELS, BankAccount, BankLine, BankStatementImport, LineState, Programme, Role,
)
from app.security import current_actor, roles_required, user_can
from app.services.bank import accounts, reasons, reconcile, statements

READERS = (Role.ACCOUNTANT, Role.DIRECTOR)
ACTORS = (Role.ACCOUNTANT,)
_TOKEN = re.compile(r"[0-9a-f]{64}\.(csv|xlsx)")


def _folder() -> Path:
    folder = Path(current_app.config.get("IMPORT_FOLDER") or Path(current_app.instance_path) / "imports") / "bank"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@bp.get("/bank")
@roles_required(*READERS)
def bank_queue():
    state = request.args.get("state", "suggested")
    if state not in {s.value for s in LineState} | {"all"}:
        state = "suggested"
    account_id = request.args.get("account", type=int)
    query = sa.select(BankLine).order_by(BankLine.booked_at.desc(), BankLine.id.desc())
    if state != "all":
        query = query.where(BankLine.state == state)
    if account_id:
        query = query.where(BankLine.account_id == account_id)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = db.paginate(query, page=page, per_page=50, error_out=False)
    counts = dict(db.session.execute(sa.select(BankLine.state, sa.func.count()).group_by(BankLine.state)).all())
    return render_template("staff/bank/queue.html", rows=rows, state=state, labels=LINE_STATE_LABELS,
                           counts=counts, accounts=accounts.list_accounts(), account_id=account_id,
                           can_act=user_can(*ACTORS), checks=reconcile.balance_checks(5),
                           reason_shown=reasons.shown)


@bp.post("/bank/confirm")
@roles_required(*ACTORS)
def bank_confirm_bulk():
    ids = [int(v) for v in request.form.getlist("line_id") if v.isdecimal()]
    if not ids:
        flash(_("Chưa chọn giao dịch nào."), "warning")
        return redirect(url_for("staff.bank_queue"))
    done, problems = reconcile.confirm_suggestions(ids, current_actor())
    flash(ngettext("Đã xác nhận %(num)d giao dịch.", "Đã xác nhận %(num)d giao dịch.", done),
          "success" if done else "warning")
    for problem in problems[:10]:
        flash(problem, "danger")
    return redirect(url_for("staff.bank_queue", state="suggested"))


@bp.get("/bank/lines/<int:line_id>")
@roles_required(*READERS)
def bank_line(line_id: int):
    line = db.session.get(BankLine, line_id)
    if line is None:
        abort(404)
    from app.models import AuditEntry

    history = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity_type == "bank_lines", AuditEntry.entity_id == str(line.id))
        .order_by(AuditEntry.created_at, AuditEntry.id)).all()
    programmes = db.session.scalars(sa.select(Programme).where(Programme.is_active).order_by(Programme.sort_order)).all()
    suggested_donor = None
    if line.suggestion and line.suggestion.get("donor_id"):
        from app.models import Donor

        suggested_donor = db.session.get(Donor, line.suggestion["donor_id"])
    return render_template("staff/bank/line.html", line=line, history=history, programmes=programmes,
                           reasons=reconcile.IGNORE_REASONS, can_act=user_can(*ACTORS),
                           suggested_donor=suggested_donor, reason_shown=reasons.shown)


def _act(line_id: int, action):
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        if isinstance(error, reconcile.LineNotFound):
            abort(404)
    return redirect(url_for("staff.bank_line", line_id=line_id))


@bp.post("/bank/lines/<int:line_id>/confirm")
@roles_required(*ACTORS)
def bank_line_confirm(line_id: int):
    return _act(line_id, lambda: (reconcile.confirm_suggestion(line_id, current_actor()),
                                  flash(_("Đã ghi nhận khoản ủng hộ từ gợi ý."), "success")))


@bp.post("/bank/lines/<int:line_id>/match")
@roles_required(*ACTORS)
def bank_line_match(line_id: int):
    form = request.form
    return _act(line_id, lambda: (reconcile.match_by_hand(
        line_id, current_actor(), donor_id=form.get("donor_id", type=int), pledge_code=form.get("pledge_code") or None,
        programme_id=form.get("programme_id", type=int), create_donor=form.get("create_donor") == "1",
        note=form.get("note")), flash(_("Đã ghi nhận khoản ủng hộ."), "success")))


@bp.post("/bank/lines/<int:line_id>/ignore")
@roles_required(*ACTORS)
def bank_line_ignore(line_id: int):
    return _act(line_id, lambda: (reconcile.mark_not_donation(
        line_id, current_actor(), reason_code=request.form.get("reason", ""), note=request.form.get("note")),
        flash(_("Đã đánh dấu: không phải khoản ủng hộ."), "success")))


@bp.post("/bank/lines/<int:line_id>/undo")
@roles_required(*ACTORS)
def bank_line_undo(line_id: int):
    return _act(line_id, lambda: (reconcile.undo_match(line_id, current_actor(), reason=request.form.get("reason", "")),
                                  flash(_("Đã hoàn tác: khoản ủng hộ được đảo bút toán, giao dịch về hàng chờ."), "success")))


# --------------------------------------------------------------------------- statements

@bp.route("/bank/import", methods=["GET", "POST"])
@roles_required(*ACTORS)
def bank_import():
    ctx = dict(accounts=accounts.list_accounts(), layouts=["auto", *statements.BUILT_IN, *sorted(statements.custom_layouts())],
               plan=None, errors=[], token=None)
    if request.method == "GET":
        return render_template("staff/bank/import.html", **ctx)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        ctx["errors"] = [_("Vui lòng chọn tệp sao kê (XLSX hoặc CSV).")]
        return render_template("staff/bank/import.html", **ctx), 422
    data = upload.read(current_app.config["BANK_STATEMENT_MAX_BYTES"] + 1)
    if len(data) > current_app.config["BANK_STATEMENT_MAX_BYTES"]:
        ctx["errors"] = [_("Tệp quá lớn.")]
        return render_template("staff/bank/import.html", **ctx), 413
    layout, account = request.form.get("layout") or "auto", request.form.get("account") or None
    try:
        plan = statements.plan_statement(data, upload.filename, account_number=account, layout=layout)
    except StatementError as error:
        ctx["errors"] = [error.message] + [_("Dòng %(row)s: %(message)s", row=row, message=message)
                                            for row, message in error.errors]
        return render_template("staff/bank/import.html", **ctx), 422
    token = f"{hashlib.sha256(data).hexdigest()}.{'xlsx' if data[:2] == b'PK' else 'csv'}"
    (_folder() / token).write_bytes(data)
    ctx.update(plan=plan, token=token, file_name=upload.filename, layout=layout,
               account=plan.account.account_number, preview=[l for l, _fp in plan.new[:50]])
    return render_template("staff/bank/import.html", **ctx)


@bp.post("/bank/import/confirm")
@roles_required(*ACTORS)
def bank_import_confirm():
    token = request.form.get("token", "")
    if not _TOKEN.fullmatch(token) or not (_folder() / token).exists():
        flash(_("Phiên nhập sao kê không hợp lệ; vui lòng tải tệp lên lại."), "warning")
        return redirect(url_for("staff.bank_import"))
    data = (_folder() / token).read_bytes()
    try:
        _plan, record = statements.import_file(
            data, request.form.get("file_name") or token, current_actor(), account_number=request.form.get("account"),
            layout=request.form.get("layout") or "auto", user_id=current_actor().user_id)
    except StatementError as error:
        flash(error.message, "danger")
        return redirect(url_for("staff.bank_import"))
    flash(_("Đã nhập sao kê: %(new)d giao dịch mới trên %(rows)d dòng.", new=record.new_lines, rows=record.rows), "success")
    return redirect(url_for("staff.bank_queue", state="all", account=record.account_id))


# --------------------------------------------------------------------------- accounts (admin)

@bp.route("/bank/accounts", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def bank_accounts():
    status = 200
    if request.method == "POST":
        form = request.form
        try:
            accounts.save_account(current_actor(), bank_bin=form.get("bank_bin", ""),
                                  account_number=form.get("account_number", ""), account_name=form.get("account_name", ""),
                                  label=form.get("label"), is_active=form.get("is_active") == "1",
                                  is_default=form.get("is_default") == "1", appeal_id=form.get("appeal_id", type=int),
                                  account_id=form.get("account_id", type=int))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            status = error.status_code
        else:
            flash(_("Đã lưu tài khoản ngân hàng."), "success")
            return redirect(url_for("staff.bank_accounts"))
    from app.models import Appeal

    appeals = db.session.scalars(sa.select(Appeal).order_by(Appeal.title)).all()
    return render_template("staff/bank/accounts.html", accounts=accounts.list_accounts(), banks=accounts.banks(),
                           appeals=appeals, edit=request.args.get("edit", type=int)), status


__all__ = ["BankAccount", "BankStatementImport"]

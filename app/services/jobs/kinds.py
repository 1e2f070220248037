"""What each kind of job does. Other features add theirs with `runner.register_kind`
(docs/jobs.md): the yearly report and the bank statement import are meant to be added here
by the engineers building them.

Checkpoints, per kind:

- donation_import: the import writes in ONE transaction (importer.execute_plan); the job's
  checkpoint (the report) is written in that same transaction. Killed before the commit:
  nothing was written, the rerun imports the file. Killed after: the rerun finds the
  checkpoint and only finishes the job. Either way every row once.
- annual_statements: each PDF is written whole (`.part`, then renamed) and a finished one is
  skipped on a rerun; the e-mails go through the outbox with one dedupe key per donor and
  year, queued in chunks whose commit also saves the job's position.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.errors import ValidationFailed
from app.extensions import db
from app.i18n import _l, ngettext
from app.models import Donor, Role
from app.services import files, page_cache
from app.services.donations import importer
from app.services.jobs.runner import JobContext, Outcome, register_kind
from app.services.receipts import documents as receipt_documents
from app.services.receipts import mail as receipt_mail

IMPORT = "donation_import"
STATEMENTS = "annual_statements"
MAIL_CHUNK = 200


# --------------------------------------------------------------------------- import

def import_report(plan, result, *, skip_invalid: bool, receipts: int) -> dict:
    return {
        "file_name": plan.file_name, "rows": plan.total_rows, "imported": len(plan.rows),
        "already_imported": plan.already_imported, "invalid": plan.invalid_rows if skip_invalid else 0,
        "donors_created": result.donors_created if result else None, "matched": plan.matched_rows,
        "receipts": receipts, "first_id": result.first_id if result else None,
        "last_id": result.last_id if result else None,
        "errors": [e.as_report() for e in plan.errors[:500]],  # translated when shown
        "duplicates": [dict(row=d.row, name=d.name, existing=d.existing_ids, rows=d.other_rows)
                       for d in plan.possible_duplicates[:1000]],
        "duplicate_count": len(plan.possible_duplicates),
    }


def run_import(ctx: JobContext) -> Outcome:
    token = ctx.params["token"]
    report_key = f"{token}.report.json"
    if ctx.checkpoint.get("committed"):
        # A previous attempt committed the import (and this checkpoint with it) and died
        # before finishing the job: nothing left to write.
        return Outcome(summary=ctx.checkpoint["report"], file_key=None)
    data = files.imports().get(token)
    skip_invalid = bool(ctx.params.get("skip_invalid"))
    issue_receipts = not ctx.params.get("no_receipts")
    estimate = max(data.count(b"\n") - 1, 1) if not token.endswith(".xlsx") else None
    ctx.progress(0, estimate * 2 if estimate else None, "validate", force=True)

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "validate":
            ctx.progress(done, (estimate or done) * 2 if estimate else None, "validate")
        else:
            base = plan_rows_total[0]
            ctx.progress(base + done, base + total, "write")
            if done == total:
                # Same transaction as the import: the report commits with the rows.
                ctx.save({"committed": True, "report": import_report(
                    plan_holder[0], None, skip_invalid=skip_invalid,
                    receipts=total if issue_receipts else 0)})

    plan_holder: list = [None]
    plan_rows_total = [0]
    plan = importer.plan_import(data, ctx.params.get("file_name") or token, progress=progress)
    plan_holder[0] = plan
    plan_rows_total[0] = plan.total_rows
    ctx.progress(plan.total_rows, plan.total_rows + len(plan.rows), "write", force=True)
    if not plan.ok and not skip_invalid:
        db.session.rollback()
        report = import_report(plan, None, skip_invalid=False, receipts=0)
        files.imports().put(report_key, json.dumps(report, ensure_ascii=False).encode())
        raise ValidationFailed(ngettext(
            "Tệp có %(num)d lỗi: không ghi dữ liệu nào. Sửa tệp hoặc chọn bỏ qua các dòng lỗi.",
            "Tệp có %(num)d lỗi: không ghi dữ liệu nào. Sửa tệp hoặc chọn bỏ qua các dòng lỗi.", plan.error_count))
    if not plan.rows:
        db.session.rollback()
        report = import_report(plan, None, skip_invalid=skip_invalid, receipts=0)
    else:
        result = importer.execute_plan(plan, ctx.actor, skip_invalid=skip_invalid,
                                       issue_receipts=issue_receipts, progress=progress)
        report = import_report(plan, result, skip_invalid=skip_invalid, receipts=result.receipts)
        page_cache.invalidate()  # the import writes through the driver, unseen by the ORM
    files.imports().put(report_key, json.dumps(report, ensure_ascii=False).encode(), "application/json")
    return Outcome(summary=report)


# --------------------------------------------------------------------------- statements

def work_folder(job_id: int) -> Path:
    return Path(current_app.instance_path) / "work" / f"job-{job_id}"


def run_statements(ctx: JobContext) -> Outcome:
    year = int(ctx.params["year"])
    send = bool(ctx.params.get("email"))
    folder = work_folder(ctx.job_id)
    donors = receipt_documents.donors_for_year(year)
    count = len(donors)
    total = count * (2 if send else 1) + 1
    ctx.progress(0, total, "pdf", force=True)
    db.session.commit()

    def pdf_progress(done: int, _total: int, _name: str, _what: str) -> None:
        ctx.progress(done, total, "pdf")

    result = receipt_documents.write_annual_statements(year, folder, progress=pdf_progress)
    db.session.commit()
    name = f"sao-ke-{year}.zip"
    key = f"jobs/{ctx.job_id}/{name}"
    ctx.progress(count, total, "zip", force=True)
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for path in sorted(folder.glob("*.pdf")):
            bundle.write(path, path.name)
    files.files().put_file(key, archive, "application/zip")
    archive.unlink()
    queued = skipped = 0
    if send:
        with_email = db.session.execute(
            sa.select(Donor.id, Donor.name, Donor.email)
            .where(Donor.id.in_([donor.id for donor, _, _ in donors]), Donor.email.is_not(None),
                   Donor.email != "").order_by(Donor.id)).all()
        skipped = count - len(with_email)
        start = int(ctx.checkpoint.get("mail_index", 0))
        done = count + 1 + start
        for index in range(start, len(with_email), MAIL_CHUNK):
            chunk = with_email[index:index + MAIL_CHUNK]
            queued += len(receipt_mail.queue_statement_mails(
                year, [(d, n, e) for d, n, e in chunk], created_by=ctx.actor.label))
            done += len(chunk)
            ctx.progress(done, total, "mail")
            ctx.save({**ctx.checkpoint, "mail_index": index + len(chunk)})
            db.session.commit()  # the mails and the position together
    shutil.rmtree(folder, ignore_errors=True)
    return Outcome(summary={"year": year, "donors": count, "written": result.written,
                            "reused": result.skipped, "emails_queued": queued,
                            "without_email": skipped if send else None},
                   file_key=key, file_name=name)


register_kind(IMPORT, _l("Nhập khoản ủng hộ từ tệp"), run_import,
              roles=(Role.ACCOUNTANT.value, Role.DIRECTOR.value))
register_kind(STATEMENTS, _l("Sao kê năm cho nhà hảo tâm"), run_statements,
              roles=(Role.ACCOUNTANT.value, Role.DIRECTOR.value))

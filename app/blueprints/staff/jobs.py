"""Background jobs in the back office: list, detail with progress and ETA, result download,
retry of a failed job, and starting the annual statements (docs/jobs.md)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from app.blueprints.staff.base import bp
from app.forms.jobs import JobActionForm, StatementsJobForm
from app.i18n import _
from app.models import Role
from app.security import current_actor, roles_required
from app.services import files
from app.services.jobs import kinds, runner
from app.timeutil import local_today

JOB_ROLES = (Role.ACCOUNTANT, Role.DIRECTOR)


def _visible_kinds() -> list[str]:
    if current_user.role == Role.ADMIN.value:
        return list(runner.KINDS)
    return [k.name for k in runner.KINDS.values() if current_user.role in k.roles]


def _job_or_404(job_id: int):
    job = runner.get_job(job_id)
    if job.kind not in _visible_kinds():
        abort(404)
    return job


@bp.get("/jobs")
@roles_required(*JOB_ROLES)
def job_list():
    jobs = [runner.view(job) for job in runner.list_jobs(_visible_kinds())]
    form = StatementsJobForm(year=local_today().year - 1)
    return render_template("staff/jobs/list.html", jobs=jobs, kinds=runner.KINDS, form=form,
                           refresh=any(v.job.active for v in jobs))


@bp.post("/jobs/statements")
@roles_required(*JOB_ROLES)
def job_start_statements():
    form = StatementsJobForm()
    if not form.validate_on_submit():
        jobs = [runner.view(job) for job in runner.list_jobs(_visible_kinds())]
        return render_template("staff/jobs/list.html", jobs=jobs, kinds=runner.KINDS, form=form,
                               refresh=False), 422
    job, created = runner.submit(kinds.STATEMENTS, {"year": form.year.data, "email": form.email.data},
                                 current_actor(), key=str(form.year.data))
    if not created:
        flash(_("Sao kê năm %(year)s đang được tạo (tác vụ #%(id)s); không tạo thêm.", year=form.year.data, id=job.id),
              "warning")
    return redirect(url_for("staff.job_detail", job_id=job.id))


@bp.get("/jobs/<int:job_id>")
@roles_required(*JOB_ROLES)
def job_detail(job_id: int):
    job = _job_or_404(job_id)
    return render_template("staff/jobs/detail.html", v=runner.view(job), kind=runner.KINDS.get(job.kind),
                           form=JobActionForm(), refresh=job.active)


@bp.get("/jobs/<int:job_id>/download")
@roles_required(*JOB_ROLES)
def job_download(job_id: int):
    job = _job_or_404(job_id)
    if job.state != "done" or not job.result_key:
        abort(404)
    try:
        handle = files.files().open(job.result_key)
    except KeyError:
        abort(404)
    response = send_file(handle, as_attachment=True, download_name=job.result_name or "ket-qua",
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/jobs/<int:job_id>/retry")
@roles_required(*JOB_ROLES)
def job_retry(job_id: int):
    _job_or_404(job_id)
    if not JobActionForm().validate_on_submit():
        abort(400)
    runner.retry(job_id, current_actor())
    flash(_("Đã đưa tác vụ vào hàng đợi để chạy lại."), "success")
    return redirect(url_for("staff.job_detail", job_id=job_id), 303)

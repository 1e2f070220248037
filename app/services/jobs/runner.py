"""Submitting, running and watching jobs (app/models/job.py).

Life of a job: `submit` adds the row (state queued, `active_key` set so the same work cannot
be queued twice at once) and, after the commit, puts "run job N" on the task queue. A worker
`run_job(N)`: claims the row with one conditional UPDATE (queued → running, attempts + 1),
calls the kind's function with a `JobContext`, and records done (result, file) or failed
(the error, shown to staff, who may retry). While it runs, the job reports progress through
`ctx.progress`: to the shared cache (the work's own transaction may hold the database, on
SQLite the whole file), which is also the worker's heartbeat. A job the worker stopped
reporting for JOB_STALE_SECONDS (kill -9, a lost machine) is put back in the queue by
`reap_stale`, which the worker runs every minute, and resumes from its checkpoint: each kind
saves its checkpoint in the same transaction as the work it covers, so nothing is lost and
nothing is done twice.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, DomainError, NotFound
from app.extensions import cache, db
from app.i18n import _
from app.models import ACTIVE_STATES, Job, JobState
from app.services import audit
from app.services.audit import Actor
from app.timeutil import utcnow

LOG = logging.getLogger(__name__)
LIVE_KEY = "job-live:{}"
LIVE_EVERY = 0.5  # seconds between two cache writes of the same job's progress


@dataclass
class Outcome:
    """What a finished job leaves: a summary for the page, optionally a file to download."""

    summary: dict[str, Any] = field(default_factory=dict)
    file_key: str | None = None
    file_name: str | None = None


@dataclass
class JobKind:
    name: str
    label: str
    run: Callable[["JobContext"], Outcome]
    # Roles that may start, see and retry jobs of this kind (admin always may).
    roles: tuple[str, ...] = ()


KINDS: dict[str, JobKind] = {}


def register_kind(name: str, label: str, run: Callable[["JobContext"], Outcome], *,
                  roles: tuple[str, ...] = ()) -> JobKind:
    """The hook for features with long work (yearly reports, bank statement imports): give
    the kind a name, a label (`_l("…")`, Vietnamese source) and a function taking a JobContext; then
    `submit(name, params, actor, key=...)` from a view runs it in the worker."""
    kind = KINDS[name] = JobKind(name, label, run, tuple(roles))
    return kind


class JobContext:
    """What a running job sees: its params and checkpoint, and ways to report progress."""

    def __init__(self, job: Job, run_started: float):
        self.job = job
        self.job_id = job.id
        self.params: dict = dict(job.params or {})
        self.checkpoint: dict = dict(job.checkpoint or {})
        self._run_started = run_started
        self._done_at_start = job.done or 0
        self._last_live = 0.0
        self.done = job.done or 0
        self.total = job.total
        self.phase = job.phase

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.params.get("actor_user_id"), label=self.params.get("actor_label") or "job")

    def progress(self, done: int, total: int | None = None, phase: str | None = None, *,
                 force: bool = False) -> None:
        """Report progress (cache only: safe inside any transaction). Also the heartbeat."""
        self.done, self.total = done, total if total is not None else self.total
        self.phase = phase or self.phase
        now = time.monotonic()
        if force or now - self._last_live >= LIVE_EVERY:
            self._last_live = now
            _write_live(self.job_id, self.done, self.total, self.phase, self._run_started,
                        self._done_at_start)

    def save(self, checkpoint: dict | None = None) -> None:
        """Put progress (and a checkpoint) on the job row in the CURRENT transaction: the
        caller's commit makes the work and its checkpoint durable together."""
        job = db.session.get(Job, self.job_id)
        job.done, job.total, job.phase = self.done, self.total, self.phase
        job.heartbeat_at = utcnow()
        if checkpoint is not None:
            self.checkpoint = checkpoint
            job.checkpoint = checkpoint
        self.progress(self.done, self.total, self.phase, force=True)


def _write_live(job_id: int, done: int, total: int | None, phase: str | None, run_started: float,
                done_at_start: int) -> None:
    try:
        cache.set(LIVE_KEY.format(job_id), {
            "done": done, "total": total, "phase": phase, "at": time.time(),
            "run_started": time.time() - (time.monotonic() - run_started),
            "done_at_start": done_at_start}, timeout=24 * 3600)
    except Exception:  # noqa: BLE001 - progress display only; never fail the job for it
        LOG.warning("could not write progress of job %s to the cache", job_id, exc_info=True)


def live(job_id: int) -> dict | None:
    try:
        return cache.get(LIVE_KEY.format(job_id))
    except Exception:  # noqa: BLE001
        return None


# --------------------------------------------------------------------------- submitting

def submit(kind: str, params: dict, actor: Actor, *, key: str | None = None) -> tuple[Job, bool]:
    """Queue a job; returns (job, True), or (the job already doing this work, False)."""
    if kind not in KINDS:
        raise NotFound(_("Không có loại tác vụ “%(kind)s”.", kind=kind))
    active_key = f"{kind}:{key}" if key else None
    if active_key:
        existing = db.session.scalar(sa.select(Job).where(Job.active_key == active_key))
        if existing is not None:
            return existing, False
    params = {**params, "actor_user_id": actor.user_id, "actor_label": actor.label}
    job = Job(kind=kind, params=params, state=JobState.QUEUED.value, active_key=active_key,
              done=0, attempts=0, created_by_id=actor.user_id)
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except IntegrityError:  # someone queued the same work a moment ago
        existing = db.session.scalar(sa.select(Job).where(Job.active_key == active_key))
        if existing is not None:
            return existing, False
        raise
    audit.record(actor, "job.submit", job, after={"kind": kind, "key": active_key})
    job_id = job.id
    db.session.commit()
    enqueue(job_id)  # after the commit, so the worker finds the row
    return db.session.get(Job, job_id), True


def enqueue(job_id: int) -> None:
    current_app.extensions["queue"].enqueue("jobs.run", job_id)


def retry(job_id: int, actor: Actor) -> Job:
    """Staff's "retry" of a failed job: back in the queue, from its last checkpoint."""
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(_("Không tìm thấy tác vụ."))
    if job.state != JobState.FAILED.value:
        raise Conflict(_("Chỉ chạy lại được tác vụ bị lỗi."))
    key = job.params.get("active_key") if job.params else None
    job.state = JobState.QUEUED.value
    job.error = None
    job.finished_at = None
    job.active_key = key
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("Một tác vụ khác đang làm cùng việc này; hãy chờ nó xong.")) from None
    audit.record(actor, "job.retry", job, after={"kind": job.kind, "attempts": job.attempts})
    db.session.commit()
    enqueue(job_id)
    return db.session.get(Job, job_id)


# --------------------------------------------------------------------------- running

def _claim(job_id: int) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED.value)
        .values(state=JobState.RUNNING.value, attempts=Job.attempts + 1, heartbeat_at=now,
                started_at=sa.func.coalesce(Job.started_at, now))
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return claimed


TRANSIENT_ATTEMPTS = 5


def _transient(error: Exception) -> bool:
    return isinstance(error, sa.exc.DBAPIError) and (
        error.connection_invalidated or isinstance(error, sa.exc.OperationalError))


def _persist(step: Callable[[], str], what: str) -> str:
    """Run a short bookkeeping transaction on the job row, again on a fresh connection when
    the connection was lost (a database restart or pg_terminate_backend can hit these too;
    a job left `running` would otherwise wait JOB_STALE_SECONDS and the next reap)."""
    for attempt in range(BOOKKEEPING_ATTEMPTS):
        try:
            return step()
        except Exception as error:  # noqa: BLE001
            db.session.rollback()
            if not _transient(error) or attempt == BOOKKEEPING_ATTEMPTS - 1:
                raise
            LOG.warning("job bookkeeping (%s) lost its connection; again", what)
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


BOOKKEEPING_ATTEMPTS = 4


def run_job(job_id: int) -> str:
    """Run one job if it is still queued (the worker's task). Returns its final state, or
    "skipped" when another worker has it or it is finished."""
    from app.services import metrics

    if not _persist(lambda: _claim(job_id), "claim"):
        return "skipped"
    started = time.monotonic()
    ctx = None
    try:
        job = db.session.get(Job, job_id, populate_existing=True)
        kind = KINDS.get(job.kind)
        ctx = JobContext(job, started)
        ctx.progress(ctx.done, ctx.total, ctx.phase, force=True)
        LOG.info("job %s (%s) started, attempt %s", job_id, job.kind, job.attempts)
        if kind is None:
            raise DomainError(_("Không có loại tác vụ “%(kind)s” trong phiên bản này.", kind=job.kind))
        outcome = kind.run(ctx)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
        if not isinstance(error, DomainError):
            LOG.exception("job %s failed", job_id)

        def record_failure() -> str:
            job = db.session.get(Job, job_id, populate_existing=True)
            if _transient(error) and job.attempts < TRANSIENT_ATTEMPTS:
                # The database connection went away (restart, failover, pg_terminate_backend):
                # back in the queue; the checkpoint makes the next attempt resume.
                job.state, job.error = JobState.QUEUED.value, None
                db.session.commit()
                LOG.warning("job %s: transient failure (%s); queued again", job_id, type(error).__name__)
                return JobState.QUEUED.value
            job.params = {**(job.params or {}), "active_key": job.active_key}
            job.state, job.error, job.finished_at, job.active_key = JobState.FAILED.value, message[:4000], utcnow(), None
            if ctx is not None:
                job.done, job.total, job.phase = max(job.done, ctx.done), ctx.total or job.total, ctx.phase
            db.session.commit()
            metrics.job_finished(job.kind, "failed", time.monotonic() - started)
            return JobState.FAILED.value

        state = _persist(record_failure, "failure")
        if state == JobState.QUEUED.value:
            enqueue(job_id)
        return state

    def record_done() -> str:
        job = db.session.get(Job, job_id, populate_existing=True)
        job.state, job.finished_at, job.active_key = JobState.DONE.value, utcnow(), None
        job.result, job.result_key, job.result_name = outcome.summary, outcome.file_key, outcome.file_name
        job.total = ctx.total or job.total or ctx.done
        job.done = job.total
        job.phase = "done"
        db.session.commit()
        ctx.progress(job.done, job.total, "done", force=True)
        LOG.info("job %s (%s) done in %.1f s", job_id, job.kind, time.monotonic() - started)
        metrics.job_finished(job.kind, "done", time.monotonic() - started)
        return JobState.DONE.value

    # Killed here, after the work's own commit: the new attempt finds the checkpoint.
    return _persist(record_done, "done")


def last_seen(job: Job) -> datetime | None:
    info = live(job.id)
    seen = job.heartbeat_at
    if info and info.get("at"):
        from datetime import timezone

        cached = datetime.fromtimestamp(info["at"], timezone.utc)
        seen = max(seen, cached) if seen else cached
    return seen


def reap_stale(now: datetime | None = None) -> list[int]:
    """Running jobs whose worker went silent: back to queued, and queued again. Returns
    their ids. Safe to run anywhere, any number of times."""
    now = now or utcnow()
    stale_after = timedelta(seconds=current_app.config.get("JOB_STALE_SECONDS", 120))
    requeued = []
    for job in db.session.scalars(sa.select(Job).where(Job.state == JobState.RUNNING.value)):
        seen = last_seen(job)
        if seen is None or now - seen > stale_after:
            changed = db.session.execute(
                sa.update(Job).where(Job.id == job.id, Job.state == JobState.RUNNING.value,
                                     sa.or_(Job.heartbeat_at.is_(None), Job.heartbeat_at == job.heartbeat_at))
                .values(state=JobState.QUEUED.value)
                .execution_options(synchronize_session=False)).rowcount
            if changed:
                requeued.append(job.id)
    db.session.commit()
    for job_id in requeued:
        LOG.warning("job %s went silent; queued again to resume from its checkpoint", job_id)
        enqueue(job_id)
    return requeued


def requeue_lost(now: datetime | None = None) -> list[int]:
    """Queued jobs whose queue message was lost (e.g. the queue was flushed): queued again.
    A job queued twice runs once: the claim lets only one worker have it."""
    now = now or utcnow()
    stale_after = timedelta(seconds=current_app.config.get("JOB_STALE_SECONDS", 120))
    ids = list(db.session.scalars(sa.select(Job.id).where(
        Job.state == JobState.QUEUED.value, Job.created_at < now - stale_after,
        sa.or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < now - stale_after))))
    db.session.commit()
    for job_id in ids:
        enqueue(job_id)
    return ids


# --------------------------------------------------------------------------- watching

@dataclass
class JobView:
    job: Job
    done: int
    total: int | None
    phase: str | None
    percent: int | None
    eta_seconds: int | None
    seen: datetime | None


def view(job: Job) -> JobView:
    """The job as a page shows it: the row, refreshed by the worker's live progress."""
    done, total, phase, eta = job.done or 0, job.total, job.phase, None
    info = live(job.id) if job.active else None
    if info and job.state == JobState.RUNNING.value:
        done, total, phase = max(done, info.get("done") or 0), info.get("total") or total, info.get("phase") or phase
        elapsed = time.time() - (info.get("run_started") or time.time())
        progressed = done - (info.get("done_at_start") or 0)
        if total and progressed > 0 and elapsed > 0 and done < total:
            eta = int((total - done) * elapsed / progressed) + 1
    percent = None
    if total:
        percent = max(0, min(100, int(done * 100 / total)))
    elif job.state == JobState.DONE.value:
        percent = 100
    return JobView(job, done, total, phase, percent, eta, last_seen(job) if job.active else None)


def list_jobs(kinds: list[str] | None = None, limit: int = 100) -> list[Job]:
    query = sa.select(Job).order_by(Job.id.desc()).limit(limit)
    if kinds is not None:
        query = query.where(Job.kind.in_(kinds))
    return list(db.session.scalars(query))


def get_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(_("Không tìm thấy tác vụ."))
    return job


def active_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.state.in_(ACTIVE_STATES))) or 0


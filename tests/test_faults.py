"""Fault tests with real processes: a worker (`flask --app wsgi worker`) is killed with
SIGKILL in the middle of a donation import, or has its database connections terminated
(`pg_terminate_backend`, PostgreSQL) again and again while it imports; either way the job
ends done, with every row imported once, every donation with its receipt and no gap in
receipt numbers. (The full set — statements, webhook storms, a killed web worker — is
bench/load/run.py.)"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Job
from app.services import files
from app.services.audit import Actor
from app.services.jobs import kinds, runner
from tests import factories
from tests.conftest import make_app
from tests.test_jobs import receipt_invariants

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ROWS = 6000
WORKER_APP_NAME = "quy-fault-worker"  # libpq's PGAPPNAME: how the terminator finds the worker


def start_worker(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def job_state(job_id: int):
    job = db.session.get(Job, job_id, populate_existing=True)
    view = runner.view(job)
    state = (job.state, job.attempts, view.done, view.total, job.error)
    db.session.commit()
    return state


def wait(job_id, until, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = job_state(job_id)
        if until(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} stuck at {job_state(job_id)}")


@contextmanager
def import_job(database_uri, tmp_path, rows: int):
    """An import job of `rows` generated rows, submitted in an app of its own (queue and
    cache in files, so a worker process shares them); yields (job id, worker env, workers)
    and stops every worker started into the list at the end."""
    sys.path.insert(0, str(ROOT / "bench"))
    from import_bench import generate

    settings = dict(QUEUE_URL=f"sqlite:///{tmp_path / 'queue.db'}", CACHE_TYPE="FileSystemCache",
                    CACHE_DIR=str(tmp_path / "cache"), IMPORT_FOLDER=str(tmp_path / "imports"),
                    FILES_FOLDER=str(tmp_path / "files"), JOB_STALE_SECONDS=2)
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_uri,
           "MAIL_SEND_AFTER_COMMIT": "off", "MAIL_FOLDER": str(tmp_path / "mail"), "PGAPPNAME": WORKER_APP_NAME,
           **{k: str(v) for k, v in settings.items() if k != "CACHE_TYPE"}}
    factories.appeal("bench-appeal")
    other = make_app(database_uri, **settings)
    db.session.commit()
    workers: list[subprocess.Popen] = []
    with other.app_context():
        try:
            data = generate(rows, seed=7, ref_prefix="F")
            token = f"{hashlib.sha256(data).hexdigest()}.csv"
            files.imports().put(token, data)
            job, _ = runner.submit(kinds.IMPORT, {"token": token, "file_name": "f.csv"}, Actor.system("t"), key=token)
            job_id = job.id
            db.session.commit()
            yield job_id, env, workers
        finally:
            for worker in workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(timeout=30)
            db.session.remove()


def test_kill_minus_nine_during_an_import_loses_and_doubles_nothing(database_uri, tmp_path, app):
    with import_job(database_uri, tmp_path, ROWS) as (job_id, env, workers):
        workers.append(start_worker(env))
        # Watch the worker's live progress in the shared cache (on SQLite the import's
        # transaction holds the database) and kill it in the write phase.
        deadline = time.time() + 180
        while True:
            live = runner.live(job_id) or {}
            if live.get("phase") == "write" and live["total"] and live["done"] > live["total"] * 0.55:
                break
            assert time.time() < deadline, f"never saw the write phase: {live}"
            time.sleep(0.02)
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait()
        # Rolled back; on a loaded machine the last chunk and its commit can beat the signal,
        # which must then lose and double nothing just the same.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) in (0, ROWS)
        assert job_state(job_id)[0] == "running"  # what a kill leaves
        time.sleep(2.5)  # JOB_STALE_SECONDS: the job's heartbeat is now old
        workers.append(start_worker(env))  # reaps the silent job at start, then runs it
        state = wait(job_id, lambda s: s[0] in ("done", "failed"))
        assert state[0] == "done", state
        assert state[1] == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == ROWS
        receipt_invariants()


def test_pg_terminate_backend_during_an_import_job_loses_and_doubles_nothing(database_uri, tmp_path, app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    rows = 4000
    killer = sa.create_engine(database_uri, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    terminate = sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = :name")
    terminated = 0
    try:
        with import_job(database_uri, tmp_path, rows) as (job_id, env, workers), killer.connect() as conn:
            workers.append(start_worker(env))
            # While the job runs and its live progress says the import is under way, terminate
            # every connection the worker holds, every 50 ms, until the job has been
            # interrupted (back in the queue or claimed again; a connection idle in the pool is
            # replaced unnoticed: pool_pre_ping). Then the same worker must finish it by itself.
            deadline = time.time() + 120
            while (state := job_state(job_id))[1] < 2 and state[0] in ("queued", "running"):
                if state[0] == "queued" and state[1] == 1:
                    break  # interrupted: the bookkeeping put it back in the queue
                assert time.time() < deadline, f"the job was never interrupted: {state}"
                live = runner.live(job_id) or {}
                if state[0] == "running" and live.get("phase") in ("validate", "write") and live.get("done"):
                    terminated += conn.execute(terminate, {"name": WORKER_APP_NAME}).scalar()
                time.sleep(0.05)
            state = wait(job_id, lambda s: s[0] in ("done", "failed"), timeout=120)
            assert state[0] == "done", state
            assert state[1] >= 2 and terminated > 0, (state, terminated)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == rows
            receipt_invariants()
    finally:
        killer.dispose()

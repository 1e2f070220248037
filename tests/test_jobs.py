"""Background jobs through a real queue (Huey on SQLite, and on Redis DB 5 when a Redis
server answers): an import job end to end, the same work never queued twice, a job whose
worker died resumes without doubling anything, failures are shown and retried, annual
statements are generated, downloadable and e-mailed once, receipt mails go through the
worker right after the commit, and the pages show progress without inline styles."""
from __future__ import annotations

import io
import os
import re
import sys
import uuid
import zipfile
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Donation, Job, OutboxMessage, Receipt, Role
from app.services import files
from app.services.audit import Actor
from app.services.jobs import kinds, runner
from app.timeutil import utcnow
from tests import factories
from tests.conftest import make_app
from tests.test_import import GOOD, csv_bytes

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ACTOR = Actor.system("tests")


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(params=["sqlite", "redis"])
def queued_app(request, database_uri, tmp_path, app):
    """An app on the test database whose queue is real (a worker must take the tasks)."""
    if request.param == "redis":
        if not redis_available():
            pytest.skip(f"no Redis at {REDIS_URL}")
        url = REDIS_URL
    else:
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    other = make_app(database_uri, QUEUE_URL=url, QUEUE_NAME=f"test-{uuid.uuid4().hex[:8]}",
                     IMPORT_FOLDER=str(tmp_path / "imports"), FILES_FOLDER=str(tmp_path / "files"),
                     MAIL_SEND_AFTER_COMMIT="queue", MAIL_FOLDER=str(tmp_path / "mail"))
    db.session.commit()
    with other.app_context():
        yield other
        other.extensions["queue"].huey.flush()
        db.session.remove()


def stored_import(data: bytes, name="sao-ke.csv") -> str:
    import hashlib

    token = f"{hashlib.sha256(data).hexdigest()}.csv"
    files.imports().put(token, data)
    return token


def submit_import(token: str, **params):
    return runner.submit(kinds.IMPORT, {"token": token, "file_name": "sao-ke.csv", **params}, ACTOR, key=token)


def drain(app) -> int:
    """Be the worker: take every task off the queue and run it (the test's own session
    must not hold SQLite's write lock meanwhile)."""
    db.session.commit()
    return app.extensions["queue"].run_pending()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def receipt_invariants() -> None:
    """No donation without its receipt, no receipt without its donation, no gap."""
    confirmed = set(db.session.scalars(sa.select(Donation.id).where(Donation.status == "confirmed")))
    with_receipt = set(db.session.scalars(sa.select(Receipt.donation_id)))
    assert confirmed == with_receipt
    sequences = sorted(db.session.scalars(sa.select(Receipt.sequence)))
    assert sequences == list(range(1, len(sequences) + 1))


def test_import_job_runs_through_the_queue(queued_app):
    queue = queued_app.extensions["queue"]
    job, created = submit_import(stored_import(csv_bytes(*GOOD)))
    assert created and job.state == "queued" and count(Donation) == 0  # nothing ran in the request
    assert queue.pending_count() == 1
    assert drain(queued_app) == 1
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "done", job.error
    assert job.result["imported"] == 6 and job.active_key is None and job.attempts == 1
    assert count(Donation) == 6
    receipt_invariants()


def test_the_same_work_is_never_queued_twice(queued_app):
    token = stored_import(csv_bytes(*GOOD))
    first, created = submit_import(token)
    again, created_again = submit_import(token)
    assert created and not created_again and again.id == first.id
    assert queued_app.extensions["queue"].pending_count() == 1
    # Queued twice anyway (a re-queue racing the first message): it still runs once.
    runner.enqueue(first.id)
    drain(queued_app)
    assert count(Donation) == 6 and db.session.get(Job, first.id, populate_existing=True).attempts == 1
    # Finished: the same file may be submitted again, and imports nothing new.
    second, created = submit_import(token)
    assert created
    drain(queued_app)
    second = db.session.get(Job, second.id, populate_existing=True)
    assert second.state == "done" and second.result["already_imported"] == 6 and count(Donation) == 6


def kill_worker_of(job: Job) -> None:
    """What a kill -9 leaves: the row running, its heartbeat old, no live progress."""
    from app.extensions import cache

    db.session.execute(sa.update(Job).where(Job.id == job.id).values(
        state="running", heartbeat_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    cache.delete(runner.LIVE_KEY.format(job.id))


def test_a_job_whose_worker_died_before_the_commit_resumes_and_imports_once(queued_app):
    queue = queued_app.extensions["queue"]
    job, _ = submit_import(stored_import(csv_bytes(*GOOD)))
    queue.huey.flush()  # the worker took the message …
    kill_worker_of(job)  # … claimed the job and died mid-import (its transaction rolled back)
    assert runner.reap_stale() == [job.id]
    assert runner.reap_stale() == []  # once
    drain(queued_app)
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "done" and job.attempts == 1 and job.result["imported"] == 6
    assert count(Donation) == 6
    receipt_invariants()


def test_a_job_whose_worker_died_after_the_commit_only_finishes(queued_app):
    queue = queued_app.extensions["queue"]
    job, _ = submit_import(stored_import(csv_bytes(*GOOD)))
    drain(queued_app)
    kill_worker_of(job)  # as if killed between the import's commit and "done"
    db.session.execute(sa.update(Job).where(Job.id == job.id).values(active_key="again"))
    db.session.commit()
    runner.reap_stale()
    drain(queued_app)
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "done" and job.attempts == 2
    assert job.result["imported"] == 6  # the report of the run that wrote, not "0 new"
    assert count(Donation) == 6
    receipt_invariants()


def test_a_connection_lost_while_marking_the_job_done_does_not_leave_it_running(queued_app, monkeypatch):
    job, _ = submit_import(stored_import(csv_bytes(*GOOD)))
    lost = sa.exc.OperationalError("UPDATE jobs …", {}, Exception("terminating connection due to administrator command"))
    calls = []

    def utcnow_once_lost():  # marking the job done, after the import's commit: the connection drops
        if sys._getframe(1).f_code.co_name == "record_done" and not calls:
            calls.append(1)
            raise lost
        return utcnow()

    monkeypatch.setattr(runner, "utcnow", utcnow_once_lost)
    drain(queued_app)
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "done" and job.attempts == 1 and job.active_key is None  # not "running" until a reap
    assert job.result["imported"] == 6 and count(Donation) == 6 and calls == [1]
    receipt_invariants()


def test_a_silent_but_alive_worker_is_left_alone(queued_app):
    job, _ = submit_import(stored_import(csv_bytes(*GOOD)))
    queued_app.extensions["queue"].huey.flush()
    kill_worker_of(job)
    ctx = runner.JobContext(db.session.get(Job, job.id), 0.0)
    ctx.progress(10, 100, "write", force=True)  # the heartbeat through the cache
    assert runner.reap_stale() == []


def test_a_failed_job_shows_why_and_can_be_retried(queued_app):
    calls = []

    def flaky(ctx):
        calls.append(ctx.job_id)
        if len(calls) == 1:
            raise RuntimeError("máy chủ thư tạm thời lỗi")
        return runner.Outcome(summary={"ok": True})

    runner.register_kind("test_flaky", "Thử", flaky)
    try:
        job, _ = runner.submit("test_flaky", {}, ACTOR, key="k")
        drain(queued_app)
        job = db.session.get(Job, job.id, populate_existing=True)
        assert job.state == "failed" and "máy chủ thư tạm thời lỗi" in job.error and job.active_key is None
        runner.retry(job.id, ACTOR)
        assert db.session.get(Job, job.id, populate_existing=True).active_key == "test_flaky:k"
        drain(queued_app)
        job = db.session.get(Job, job.id, populate_existing=True)
        assert job.state == "done" and job.attempts == 2 and job.error is None
    finally:
        runner.KINDS.pop("test_flaky")


def test_an_import_with_errors_fails_with_the_reason(queued_app):
    job, _ = submit_import(stored_import(csv_bytes("2024-01-01,x,,,,,,0,cash,,,,")))
    drain(queued_app)
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "failed" and "lỗi" in job.error and count(Donation) == 0


def test_annual_statements_job_writes_every_pdf_and_mails_each_donor_once(queued_app):
    queue = queued_app.extensions["queue"]
    when = datetime(2025, 5, 1, 3, tzinfo=timezone.utc)
    with_email = factories.donor("Lê Văn Cường", email="cuong@example.com")
    factories.donation(with_email, 2_000_000, received_at=when)
    factories.donation(factories.donor("Phạm Thị Dung"), 500_000, received_at=when)
    factories.donation(factories.donor("Ngoài năm", email="x@example.com"), 1, received_at=when.replace(year=2024))
    db.session.execute(sa.delete(OutboxMessage))
    db.session.commit()
    job, _ = runner.submit(kinds.STATEMENTS, {"year": 2025, "email": True}, ACTOR, key="2025")
    drain(queued_app)
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "done", job.error
    assert job.result["donors"] == 2 and job.result["emails_queued"] == 1 and job.result["without_email"] == 1
    with zipfile.ZipFile(io.BytesIO(files.files().get(job.result_key))) as bundle:
        names = sorted(bundle.namelist())
        assert len(names) == 2 and all(bundle.read(n).startswith(b"%PDF") for n in names)
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "statement")).all()
    assert [m.to_address for m in mails] == ["cuong@example.com"]
    assert mails[0].status == "sent"  # the worker sent it after the commit (MAIL_FOLDER)
    # Running the year again (a retry, a second click later) e-mails nobody twice.
    again, _ = runner.submit(kinds.STATEMENTS, {"year": 2025, "email": True}, ACTOR, key="2025")
    drain(queued_app)
    again = db.session.get(Job, again.id, populate_existing=True)
    assert again.state == "done" and again.result["emails_queued"] == 0
    assert count(OutboxMessage) == 1


def test_receipt_mail_is_sent_by_the_worker_right_after_the_commit(queued_app):
    donor = factories.donor("Võ Thị Em", email="em@example.com")
    factories.donation(donor, 300_000)
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.status == "pending"
    assert queued_app.extensions["queue"].pending_count() == 1
    drain(queued_app)
    db.session.refresh(message)
    assert message.status == "sent" and len(list(Path(queued_app.config["MAIL_FOLDER"]).glob("*.eml"))) == 1


def test_job_pages_show_progress_result_and_download(client, login_as, app, tmp_path):
    app.config.update(IMPORT_FOLDER=str(tmp_path / "i"), FILES_FOLDER=str(tmp_path / "f"))
    try:
        factories.donation(factories.donor("Lê Văn Cường", email="c@example.com"), 1_000_000,
                           received_at=datetime(2025, 3, 1, 3, tzinfo=timezone.utc))
        login_as(Role.ACCOUNTANT)
        response = client.post("/staff/jobs/statements", data={"year": "2025", "email": "y"})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Hoàn thành" in page and '<progress class="job-bar" max="100" value="100">' in page
        assert "style=" not in page.split("<main", 1)[1] and "<script>" not in page
        link = re.search(r'href="(/staff/jobs/\d+/download)"', page).group(1)
        download = client.get(link)
        assert download.status_code == 200 and download.data[:2] == b"PK"
        listing = client.get("/staff/jobs").get_data(as_text=True)
        assert "Sao kê năm cho nhà hảo tâm 2025" in listing
        assert client.post("/staff/jobs/statements", data={"year": "1800"}).status_code == 422
    finally:
        app.config.pop("IMPORT_FOLDER"); app.config.pop("FILES_FOLDER")


def test_a_running_job_shows_percent_and_eta(client, login_as):
    job = Job(kind=kinds.IMPORT, params={"token": "x", "actor_label": "a"}, state="running",
              done=0, total=1000, attempts=1, active_key="k", heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    ctx = runner.JobContext(job, 0.0)
    ctx._run_started -= 0  # progress measured since this context's start
    import time as _time
    ctx._run_started = _time.monotonic() - 10  # ten seconds in, 250 of 1000 done
    ctx.progress(250, 1000, "write", force=True)
    login_as(Role.DIRECTOR)
    page = client.get(f"/staff/jobs/{job.id}").get_data(as_text=True)
    assert 'value="25"' in page and "25%" in page and 'http-equiv="refresh"' in page
    eta = re.search(r"còn khoảng (\d+) giây", page)
    assert eta and 25 <= int(eta.group(1)) <= 40  # 750 left at 25 per second
    login_as(Role.CASE_WORKER)
    assert client.get(f"/staff/jobs/{job.id}").status_code == 403

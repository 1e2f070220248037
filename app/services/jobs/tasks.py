"""The worker's tasks on the queue (app/adapters/queue.py), each run in an app context of
its own (so a database session of its own):

- `jobs.run(job_id)` — run a job (app/services/jobs/runner.py);
- `mail.deliver(ids)` — send outbox mails right after the commit that queued them;
- `mail.deliver_due()` — send every due mail, right after a bulk commit (a statement import);
- every minute: `jobs.reap` (resume jobs whose worker died, re-queue lost ones) and
  `mail.pending` (mails due for a retry: what `receipts send-pending` does from cron);
- every hour: `bank.expire_pledges` (transfer pledges past BANK_PLEDGE_EXPIRY_DAYS: what
  `bank expire-pledges` does from cron; one UPDATE, so running it often costs nothing).
- every hour: `recurring.bank_monthly` (monthly transfer reminders and lapses: what
  `accounts bank-monthly` does from cron; idempotent).
"""
from __future__ import annotations

import functools
import logging

from flask import Flask

from app.adapters.queue import TaskQueue
from app.services.jobs import kinds  # noqa: F401  (registers the job kinds)

LOG = logging.getLogger(__name__)


def init_queue(app: Flask) -> TaskQueue:
    queue = TaskQueue(app.config["QUEUE_URL"], app.config.get("QUEUE_NAME", "quy"))
    app.extensions["queue"] = queue

    def in_context(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            from app.extensions import db

            with app.app_context():
                try:
                    return fn(*args)
                finally:
                    db.session.remove()
        return wrapper

    @in_context
    def run_job(job_id: int):
        from app.services.jobs import runner

        return runner.run_job(job_id)

    @in_context
    def deliver_mail(ids: list[int]):
        from app.services.receipts import mail

        result = mail.deliver(ids)
        return result.sent

    @in_context
    def deliver_due_mail():
        from app.services.receipts import mail

        return mail.deliver_due().sent

    @in_context
    def reap():
        from app.services.jobs import runner

        runner.reap_stale()
        runner.requeue_lost()

    @in_context
    def pending_mail():
        from app.services.receipts import mail

        mail.deliver(limit=500)

    @in_context
    def expire_pledges():
        from app.services.bank.pledges import expire_pledges as expire

        return expire()

    @in_context
    def bank_monthly():
        from app.services.bank import standing

        return standing.run_monthly(lapse_after=app.config["BANK_PLEDGE_LAPSE_MONTHS"]).summary()

    # Retried when the task itself fails (e.g. the database connection dropped during the
    # claim); a job's own failures are recorded on the job instead.
    queue.register("jobs.run", run_job, retries=3, retry_delay=2)
    queue.register("mail.deliver", deliver_mail, retries=2, retry_delay=30)
    queue.register("mail.deliver_due", deliver_due_mail, retries=2, retry_delay=30)
    if not queue.immediate:
        queue.periodic("jobs.reap", reap)
        queue.periodic("mail.pending", pending_mail)
        queue.periodic("bank.expire_pledges", expire_pledges, minute="7")
        queue.periodic("recurring.bank_monthly", bank_monthly, minute="17")
    return queue

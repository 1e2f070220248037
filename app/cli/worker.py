"""`flask --app wsgi worker`: the background worker (Huey consumer) — runs jobs, sends
mails right after their commit, resumes jobs whose worker died and retries due mails
every minute. Run as many as needed (on Redis, on as many machines as needed)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Worker threads (default WORKER_THREADS, 2).")
@with_appcontext
def worker(threads: int | None):
    """Run the background worker until stopped (SIGTERM/SIGINT: finish current tasks)."""
    queue = current_app.extensions["queue"]
    if queue.immediate:
        raise click.ClickException("QUEUE_URL=immediate runs tasks inline; there is nothing to consume.")
    from app.services.jobs import runner

    try:
        runner.reap_stale()  # jobs a previous, killed worker left behind
    except Exception as error:  # noqa: BLE001 - the periodic reaper tries again every minute
        click.echo(f"Reaping at start failed ({type(error).__name__}); the reaper retries every minute.")
    click.echo(f"Worker: queue {queue.url}, {threads or current_app.config['WORKER_THREADS']} threads")
    queue.consumer(workers=threads or current_app.config["WORKER_THREADS"]).run()

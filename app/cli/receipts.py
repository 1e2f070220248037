"""`flask --app wsgi receipts …`: annual statements and the receipt mail queue."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.i18n import _
from app.services.receipts import documents as receipt_documents
from app.services.receipts import mail as receipt_mail

receipts = AppGroup("receipts", help="Receipts: annual statements, sending queued e-mails.")


@receipts.command("annual")
@click.option("--year", type=int, required=True, help="Vietnam calendar year, e.g. 2024.")
@click.option("--output", "output", type=click.Path(file_okay=False), required=True,
              help="Folder for the PDFs (created if missing).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Write at most this many new files, then stop (run again to continue).")
@click.option("--quiet", is_flag=True, help="No line per donor, only the summary.")
def annual(year: int, output: str, limit: int | None, quiet: bool):
    """One PDF statement per donor with every confirmed donation of YEAR.

    Resumable: finished files are kept and skipped, so an interrupted run continues where
    it stopped.
    """
    started = time.perf_counter()

    def progress(done: int, total: int, name: str, what: str) -> None:
        if not quiet:
            if what == "skipped":
                click.echo(_("[%(done)s/%(total)s] %(name)s đã có, bỏ qua", done=done, total=total, name=name))
            else:
                click.echo(_("[%(done)s/%(total)s] %(name)s đã ghi", done=done, total=total, name=name))

    try:
        result = receipt_documents.write_annual_statements(year, output, limit=limit, progress=progress)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    elapsed = time.perf_counter() - started
    figures = dict(year=year, total=result.total, written=result.written, skipped=result.skipped,
                   seconds=f"{elapsed:.2f}")
    if result.written and elapsed > 0:
        figures["rate"] = f"{result.written / elapsed:.0f}"
        click.echo(_("Năm %(year)s: %(total)s nhà hảo tâm; ghi mới %(written)s, bỏ qua %(skipped)s tệp đã có "
                     "(%(seconds)s giây, %(rate)s tệp/giây).", **figures))
    else:
        click.echo(_("Năm %(year)s: %(total)s nhà hảo tâm; ghi mới %(written)s, bỏ qua %(skipped)s tệp đã có "
                     "(%(seconds)s giây).", **figures))
    if result.stopped_early:
        click.echo(_("Dừng theo --limit; chạy lại lệnh để tiếp tục."))


@receipts.command("send-pending")
@click.option("--limit", type=click.IntRange(min=1), default=200, help="At most this many mails.")
def send_pending(limit: int):
    """Send receipt e-mails that are due (new ones and retries). Run it from cron."""
    result = receipt_mail.deliver(limit=limit)
    click.echo(_("Đã gửi %(sent)s thư, lỗi %(failed)s, hủy %(cancelled)s.", sent=result.sent, failed=result.failed,
                 cancelled=result.cancelled))
    if result.failed:
        raise SystemExit(1)

"""`flask --app wsgi accounts …`: donor-account housekeeping."""
from __future__ import annotations

import sqlalchemy as sa
import click
from flask.cli import AppGroup

from app.extensions import db
from app.i18n import _
from app.models import AccountToken
from app.services.accounts import rights
from app.services.audit import Actor
from app.timeutil import utcnow

accounts = AppGroup("accounts", help="Donor accounts: retention after erasure, old sign-in links.")


@accounts.command("purge")
def purge():
    """Anonymise what erasure kept once its 10-year retention has passed, and delete
    used or expired sign-in links. Safe to run daily (cron)."""
    count = rights.purge_expired(Actor.system("cli"))
    removed = db.session.execute(sa.delete(AccountToken).where(sa.or_(
        AccountToken.used_at.is_not(None), AccountToken.expires_at < utcnow()))).rowcount
    db.session.commit()
    click.echo(_("Đã ẩn danh %(count)s hồ sơ hết hạn lưu trữ; đã xóa %(removed)s đường dẫn đăng nhập cũ.",
                 count=count, removed=removed))


@accounts.command("bank-monthly")
@click.option("--at", "at", default=None, help="Run as of this moment (ISO 8601, e.g. 2027-01-05T09:00+07:00).")
def bank_monthly(at: str | None):
    """Monthly gifts by bank transfer: send this month's reminders (once per pledge and
    month, not when paid, not to unsubscribed addresses) and lapse pledges with
    BANK_PLEDGE_LAPSE_MONTHS missed months. Safe to run daily or hourly (cron)."""
    from datetime import datetime, timezone

    from flask import current_app

    from app.services.bank import standing

    now = None
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(_("thời điểm không hợp lệ (ISO 8601)"), param_hint="--at") from None
        now = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    run = standing.run_monthly(now, lapse_after=current_app.config["BANK_PLEDGE_LAPSE_MONTHS"])
    click.echo(_("Đã gửi nhắc %(reminded)s; đã thanh toán tháng này %(paid)s; hủy nhận thư %(unsubscribed)s; "
                 "ngừng do quá hạn %(lapsed)s; bỏ dở %(abandoned)s.", reminded=len(run.reminded),
                 paid=len(run.already_paid), unsubscribed=len(run.unsubscribed), lapsed=len(run.lapsed),
                 abandoned=len(run.abandoned)))

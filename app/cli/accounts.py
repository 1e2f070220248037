"""`flask --app wsgi accounts …`: donor-account housekeeping."""
from __future__ import annotations

import sqlalchemy as sa
import click
from flask.cli import AppGroup

from app.extensions import db
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
    click.echo(f"Đã ẩn danh {count} hồ sơ hết hạn lưu trữ; đã xóa {removed} đường dẫn đăng nhập cũ.")

"""Small factories for test data. Each commits, so a following request sees the rows."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Appeal, Channel, Donation, DonationStatus, Donor, DonorKind, Programme, Role, User,
)
from app.services.donations import ledger as donations
from app.services.audit import Actor

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
SYSTEM = Actor.system("tests")


def user(role: str = Role.ADMIN.value, *, email: str | None = None, password: str = PASSWORD,
         active: bool = True, name: str | None = None) -> User:
    n = next(_seq)
    account = User(email=email or f"user{n}@example.org", name=name or f"Cán bộ {n}",
                   role=Role(role).value, is_active_account=active)
    account.set_password(password)
    db.session.add(account)
    db.session.commit()
    return account


def donor(name: str = "Nguyễn Văn An", kind: str = DonorKind.INDIVIDUAL.value, **fields) -> Donor:
    record = Donor(name=name, kind=kind, **fields)
    db.session.add(record)
    db.session.commit()
    return record


def organization(name: str = "Công ty TNHH Thép Hải Phòng", **fields) -> Donor:
    return donor(name=name, kind=DonorKind.ORGANIZATION.value, **fields)


def programme(code: str = "general") -> Programme:
    return db.session.scalars(sa.select(Programme).where(Programme.code == code)).one()


def appeal(slug: str | None = None, **fields) -> Appeal:
    n = next(_seq)
    record = Appeal(slug=slug or f"appeal-{n}", title=fields.pop("title", f"Chiến dịch {n}"), **fields)
    db.session.add(record)
    db.session.commit()
    return record


def donation(donor_record: Donor | None = None, amount: int = 1_000_000, *,
             received_at: datetime | None = None, confirm: bool = True,
             channel: str = Channel.BANK_TRANSFER.value, programme_code: str = "general",
             issue_receipt: bool = True, **fields) -> Donation:
    """A donation, confirmed (with its receipt) through the real service unless confirm=False."""
    record = Donation(
        donor=donor_record or donor(), amount=amount, channel=channel,
        programme=programme(programme_code), status=DonationStatus.PENDING.value,
        received_at=received_at or datetime.now(timezone.utc), **fields)
    db.session.add(record)
    db.session.commit()
    if confirm:
        donations.confirm_donation(record.id, SYSTEM, issue_receipt=issue_receipt)
    return record


def real_settings(**fields) -> None:
    """Replace the shipped placeholder settings (receipts refuse to print them) with real
    values, as an admin does on day one."""
    from app.models import FundSettings

    settings = db.session.get(FundSettings, 1)
    values = dict(signatory_name="Trần Thị Minh Hạnh", signatory_title="Giám đốc",
                  address="Số 5 Đường Trần Phú, phường Ngô Quyền, thành phố Hải Phòng")
    values.update(fields)
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.commit()

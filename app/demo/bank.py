"""Demo bank account for `seed-demo`: fictional, so the transfer path works after `make run`.
Replace it with the fund's real account at /staff/bank/accounts (see docs/bank-transfers.md)."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import BankAccount
from app.services.audit import Actor
from app.services.bank.accounts import save_account

DEMO_ACCOUNT = dict(bank_bin="970436", account_number="0000123456789",
                    account_name="QUY BAO TRO TRE EM HAI PHONG DEMO", label="Tài khoản thử nghiệm (không có thật)")


def seed_bank_account() -> bool:
    """Create the demo account unless the fund already has one. Returns True if created."""
    if db.session.scalar(sa.select(BankAccount.id).limit(1)) is not None:
        return False
    save_account(Actor.system("seed-demo"), is_default=True, **DEMO_ACCOUNT)
    return True

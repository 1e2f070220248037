"""The fund's identity as every report prints it (letterhead, bank account, signatory).

Read from the fund settings (edited at /staff/settings), never constants."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.models import BankAccount
from app.services.setup import get_settings
from app.timeutil import local_today

# Fund settings have no "place" field; the fund is the city's (as the commendation list).
DOCUMENT_PLACE = "Hải Phòng"


@dataclass(frozen=True)
class FundInfo:
    fund_name: str
    operator_name: str
    parent_agency: str
    address: str
    phone: str | None
    email: str | None
    bank_name: str | None
    bank_account_number: str | None
    bank_account_name: str | None
    signatory_title: str
    signatory_name: str
    place: str
    document_date: date


def receiving_account() -> BankAccount | None:
    """The account donors are told to pay into (the default active one of the bank-accounts
    table, /staff/bank/accounts), else the first active one."""
    return db.session.scalars(sa.select(BankAccount).where(BankAccount.is_active.is_(True))
                              .order_by(BankAccount.is_default.desc(), BankAccount.id)).first()


def fund_info(document_date: date | None = None) -> FundInfo:
    s = get_settings()
    account = receiving_account()
    bank = ((account.bank_name, account.account_number, account.account_name) if account is not None
            else (s.bank_name, s.bank_account_number, s.bank_account_name))
    return FundInfo(s.fund_name, s.operator_name, s.parent_agency, s.address, s.phone, s.email,
                    *bank, s.signatory_title, s.signatory_name, DOCUMENT_PLACE, document_date or local_today())

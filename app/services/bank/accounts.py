"""The fund's bank accounts and the bank list (a snapshot kept in app/data/vietqr_banks.json)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _
from app.models import BankAccount
from app.services import audit
from app.services.audit import Actor

BANK_LIST = Path(__file__).resolve().parents[2] / "data" / "vietqr_banks.json"


@lru_cache(maxsize=1)
def banks() -> tuple[dict, ...]:
    """The bank list: dicts with name, code, bin, shortName, transferSupported."""
    return tuple(json.loads(BANK_LIST.read_text(encoding="utf-8"))["data"])


def bank_by_bin(bank_bin: str) -> dict | None:
    return next((b for b in banks() if b["bin"] == bank_bin), None)


def account_by_number(number: str | None) -> BankAccount | None:
    number = (number or "").strip().replace(" ", "")
    if not number:
        return None
    return db.session.scalar(sa.select(BankAccount).where(BankAccount.account_number == number))


def donation_account(appeal_id: int | None = None) -> BankAccount | None:
    """The account a donor is shown: the appeal's own active account, else the default one,
    else any active one."""
    active = sa.select(BankAccount).where(BankAccount.is_active)
    if appeal_id is not None:
        own = db.session.scalar(active.where(BankAccount.appeal_id == appeal_id).limit(1))
        if own is not None:
            return own
    return db.session.scalar(active.order_by(BankAccount.is_default.desc(), BankAccount.id).limit(1))


def list_accounts() -> list[BankAccount]:
    return list(db.session.scalars(sa.select(BankAccount).order_by(BankAccount.is_default.desc(), BankAccount.id)))


def save_account(actor: Actor, *, bank_bin: str, account_number: str, account_name: str,
                 label: str | None = None, is_active: bool = True, is_default: bool = False,
                 appeal_id: int | None = None, account_id: int | None = None) -> BankAccount:
    """Create or edit an account. The bank comes from the bank list by its BIN."""
    bank = bank_by_bin((bank_bin or "").strip())
    if bank is None:
        raise ValidationFailed(_("Vui lòng chọn ngân hàng trong danh sách."), field="bank_bin")
    number = (account_number or "").strip().replace(" ", "")
    if not number.isalnum() or not 1 <= len(number) <= 19:
        raise ValidationFailed(_("Số tài khoản gồm tối đa 19 chữ số hoặc chữ cái, không dấu cách."),
                               field="account_number")
    name = " ".join((account_name or "").split()).upper()
    if not name:
        raise ValidationFailed(_("Vui lòng nhập tên chủ tài khoản như ngân hàng in."), field="account_name")
    clash = account_by_number(number)
    if clash is not None and clash.id != account_id:
        raise Conflict(_("Tài khoản %(number)s đã có trong danh sách.", number=number), field="account_number")
    if account_id is None:
        account = BankAccount()
        db.session.add(account)
        before = None
    else:
        account = db.session.get(BankAccount, account_id)
        if account is None:
            raise NotFound(_("Không tìm thấy tài khoản ngân hàng."))
        before = audit.snapshot(account, ("bank_bin", "account_number", "account_name", "label",
                                          "is_active", "is_default", "appeal_id"))
    account.bank_bin, account.bank_code, account.bank_name = bank["bin"], bank["code"], bank["shortName"]
    account.account_number, account.account_name = number, name
    account.label = (label or "").strip() or None
    account.is_active, account.is_default, account.appeal_id = is_active, is_default, appeal_id
    if is_default:
        db.session.flush()
        db.session.execute(sa.update(BankAccount).where(BankAccount.id != account.id).values(is_default=False))
    db.session.flush()
    audit.record(actor, "bank_account.save", account, before=before,
                 after=audit.snapshot(account, ("bank_bin", "account_number", "account_name", "label",
                                                "is_active", "is_default", "appeal_id")))
    db.session.commit()
    return account

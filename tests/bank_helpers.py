"""Helpers for bank-transfer tests: accounts, pledges and signed provider deliveries."""
from __future__ import annotations

import json
import time

from app.adapters.bank_notifications import casso, payos
from app.extensions import db
from app.models import BankAccount
from app.services.audit import Actor
from app.services.bank.accounts import save_account

SEPAY_KEY = "sepay-test-key"
CASSO_SECRET = "casso-test-secret"
PAYOS_KEY = "payos-test-checksum"
BANK_SECRETS = dict(SEPAY_API_KEY=SEPAY_KEY, CASSO_WEBHOOK_SECRET=CASSO_SECRET, PAYOS_CHECKSUM_KEY=PAYOS_KEY)


def account(number: str = "0011001234567", bank_bin: str = "970436", **fields) -> BankAccount:
    record = save_account(Actor.system("tests"), bank_bin=bank_bin, account_number=number,
                          account_name=fields.pop("account_name", "QUY BAO TRO TRE EM HAI PHONG"),
                          is_default=fields.pop("is_default", True), **fields)
    db.session.commit()
    return record


def sepay_headers(key: str = SEPAY_KEY) -> dict:
    return {"Authorization": f"Apikey {key}", "Content-Type": "application/json"}


def casso_delivery(item: dict, secret: str = CASSO_SECRET, *, at_ms: int | None = None) -> tuple[bytes, dict]:
    body = {"error": 0, "data": item}
    stamp = at_ms if at_ms is not None else int(time.time() * 1000)
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw, {"X-Casso-Signature": casso.sign(body, secret, stamp), "Content-Type": "application/json"}


def payos_delivery(data: dict, key: str = PAYOS_KEY) -> bytes:
    return json.dumps({"code": "00", "desc": "success", "success": True, "data": data,
                       "signature": payos.sign(data, key)}, ensure_ascii=False).encode()

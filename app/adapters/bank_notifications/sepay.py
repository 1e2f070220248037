"""SePay webhooks: `Authorization: Apikey <SEPAY_API_KEY>`; body
{id, gateway, transactionDate, accountNumber, code, content, transferType: in|out,
transferAmount, accumulated, subAccount, referenceCode, description}.
Success is HTTP 200 with {"success": true}; anything else makes SePay retry."""
from __future__ import annotations

import hmac

from app.adapters.bank_lines import CREDIT, DEBIT, BankInputError, ParsedLine, vietnam_time, whole_dong
from app.adapters.bank_notifications import InvalidSignature, load_json, text

PROVIDER = "sepay"


def verify(authorization: str | None, api_key: str) -> None:
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "apikey" or not hmac.compare_digest(key.strip().encode(), api_key.encode()):
        raise InvalidSignature("thiếu hoặc sai khóa API SePay")


def parse(body: bytes) -> list[ParsedLine]:
    data = load_json(body)
    try:
        txn_id, kind = data["id"], data["transferType"]
        amount = whole_dong(data["transferAmount"])
        booked = vietnam_time(data["transactionDate"])
        account = text(data["accountNumber"], 40).strip()
    except KeyError as missing:
        raise BankInputError(f"thiếu trường {missing}") from None
    if kind not in ("in", "out"):
        raise BankInputError("transferType phải là in hoặc out")
    if not account or txn_id in (None, ""):
        raise BankInputError("thiếu số tài khoản hoặc mã giao dịch")
    if amount < 0:
        raise BankInputError("số tiền âm")
    accumulated = data.get("accumulated")
    return [ParsedLine(
        account_number=account, direction=CREDIT if kind == "in" else DEBIT, amount=amount, booked_at=booked,
        memo=text(data.get("content") or data.get("description"), 2000),
        bank_reference=text(data.get("referenceCode"), 100) or None, provider=PROVIDER,
        provider_txn_id=text(txn_id, 100), sender_bank=None,
        balance_after=accumulated if isinstance(accumulated, int) and not isinstance(accumulated, bool) else None,
        raw=data)]

"""Casso webhooks (v2): header `X-Casso-Signature: t=<unix ms>,v1=<hex>`, where v1 is
HMAC-SHA512 with the webhook secret over "<t>." + the body as JSON with keys sorted at every
level, compact separators, non-ASCII not escaped. Deliveries older than the replay window
(5 minutes) are refused. Body {error, data: {...}} (data may also be a list)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from app.adapters.bank_lines import CREDIT, DEBIT, BankInputError, ParsedLine, vietnam_time, whole_dong
from app.adapters.bank_notifications import InvalidSignature, currency_is_vnd, load_json, text

PROVIDER = "casso"
REPLAY_WINDOW_SECONDS = 300


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(data: dict, secret: str, timestamp_ms: int) -> str:
    message = f"{timestamp_ms}.{canonical(data)}".encode()
    return f"t={timestamp_ms},v1=" + hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def verify(header: str | None, data: dict, secret: str, *, now: float | None = None) -> None:
    parts = dict(p.strip().split("=", 1) for p in (header or "").split(",") if "=" in p)
    stamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdecimal() or not signature:
        raise InvalidSignature("thiếu chữ ký X-Casso-Signature")
    expected = sign(data, secret, int(stamp)).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, signature.lower()):
        raise InvalidSignature("chữ ký Casso không đúng")
    age = (now if now is not None else time.time()) - int(stamp) / 1000
    if abs(age) > REPLAY_WINDOW_SECONDS:
        raise InvalidSignature("thông báo Casso quá cũ (quá 5 phút) hoặc đồng hồ lệch")


def parse_verified(body: bytes, header: str | None, secret: str) -> list[ParsedLine]:
    data = load_json(body)
    verify(header, data, secret)
    if data.get("error") not in (0, None):
        raise BankInputError(f"Casso báo lỗi {data.get('error')}")
    items = data.get("data")
    items = items if isinstance(items, list) else [items]
    lines = []
    for item in items:
        if not isinstance(item, dict):
            raise BankInputError("data phải là đối tượng giao dịch")
        try:
            signed = whole_dong(item["amount"])
            booked = vietnam_time(item["transactionDateTime"])
            account = text(item["accountNumber"], 40).strip()
            txn_id = item["id"]
        except KeyError as missing:
            raise BankInputError(f"thiếu trường {missing}") from None
        currency_is_vnd(item.get("currency"))
        if not account:
            raise BankInputError("thiếu số tài khoản")
        balance = item.get("runningBalance")
        lines.append(ParsedLine(
            account_number=account, direction=CREDIT if signed > 0 else DEBIT, amount=abs(signed),
            booked_at=booked, memo=text(item.get("description"), 2000),
            sender_name=text(item.get("counterAccountName"), 255) or None,
            sender_account=text(item.get("counterAccountNumber"), 40) or None,
            sender_bank=text(item.get("counterAccountBankName"), 100) or None,
            bank_reference=text(item.get("reference"), 100) or None, provider=PROVIDER,
            provider_txn_id=text(txn_id, 100),
            balance_after=balance if isinstance(balance, int) and not isinstance(balance, bool) else None,
            raw=item))
    return lines

"""payOS webhooks: the signature is in the body. signature = HMAC-SHA256 with the checksum
key over "k1=v1&k2=v2…" of `data`, keys sorted, null written as empty (lists/objects as
JSON). We verify it ourselves (the SDK refuses unknown fields). Body
{code, desc, success, data: {orderCode, amount, description, accountNumber, reference,
transactionDateTime, currency, paymentLinkId, code, desc, counterAccount…}, signature}."""
from __future__ import annotations

import hashlib
import hmac
import json

from app.adapters.bank_lines import CREDIT, BankInputError, ParsedLine, vietnam_time, whole_dong
from app.adapters.bank_notifications import InvalidSignature, currency_is_vnd, load_json, text

PROVIDER = "payos"


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def sign(data: dict, key: str) -> str:
    message = "&".join(f"{k}={_value(data[k])}" for k in sorted(data))
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def parse_verified(body: bytes, key: str) -> list[ParsedLine]:
    payload = load_json(body)
    data, signature = payload.get("data"), payload.get("signature")
    if not isinstance(data, dict) or not isinstance(signature, str):
        raise InvalidSignature("thiếu dữ liệu hoặc chữ ký payOS")
    if not hmac.compare_digest(sign(data, key), signature.lower()):
        raise InvalidSignature("chữ ký payOS không đúng")
    if str(data.get("code", payload.get("code"))) != "00":
        return []  # an authentic notice of a payment that did not succeed
    try:
        amount = whole_dong(data["amount"])
        booked = vietnam_time(data["transactionDateTime"])
        account = text(data["accountNumber"], 40).strip()
        reference = text(data["reference"], 100).strip()
    except KeyError as missing:
        raise BankInputError(f"thiếu trường {missing}") from None
    currency_is_vnd(data.get("currency"))
    if amount < 0 or not account:
        raise BankInputError("số tiền hoặc số tài khoản không hợp lệ")
    txn = reference or f"{data.get('paymentLinkId')}:{data.get('orderCode')}"
    return [ParsedLine(
        account_number=account, direction=CREDIT, amount=amount, booked_at=booked,
        memo=text(data.get("description"), 2000), sender_name=text(data.get("counterAccountName"), 255) or None,
        sender_account=text(data.get("counterAccountNumber"), 40) or None,
        sender_bank=text(data.get("counterAccountBankName"), 100) or None,
        bank_reference=reference or None, provider=PROVIDER, provider_txn_id=txn, raw=data)]

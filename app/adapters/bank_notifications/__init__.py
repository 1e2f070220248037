"""Bank-notification providers (SePay, Casso, payOS): each module verifies a delivery with
the secret its provider shares with us and turns the body into `ParsedLine`s. Nothing
here touches the database."""
from __future__ import annotations

import json

from app.adapters.bank_lines import BankInputError


class InvalidSignature(BankInputError):
    """The delivery is not from the provider (missing/wrong key or signature, replayed)."""


def load_json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BankInputError("nội dung không phải JSON hợp lệ") from None
    if not isinstance(data, dict):
        raise BankInputError("nội dung phải là một đối tượng JSON")
    return data


def text(value, limit: int = 500) -> str:
    return "" if value is None else str(value)[:limit]


def currency_is_vnd(value) -> None:
    if value not in (None, "", "VND", "vnd", "704"):
        raise BankInputError(f"loại tiền {value} không phải VND")

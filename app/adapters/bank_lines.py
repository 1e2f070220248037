"""The one shape every bank source is turned into: a provider's webhook (SePay, Casso,
payOS) and a statement row alike. Nothing after this point knows where a line came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
CREDIT, DEBIT = "credit", "debit"


def quick_fold(text: str | None) -> str:
    """app.text.fold, with a fast path for plain ASCII (most bank text): the same result."""
    if text is None:
        return ""
    if text.isascii():
        return " ".join(text.lower().split())
    from app.text import fold

    return fold(text)


class BankInputError(ValueError):
    """A notification or statement that cannot be trusted or read (the message says why)."""


@dataclass
class ParsedLine:
    account_number: str
    direction: str  # credit | debit
    amount: int  # whole đồng, > 0
    booked_at: datetime  # aware, UTC
    memo: str = ""
    sender_name: str | None = None
    sender_account: str | None = None
    sender_bank: str | None = None
    bank_reference: str | None = None
    provider: str | None = None  # set by webhook adapters only
    provider_txn_id: str | None = None
    balance_after: int | None = None
    raw: dict = field(default_factory=dict)
    row_number: int | None = None  # statements: the row in the file


def vietnam_time(text: str) -> datetime:
    """Providers send naive "YYYY-MM-DD HH:MM:SS" in Vietnam time; we store UTC."""
    try:
        local = datetime.strptime(str(text).strip()[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        try:
            local = datetime.strptime(str(text).strip()[:10], "%Y-%m-%d")
        except ValueError:
            raise BankInputError(f"thời điểm giao dịch không hợp lệ: {text!r}") from None
    return local.replace(tzinfo=VIETNAM).astimezone(timezone.utc)


def whole_dong(value, what: str = "số tiền") -> int:
    """An amount that must be a whole number of đồng: ints, or floats/strings with no
    fraction ("500000", 500000.0). Anything else is refused, never rounded."""
    if isinstance(value, bool):
        raise BankInputError(f"{what} không hợp lệ")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")) or not value.is_integer():
            raise BankInputError(f"{what} không phải số nguyên đồng: {value}")
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        return int(value.strip())
    raise BankInputError(f"{what} không phải số nguyên đồng: {value!r}")

"""The VietQR of a transfer pledge: its payload and PNG. Imports only the models and the
VietQR adapter, so the mail outbox can attach a standing pledge's QR to its reminder."""
from __future__ import annotations

import sqlalchemy as sa

from app.adapters import vietqr
from app.extensions import db
from app.models import TransferPledge


def qr_payload(pledge: TransferPledge) -> str:
    """The VietQR payload: the pledge's account, amount and its code as the memo."""
    return vietqr.encode(vietqr.VietQR(bank_bin=pledge.account.bank_bin, account=pledge.account.account_number,
                                       amount=pledge.amount, memo=pledge.code))


def qr_png(pledge: TransferPledge) -> bytes:
    return vietqr.png(qr_payload(pledge), scale=8)


def reminder_qr(dedupe_key: str) -> tuple[str, bytes] | None:
    """The VietQR attachment of a monthly reminder, from its outbox key
    ("bank-reminder:<recurring gift id>:<month>"): (file name, PNG) or None."""
    try:
        gift_id = int(dedupe_key.split(":")[1])
    except (IndexError, ValueError):
        return None
    pledge = db.session.scalar(sa.select(TransferPledge).where(TransferPledge.recurring_gift_id == gift_id))
    if pledge is None:
        return None
    return f"VietQR-{pledge.code}.png", qr_png(pledge)

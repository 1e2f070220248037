"""What the donor's transfer page shows, its QR image, and the demo's simulated transfer."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from app.models import DonationStatus, PledgeStatus, TransferPledge
from app.services.bank.qr import qr_payload
from app.timeutil import format_local, utcnow


@dataclass
class TransferView:
    state: str  # pending | received | expired | standing (a monthly standing pledge)
    payload: str
    receipt_number: str | None
    received_amount: int | None
    expires_local: str
    receipt: object | None = None  # the valid Receipt, for its download link
    months: list = field(default_factory=list)  # standing: the months received, newest first


def transfer_view(pledge: TransferPledge) -> TransferView:
    from app.services.receipts.issuing import valid_receipt_for

    receipt, received, found = None, None, None
    if pledge.status == PledgeStatus.RECEIVED.value and pledge.donation is not None:
        received = pledge.donation.amount
        if pledge.donation.status == DonationStatus.CONFIRMED.value:
            found = valid_receipt_for(pledge.donation_id)
            receipt = found.number if found else None
    state = pledge.status
    if state == PledgeStatus.PENDING.value and pledge.expires_at < utcnow():
        state = PledgeStatus.EXPIRED.value
    months = []
    if state == PledgeStatus.STANDING.value:
        from app.services.bank.standing import months_of

        months = months_of(pledge.recurring_gift_id)
    return TransferView(state=state, payload=qr_payload(pledge), receipt_number=receipt,
                        received_amount=received, expires_local=format_local(pledge.expires_at, "%d/%m/%Y"),
                        receipt=found, months=months)


def sepay_payload(pledge: TransferPledge, *, txn_id: int, amount: int | None = None,
                  when=None, memo: str | None = None) -> dict:
    """A SePay-shaped notification of the transfer this pledge asks for."""
    from app.timeutil import to_local

    when = when or utcnow()
    return {
        "id": txn_id, "gateway": pledge.account.bank_code, "accountNumber": pledge.account.account_number,
        "transactionDate": to_local(when).strftime("%Y-%m-%d %H:%M:%S"), "code": pledge.code,
        "content": memo if memo is not None else f"MBVCB.{txn_id}.{pledge.code}.CHUYEN TIEN UNG HO",
        "transferType": "in", "transferAmount": pledge.amount if amount is None else amount,
        "accumulated": 0, "subAccount": None, "referenceCode": f"FT{txn_id:012d}", "description": "",
    }


def demo_notify(pledge: TransferPledge, key: str) -> list[dict]:
    """Demo mode: a signed SePay notification through the same verification and path."""
    import secrets

    from app.adapters.bank_notifications import sepay
    from app.extensions import db
    from app.services.audit import Actor
    from app.services.bank.notifications import apply_lines

    body = json.dumps(sepay_payload(pledge, txn_id=secrets.randbelow(10 ** 9))).encode()
    db.session.rollback()  # end the read transaction before the notification's own
    sepay.verify(f"Apikey {key}", key)
    return apply_lines(sepay.parse(body), Actor.system("sepay-demo"))

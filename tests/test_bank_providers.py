"""Casso and payOS: their published signature samples, and our webhooks end to end."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from app.adapters.bank_notifications import InvalidSignature, casso, payos
from app.extensions import db
from app.models import BankLine, Donation, TransferPledge
from app.services.bank.pledges import create_pledge
from app.services.audit import Actor
from app.services.donations.online import DonationRequest
from tests import bank_helpers as bh

# Casso's own sample (CassoHQ/casso-webhook-v2-verify-signature, python.py).
CASSO_SAMPLE = {"error": 0, "data": {
    "id": 0, "reference": "MA_GIAO_DICH_THU_NGHIEM", "description": "giao dich thu nghiem", "amount": 599000,
    "runningBalance": 25000000, "transactionDateTime": "2024-10-03 15:06:37", "accountNumber": "88888888",
    "bankName": "VPBank", "bankAbbreviation": "VPB", "virtualAccountNumber": "", "virtualAccountName": "",
    "counterAccountName": "NGUYEN VAN A", "counterAccountNumber": "8888888888", "counterAccountBankId": "970415",
    "counterAccountBankName": "VietinBank"}}
CASSO_KEY = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"
CASSO_HEADER = ("t=1727948258788,v1=ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7dde0868fc66"
                "7faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3")
# payOS's documented sample ("kiểm tra dữ liệu với signature").
PAYOS_SAMPLE = {"orderCode": 123, "amount": 3000, "description": "VQRIO123", "accountNumber": "12345678",
                "reference": "TF230204212323", "transactionDateTime": "2023-02-04 18:25:00", "currency": "VND",
                "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18", "code": "00", "desc": "Thành công",
                "counterAccountBankId": "", "counterAccountBankName": "", "counterAccountName": "",
                "counterAccountNumber": "", "virtualAccountName": "", "virtualAccountNumber": ""}
PAYOS_KEY = "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675"
PAYOS_SIGNATURE = "412e915d2871504ed31be63c8f62a149a4410d34c4c42affc9006ef9917eaa03"


@pytest.fixture
def secrets(app, monkeypatch):
    for name, value in bh.BANK_SECRETS.items():
        monkeypatch.setitem(app.config, name, value)


def pledge(amount=500_000) -> TransferPledge:
    return create_pledge(DonationRequest(kind="individual", name="Lê Minh Châu", email="chau@example.com",
                                         amount=amount), Actor.system("tests"), minimum=10_000, expiry_days=7)


@pytest.mark.nodb
def test_casso_published_sample_verifies_and_a_changed_byte_does_not():
    casso.verify(CASSO_HEADER, CASSO_SAMPLE, CASSO_KEY, now=1727948258.788 + 10)
    tampered = json.loads(json.dumps(CASSO_SAMPLE))
    tampered["data"]["amount"] = 5990000
    with pytest.raises(InvalidSignature):
        casso.verify(CASSO_HEADER, tampered, CASSO_KEY, now=1727948258.788)
    with pytest.raises(InvalidSignature, match="5 phút"):
        casso.verify(CASSO_HEADER, CASSO_SAMPLE, CASSO_KEY, now=1727948258.788 + 301)


@pytest.mark.nodb
def test_payos_published_sample_verifies():
    assert payos.sign(PAYOS_SAMPLE, PAYOS_KEY) == PAYOS_SIGNATURE
    body = json.dumps({"code": "00", "desc": "success", "success": True, "data": PAYOS_SAMPLE,
                       "signature": PAYOS_SIGNATURE}).encode()
    (line,) = payos.parse_verified(body, PAYOS_KEY)
    assert (line.amount, line.memo, line.bank_reference, line.account_number) == (3000, "VQRIO123", "TF230204212323",
                                                                                  "12345678")
    with pytest.raises(InvalidSignature):
        payos.parse_verified(body.replace(b'"amount": 3000', b'"amount": 30000'), PAYOS_KEY)


def casso_item(p: TransferPledge, **changes) -> dict:
    item = {"id": 4242, "reference": "FT24277123456", "description": f"CT DEN:123 {p.code} chuyen tien",
            "amount": p.amount, "runningBalance": 25_000_000, "transactionDateTime": "2026-11-20 09:15:00",
            "accountNumber": "0011001234567", "bankName": "Vietcombank", "bankAbbreviation": "VCB",
            "counterAccountName": "LE MINH CHAU", "counterAccountNumber": "190333444555",
            "counterAccountBankName": "Techcombank"}
    item.update(changes)
    return item


def test_casso_webhook_confirms_and_a_retry_or_replay_changes_nothing(client, secrets):
    bh.account()
    p = pledge()
    body, headers = bh.casso_delivery(casso_item(p))
    response = client.post("/payments/casso/webhook", data=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["success"] is True
    assert client.post("/payments/casso/webhook", data=body, headers=headers).status_code == 200
    db.session.expire_all()
    line = db.session.scalars(sa.select(BankLine)).one()
    assert (line.state, line.sender_name, line.sender_account, line.bank_reference) == (
        "matched", "LE MINH CHAU", "190333444555", "FT24277123456")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1
    old_body, old_headers = bh.casso_delivery(casso_item(p, id=4243), at_ms=int((time.time() - 400) * 1000))
    assert client.post("/payments/casso/webhook", data=old_body, headers=old_headers).status_code == 401
    body2, _ = bh.casso_delivery(casso_item(p, id=4244))
    assert client.post("/payments/casso/webhook", data=body2, headers=headers).status_code == 401
    assert client.post("/payments/casso/webhook", data=body2).status_code == 401
    frac, frac_headers = bh.casso_delivery(casso_item(p, id=4245, amount=100.5))
    assert client.post("/payments/casso/webhook", data=frac, headers=frac_headers).status_code == 400
    usd, usd_headers = bh.casso_delivery(casso_item(p, id=4246, currency="USD"))
    assert client.post("/payments/casso/webhook", data=usd, headers=usd_headers).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 1


def test_payos_webhook_confirms_once(client, secrets):
    bh.account()
    p = pledge(250_000)
    data = {**PAYOS_SAMPLE, "amount": 250_000, "description": f"{p.code}", "accountNumber": "0011001234567",
            "reference": "FT99887766", "transactionDateTime": "2026-11-20 10:00:00",
            "counterAccountName": "LE MINH CHAU"}
    body = bh.payos_delivery(data)
    for _ in range(2):
        response = client.post("/payments/payos/webhook", data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 200 and response.get_json()["success"] is True
    db.session.expire_all()
    assert db.session.scalars(sa.select(Donation)).one().amount == 250_000
    bad = body.replace(b"FT99887766", b"FT99887767")
    assert client.post("/payments/payos/webhook", data=bad).status_code == 401
    frac = bh.payos_delivery({**data, "amount": 250000.5, "reference": "X1"})
    assert client.post("/payments/payos/webhook", data=frac).status_code == 400
    usd = bh.payos_delivery({**data, "currency": "USD", "reference": "X2"})
    assert client.post("/payments/payos/webhook", data=usd).status_code == 400


def test_casso_and_payos_answer_503_without_their_secret(client):
    assert client.post("/payments/casso/webhook", data=b"{}").status_code == 503
    assert client.post("/payments/payos/webhook", data=b"{}").status_code == 503


def test_the_same_transfer_from_two_providers_is_one_line(client, secrets):
    bh.account()
    p = pledge()
    body, headers = bh.casso_delivery(casso_item(p))
    client.post("/payments/casso/webhook", data=body, headers=headers)
    sepay = {"id": 77, "gateway": "VCB", "transactionDate": "2026-11-20 09:15:00", "accountNumber": "0011001234567",
             "content": f"CT DEN:123 {p.code} chuyen tien", "transferType": "in", "transferAmount": p.amount,
             "referenceCode": "FT24277123456"}
    client.post("/payments/sepay/webhook", data=json.dumps(sepay), headers=bh.sepay_headers())
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BankLine)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1

"""VietQR: our encoder against published payloads, read back by zxing-cpp and by an
independent parser from PyPI (vietnam-qr-pay, a test-only dependency)."""
from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from vietnam_qr_pay import QRPay

from app.adapters import vietqr
from app.adapters.vietqr import VietQR, VietQRError

pytestmark = pytest.mark.nodb

# Payloads published by others (READMEs, payOS responses, banks' static codes), CRCs as printed.
PUBLISHED = [
    ("00020101021138540010A00000072701240006970422011009119673630208QRIBFTTA53037045802VN63046ad9",
     VietQR("970422", "0911967363")),
    ("00020101021138570010A00000072701270006970405011322082054793800208QRIBFTTA53037045802VN630497A6",
     VietQR("970405", "2208205479380")),
    ("00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F",
     VietQR("970416", "257678859")),
]
PAYOS_SAMPLE = ("00020101021238570010A000000727012700069704220113VQRQABRLS04480208QRIBFTTA530370454042000"
                "5802VN6224082018f8746b181045f0a2ce63040FC0")


@pytest.mark.parametrize("payload, expected", PUBLISHED)
def test_static_payloads_are_rebuilt_byte_for_byte(payload, expected):
    assert vietqr.encode(expected) == payload.upper()[:-4] + payload[-4:].upper()
    assert vietqr.decode(payload) == expected


def test_a_published_dynamic_payload_decodes_with_amount_and_memo():
    qr = vietqr.decode(PAYOS_SAMPLE)
    assert (qr.bank_bin, qr.account, qr.amount, qr.memo) == ("970422", "VQRQABRLS0448", 2000,
                                                            "18f8746b181045f0a2ce")


def test_our_dynamic_payload_reads_back_in_zxing_and_an_independent_parser():
    payload = vietqr.encode(VietQR("970436", "0011001234567", 12_500_000, "QBTE7K3M9XA"))
    assert payload.startswith("000201010212") and "540812500000" in payload and "0811QBTE7K3M9XA" in payload
    image = Image.open(io.BytesIO(vietqr.png(payload)))
    (found,) = zxingcpp.read_barcodes(image)
    assert found.text == payload
    other = QRPay(payload)
    assert other.is_valid
    assert (other.consumer.bank_bin, other.consumer.bank_number, other.amount, other.additional_data.purpose) == (
        "970436", "0011001234567", "12500000", "QBTE7K3M9XA")


def test_a_changed_character_fails_the_crc():
    payload = vietqr.encode(VietQR("970436", "0011001234567", 500_000, "QBTE7K3M9XA"))
    with pytest.raises(VietQRError, match="CRC"):
        vietqr.decode(payload.replace("500000", "900000"))
    assert not QRPay(payload.replace("500000", "900000")).is_valid


@pytest.mark.parametrize("qr, message", [
    (VietQR("97043", "1"), "BIN"),
    (VietQR("970436", "12345678901234567890"), "account"),
    (VietQR("970436", "12 34"), "account"),
    (VietQR("970436", "1", amount=0), "amount"),
    (VietQR("970436", "1", amount=-5), "amount"),
    (VietQR("970436", "1", amount=10 ** 13), "amount"),
    (VietQR("970436", "1", memo="Ủng hộ quỹ"), "ASCII"),
    (VietQR("970436", "1", memo="A" * 26), "25"),
    (VietQR("970436", "1", memo="QBTE-7K3M"), "ASCII"),
])
def test_bad_values_are_refused_not_miscounted(qr, message):
    with pytest.raises(VietQRError, match=message):
        vietqr.encode(qr)

"""VietQR (NAPAS 247, EMVCo merchant-presented QR): our encoder and decoder.

A payload is a string of TLV fields (two-digit tag, two-digit length, value), ending with
tag 63: a CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over everything up to and including
"6304". Lengths count bytes; we only ever write ASCII, so bytes and characters agree, and
anything else is refused rather than silently miscounted. See docs/bank-transfers.md.
"""
from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

NAPAS_GUID = "A000000727"
SERVICE_ACCOUNT = "QRIBFTTA"  # transfer to an account number
SERVICE_CARD = "QRIBFTTC"  # transfer to a card number
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
MEMO_MAX = 25  # safe across banking apps (the field allows more; many apps cut it)
_MEMO_RE = re.compile(r"^[A-Za-z0-9 ]*$")
_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9]{1,19}$")


class VietQRError(ValueError):
    """A value that cannot go into (or did not come out of) a valid VietQR payload."""


@dataclass(frozen=True)
class VietQR:
    bank_bin: str
    account: str
    amount: int | None = None
    memo: str | None = None
    service: str = SERVICE_ACCOUNT


def crc16(data: str) -> str:
    return "%04X" % binascii.crc_hqx(data.encode("ascii"), 0xFFFF)


def _field(tag: str, value: str) -> str:
    raw = value.encode("ascii")  # a non-ASCII value would break byte counting
    if not 0 < len(raw) <= 99:
        raise VietQRError(f"field {tag}: length {len(raw)} outside 1..99")
    return f"{tag}{len(raw):02d}{value}"


def encode(qr: VietQR) -> str:
    """The payload string for a transfer to `qr.account` at the bank `qr.bank_bin`.

    With an amount the code is dynamic ("12", one-off, amount fixed in the app); without,
    static ("11"). The memo goes in 62/08 (purpose of transaction)."""
    if not re.fullmatch(r"\d{6}", qr.bank_bin or ""):
        raise VietQRError("bank BIN must be 6 digits")
    if not _ACCOUNT_RE.fullmatch(qr.account or ""):
        raise VietQRError("account number must be 1-19 letters or digits")
    if qr.service not in (SERVICE_ACCOUNT, SERVICE_CARD):
        raise VietQRError("unknown service code")
    if qr.amount is not None:
        if not isinstance(qr.amount, int) or isinstance(qr.amount, bool) or qr.amount <= 0:
            raise VietQRError("amount must be a positive whole number of đồng")
        if len(str(qr.amount)) > 13:
            raise VietQRError("amount too large")
    if qr.memo:
        if not _MEMO_RE.fullmatch(qr.memo):
            raise VietQRError("memo must be ASCII letters, digits and spaces")
        if len(qr.memo) > MEMO_MAX:
            raise VietQRError(f"memo longer than {MEMO_MAX} characters")
    beneficiary = _field("00", qr.bank_bin) + _field("01", qr.account)
    merchant = _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", qr.service)
    parts = [
        _field("00", "01"),
        _field("01", "12" if qr.amount is not None else "11"),
        _field("38", merchant),
        _field("53", CURRENCY_VND),
    ]
    if qr.amount is not None:
        parts.append(_field("54", str(qr.amount)))
    parts.append(_field("58", COUNTRY_VN))
    if qr.memo:
        parts.append(_field("62", _field("08", qr.memo)))
    body = "".join(parts) + "6304"
    return body + crc16(body)


def parse_tlv(data: str) -> dict[str, str]:
    """Split one level of TLV fields. Raises VietQRError on a truncated or bad field."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(data):
        if i + 4 > len(data):
            raise VietQRError("truncated field header")
        tag, length = data[i:i + 2], data[i + 2:i + 4]
        if not (tag.isdecimal() and length.isdecimal()):
            raise VietQRError(f"bad field header at {i}")
        end = i + 4 + int(length)
        if end > len(data):
            raise VietQRError(f"field {tag} runs past the end")
        fields[tag] = data[i + 4:end]
        i = end
    return fields


def decode(payload: str) -> VietQR:
    """Read a VietQR payload back (CRC checked). Raises VietQRError."""
    try:
        payload.encode("ascii")
    except UnicodeEncodeError:
        raise VietQRError("payload is not ASCII") from None
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("no CRC field at the end")
    if crc16(payload[:-4]) != payload[-4:].upper():
        raise VietQRError("CRC mismatch")
    root = parse_tlv(payload[:-8])
    if root.get("00") != "01":
        raise VietQRError("not an EMVCo payload")
    merchant = parse_tlv(root.get("38", ""))
    if merchant.get("00") != NAPAS_GUID:
        raise VietQRError("not a NAPAS (VietQR) merchant account")
    beneficiary = parse_tlv(merchant.get("01", ""))
    if root.get("53") != CURRENCY_VND:
        raise VietQRError("currency is not VND")
    amount = root.get("54")
    memo = parse_tlv(root["62"]).get("08") if "62" in root else None
    return VietQR(bank_bin=beneficiary.get("00", ""), account=beneficiary.get("01", ""),
                  amount=int(amount) if amount else None, memo=memo,
                  service=merchant.get("02", SERVICE_ACCOUNT))


def png(payload: str, *, scale: int = 8) -> bytes:
    """The payload as a QR code PNG: zxing-cpp draws the modules, Pillow (already there for
    fpdf2) writes the file."""
    import io

    import zxingcpp
    from PIL import Image

    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = memoryview(barcode.to_image(scale=scale, add_quiet_zones=True))
    height, width = pixels.shape[0], pixels.shape[1]
    out = io.BytesIO()
    Image.frombytes("L", (width, height), pixels.tobytes()).save(out, "PNG", optimize=True)
    return out.getvalue()

"""Contact-detail rules for donors (pure functions)."""
import pytest

from app.errors import ValidationFailed
from app.services.donor_profiles import normalize_kind, normalize_phone, normalize_tax_code

pytestmark = pytest.mark.nodb


@pytest.mark.parametrize("raw, expected", [
    ("0912345678", "0912345678"), ("0912 345 678", "0912345678"), ("0912.345.678", "0912345678"),
    ("+84 912 345 678", "0912345678"), ("84912345678", "0912345678"), ("0084912345678", "0912345678"),
    ("912345678", "0912345678"),  # Excel dropped the leading zero
    ("0351234567", "0351234567"), ("0587654321", "0587654321"), ("0781234567", "0781234567"),
    ("0862345678", "0862345678"),
    ("(0225) 380 0000", "02253800000"), ("+84 225 3800000", "02253800000"), ("0243 826 1234", "02438261234"),
    ("", None), (None, None), ("   ", None),
])
def test_phone_numbers_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["0123456789", "0412345678", "091234567", "09123456789", "0612345678",
                                 "phone", "+1 202 555 0100", "0225380000"])
def test_bad_phone_numbers_are_refused_in_vietnamese(raw):
    with pytest.raises(ValidationFailed) as error:
        normalize_phone(raw)
    assert error.value.field == "phone" and "03, 05, 07, 08" in error.value.message


@pytest.mark.parametrize("raw, expected", [("0201234567", "0201234567"), ("0201234567-001", "0201234567-001"),
                                           (" 0201234567 ", "0201234567"), ("", None)])
def test_tax_codes(raw, expected):
    assert normalize_tax_code(raw) == expected


@pytest.mark.parametrize("raw", ["020123456", "02012345678", "0201234567-01", "0201234567_001", "MST0201234567"])
def test_bad_tax_codes_are_refused(raw):
    with pytest.raises(ValidationFailed, match="10 chữ số"):
        normalize_tax_code(raw)


def test_donor_kinds_in_both_languages():
    assert normalize_kind("Cá nhân") == normalize_kind("individual") == "individual"
    assert normalize_kind("TẬP THỂ") == normalize_kind("organization") == "organization"
    with pytest.raises(ValidationFailed):
        normalize_kind("company")

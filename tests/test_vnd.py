"""Tests for app.vnd: formatting, parsing and spelling out VND amounts."""

import ast
import inspect
from decimal import Decimal

import pytest

from app import vnd
from app.vnd import (
    AmountError,
    amount_in_words,
    format_vnd,
    number_to_words,
    parse_vnd,
)

pytestmark = pytest.mark.nodb

# ---------------------------------------------------------------------------
# format_vnd
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, expected",
    [
        (0, "0\u00a0₫"),
        (1, "1\u00a0₫"),
        (999, "999\u00a0₫"),
        (1_000, "1.000\u00a0₫"),
        (50_000, "50.000\u00a0₫"),
        (1_000_000, "1.000.000\u00a0₫"),
        (50_000_000, "50.000.000\u00a0₫"),
        (1_234_567_891, "1.234.567.891\u00a0₫"),
        (100_000_000_000_000, "100.000.000.000.000\u00a0₫"),
        (-1_000, "-1.000\u00a0₫"),
        (-999, "-999\u00a0₫"),
        (-50_000_000, "-50.000.000\u00a0₫"),
    ],
)
def test_format_vnd(amount, expected):
    assert format_vnd(amount) == expected


@pytest.mark.parametrize(
    "amount, expected",
    [
        (0, "0"),
        (999, "999"),
        (50_000_000, "50.000.000"),
        (-1_000, "-1.000"),
    ],
)
def test_format_vnd_without_symbol(amount, expected):
    assert format_vnd(amount, symbol=False) == expected


def test_format_vnd_keeps_the_sign_with_its_number():
    """A no-break space (issue 12, item 26): a phone never wraps "₫" onto its own line."""
    assert format_vnd(1_000)[-2:] == "\u00a0\u20ab"
    assert format_vnd(1_000, space=" ") == "1.000 ₫"  # for documents that wrap text themselves


@pytest.mark.parametrize("bad", [1.5, 1000.0, Decimal("1000"), "1000", True, None])
def test_format_vnd_refuses_non_int(bad):
    with pytest.raises(TypeError):
        format_vnd(bad)


# ---------------------------------------------------------------------------
# parse_vnd: accepted forms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "50.000.000",
        "50000000",
        "50,000,000",
        "50 000 000",
        "50\u00a0000\u00a0000",  # no-break spaces, as pasted from Excel
        "50\u202f000\u202f000",  # narrow no-break spaces
        "50  000  000",  # doubled spaces
        "  50.000.000  ",
        "50.000.000 ₫",
        "50.000.000\u00a0₫",  # as format_vnd writes it
        "50.000.000₫",
        "₫50.000.000",
        "₫ 50.000.000",
        "50.000.000 đ",
        "50.000.000đ",
        "50.000.000 Đ",
        "50.000.000d",
        "50.000.000 VND",
        "50.000.000vnd",
        "VND 50.000.000",
        "50.000.000 VNĐ",
        "vnđ 50.000.000",
        "50.000.000 Vnđ",
        "50.000.000 đồng",
        "50.000.000 Đồng",
        "50.000.000 ĐỒNG",
        "50.000.000 dong",
        "50,000,000 VND",
        "50 000 000 đ",
        "50000000đ",
        "50.000.000 \u0111\u00f4\u0300ng",  # "đồng" typed with a combining grave accent
    ],
)
def test_parse_vnd_accepts_common_forms(text):
    assert parse_vnd(text) == 50_000_000


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", 1),
        ("999", 999),
        ("1.000", 1_000),
        ("1,000", 1_000),
        ("1 000", 1_000),
        ("1.500", 1_500),  # a dot followed by three digits groups thousands
        ("1,500", 1_500),  # so does a comma
        ("100.000", 100_000),
        ("200.000đ", 200_000),
        ("1.234.567.891", 1_234_567_891),
        ("12345", 12_345),
        ("0050000", 50_000),  # plain digits: leading zeros are harmless
        ("100.000.000.000.000", 100_000_000_000_000),  # the default maximum itself
    ],
)
def test_parse_vnd_values(text, expected):
    assert parse_vnd(text) == expected


@pytest.mark.parametrize("value", [1, 50_000, 50_000_000, 100_000_000_000_000])
def test_parse_vnd_accepts_int(value):
    assert parse_vnd(value) == value


def test_parse_vnd_is_exact_beyond_float_precision():
    # 123 456 789 012 345 678 is not representable as a float; any float on the
    # way would round it.
    assert (
        parse_vnd("123.456.789.012.345.678", maximum=10**18) == 123_456_789_012_345_678
    )


def test_parse_vnd_returns_int():
    assert type(parse_vnd("50.000")) is int


def test_vnd_module_never_uses_float():
    tree = ast.parse(inspect.getsource(vnd))
    floats = [
        node
        for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and isinstance(node.value, float))
        or (isinstance(node, ast.Name) and node.id == "float")
    ]
    assert floats == []


# ---------------------------------------------------------------------------
# parse_vnd: errors
# ---------------------------------------------------------------------------

EMPTY = "Vui lòng nhập số tiền."
INVALID = "Số tiền không hợp lệ: chỉ nhập chữ số, ví dụ 50.000.000."
NEGATIVE = "Số tiền không được là số âm."
ZERO = "Số tiền phải lớn hơn 0."
FRACTION = (
    "Số tiền không được có phần thập phân vì đồng Việt Nam không có đơn vị lẻ. "
    "Dấu chấm hoặc dấu phẩy chỉ dùng để phân cách hàng nghìn (mỗi nhóm 3 chữ số), "
    "ví dụ 50.000.000."
)
MALFORMED = (
    "Cách viết số tiền không rõ ràng: chỉ dùng một loại dấu (dấu chấm, dấu phẩy "
    "hoặc khoảng trắng) để phân cách hàng nghìn, mỗi nhóm đúng 3 chữ số, "
    "ví dụ 50.000.000."
)
ABOVE_DEFAULT = "Số tiền tối đa là 100.000.000.000.000\u00a0₫."


@pytest.mark.parametrize(
    "text, code, message",
    [
        # empty
        (None, "empty", EMPTY),
        ("", "empty", EMPTY),
        ("   ", "empty", EMPTY),
        ("\u00a0", "empty", EMPTY),
        ("₫", "empty", EMPTY),
        ("VND", "empty", EMPTY),
        # not a number
        ("abc", "invalid", INVALID),
        ("năm mươi triệu", "invalid", INVALID),
        ("50k", "invalid", INVALID),
        ("50tr", "invalid", INVALID),
        ("1e6", "invalid", INVALID),
        ("+50000", "invalid", INVALID),
        ("50-000", "invalid", INVALID),
        ("50.000 USD", "invalid", INVALID),
        ("$50", "invalid", INVALID),
        ("...", "invalid", INVALID),
        ("５０００", "invalid", INVALID),  # full-width digits
        ("50.000\u00a0₫ ₫ ₫", "invalid", INVALID),
        # negative
        ("-50000", "negative", NEGATIVE),
        ("-50.000", "negative", NEGATIVE),
        ("- 50.000\u00a0₫", "negative", NEGATIVE),
        ("-50.000\u00a0₫", "negative", NEGATIVE),
        ("₫-50.000", "negative", NEGATIVE),
        ("VND -50.000", "negative", NEGATIVE),
        ("\u221250.000", "negative", NEGATIVE),  # real minus sign
        ("\u201350.000", "negative", NEGATIVE),  # en dash from a word processor
        ("-99999999999999999999999", "negative", NEGATIVE),
        # zero
        ("0", "zero", ZERO),
        ("000", "zero", ZERO),
        ("0\u00a0₫", "zero", ZERO),
        ("-0", "zero", ZERO),
        # fractions
        ("50.000,5", "fraction", FRACTION),
        ("1.5", "fraction", FRACTION),
        ("12,50", "fraction", FRACTION),
        ("50.000,00", "fraction", FRACTION),
        ("1,000.50", "fraction", FRACTION),
        ("1 000,5", "fraction", FRACTION),
        ("15000.5", "fraction", FRACTION),
        ("1.5000", "fraction", FRACTION),
        ("0.500", "fraction", FRACTION),
        ("0,5", "fraction", FRACTION),
        (".5", "fraction", FRACTION),
        ("1.5\u00a0₫", "fraction", FRACTION),
        # malformed / ambiguous
        ("1,000.000", "malformed", MALFORMED),
        ("1.000,500", "malformed", MALFORMED),
        ("1.000 000", "malformed", MALFORMED),
        ("1.000.00", "malformed", MALFORMED),
        ("50.00.000", "malformed", MALFORMED),
        ("5000.000", "malformed", MALFORMED),
        ("50 00", "malformed", MALFORMED),
        ("05.000", "malformed", MALFORMED),
        ("50.", "malformed", MALFORMED),
        ("50..000", "malformed", MALFORMED),
        (",000", "malformed", MALFORMED),
        ("1.234.5678", "malformed", MALFORMED),
        # absurd
        ("100.000.000.000.001", "above_maximum", ABOVE_DEFAULT),
        ("9" * 30, "above_maximum", ABOVE_DEFAULT),
        ("1" + "0" * 5000, "above_maximum", ABOVE_DEFAULT),
    ],
)
def test_parse_vnd_errors(text, code, message):
    with pytest.raises(AmountError) as info:
        parse_vnd(text)
    assert info.value.code == code
    assert info.value.message == message
    assert str(info.value) == message


@pytest.mark.parametrize(
    "value, code, message",
    [
        (-1, "negative", NEGATIVE),
        (-50_000, "negative", NEGATIVE),
        (0, "zero", ZERO),
        (100_000_000_000_001, "above_maximum", ABOVE_DEFAULT),
    ],
)
def test_parse_vnd_int_errors(value, code, message):
    with pytest.raises(AmountError) as info:
        parse_vnd(value)
    assert (info.value.code, str(info.value)) == (code, message)


def test_amount_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_vnd("abc")


@pytest.mark.parametrize(
    "text, minimum, maximum, code, message",
    [
        ("9.999", 10_000, vnd.DEFAULT_MAXIMUM, "below_minimum",
         "Số tiền tối thiểu là 10.000\u00a0₫."),
        ("1", 10_000, vnd.DEFAULT_MAXIMUM, "below_minimum",
         "Số tiền tối thiểu là 10.000\u00a0₫."),
        ("0", 10_000, vnd.DEFAULT_MAXIMUM, "zero", ZERO),
        ("500.001", 1, 500_000, "above_maximum", "Số tiền tối đa là 500.000\u00a0₫."),
        ("50.000.000", 1, 10_000_000, "above_maximum",
         "Số tiền tối đa là 10.000.000\u00a0₫."),
        ("9" * 9, 1, 10_000_000, "above_maximum", "Số tiền tối đa là 10.000.000\u00a0₫."),
    ],
)
def test_parse_vnd_bounds(text, minimum, maximum, code, message):
    with pytest.raises(AmountError) as info:
        parse_vnd(text, minimum=minimum, maximum=maximum)
    assert (info.value.code, str(info.value)) == (code, message)


def test_parse_vnd_bounds_are_inclusive():
    assert parse_vnd("10.000", minimum=10_000, maximum=500_000) == 10_000
    assert parse_vnd("500.000", minimum=10_000, maximum=500_000) == 500_000


def test_parse_vnd_minimum_zero_allows_zero():
    assert parse_vnd("0", minimum=0) == 0
    assert parse_vnd(0, minimum=0) == 0


@pytest.mark.parametrize("bad", [1.5, 50000.0, Decimal("50000"), True, False, b"50000", [50000]])
def test_parse_vnd_refuses_other_types(bad):
    with pytest.raises(TypeError):
        parse_vnd(bad)


@pytest.mark.parametrize(
    "minimum, maximum",
    [(-1, 100), (100, 99), (1.0, 100), (1, True)],
)
def test_parse_vnd_rejects_bad_bounds(minimum, maximum):
    with pytest.raises((ValueError, TypeError)) as info:
        parse_vnd("50", minimum=minimum, maximum=maximum)
    assert not isinstance(info.value, AmountError)


def test_parse_vnd_bounds_are_keyword_only():
    with pytest.raises(TypeError):
        parse_vnd("50", 1, 100)  # type: ignore[misc]


# ---------------------------------------------------------------------------
# number_to_words
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, words",
    [
        (0, "không"),
        (1, "một"),
        (2, "hai"),
        (3, "ba"),
        (4, "bốn"),
        (5, "năm"),
        (6, "sáu"),
        (7, "bảy"),
        (8, "tám"),
        (9, "chín"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (19, "mười chín"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (30, "ba mươi"),
        (31, "ba mươi mốt"),
        (44, "bốn mươi tư"),
        (55, "năm mươi lăm"),
        (99, "chín mươi chín"),
        (100, "một trăm"),
        (101, "một trăm linh một"),
        (104, "một trăm linh bốn"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (111, "một trăm mười một"),
        (114, "một trăm mười bốn"),
        (115, "một trăm mười lăm"),
        (121, "một trăm hai mươi mốt"),
        (124, "một trăm hai mươi tư"),
        (200, "hai trăm"),
        (999, "chín trăm chín mươi chín"),
        (1_000, "một nghìn"),
        (1_001, "một nghìn không trăm linh một"),
        (1_010, "một nghìn không trăm mười"),
        (1_015, "một nghìn không trăm mười lăm"),
        (1_021, "một nghìn không trăm hai mươi mốt"),
        (1_100, "một nghìn một trăm"),
        (1_500, "một nghìn năm trăm"),
        (2_024, "hai nghìn không trăm hai mươi tư"),
        (10_000, "mười nghìn"),
        (15_000, "mười lăm nghìn"),
        (21_000, "hai mươi mốt nghìn"),
        (100_000, "một trăm nghìn"),
        (105_000, "một trăm linh năm nghìn"),
        (500_000, "năm trăm nghìn"),
        (1_000_000, "một triệu"),
        (1_000_001, "một triệu không trăm linh một"),
        (1_005_000, "một triệu không trăm linh năm nghìn"),
        (1_500_000, "một triệu năm trăm nghìn"),
        (2_000_050, "hai triệu không trăm năm mươi"),
        (10_000_000, "mười triệu"),
        (50_000_000, "năm mươi triệu"),
        (125_000_000, "một trăm hai mươi lăm triệu"),
        (
            999_999_999,
            "chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn "
            "chín trăm chín mươi chín",
        ),
        (1_000_000_000, "một tỷ"),
        (1_000_000_005, "một tỷ không trăm linh năm"),
        (1_000_001_000, "một tỷ không trăm linh một nghìn"),
        (
            1_234_567_891,
            "một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn "
            "tám trăm chín mươi mốt",
        ),
        (2_500_000_000, "hai tỷ năm trăm triệu"),
        (1_000_000_000_000, "một nghìn tỷ"),
        (1_234_000_000_000, "một nghìn hai trăm ba mươi tư tỷ"),
        (100_000_000_000_000, "một trăm nghìn tỷ"),
        (10**18, "một tỷ tỷ"),
    ],
)
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_number_to_words_negative():
    with pytest.raises(ValueError):
        number_to_words(-1)


@pytest.mark.parametrize("bad", [1.0, Decimal("1"), "1", True])
def test_number_to_words_refuses_non_int(bad):
    with pytest.raises(TypeError):
        number_to_words(bad)


# ---------------------------------------------------------------------------
# amount_in_words
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, phrase",
    [
        (50_000_000, "Năm mươi triệu đồng chẵn"),
        (0, "Không đồng"),
        (1, "Một đồng"),
        (15, "Mười lăm đồng"),
        (21, "Hai mươi mốt đồng"),
        (999, "Chín trăm chín mươi chín đồng"),
        (1_000, "Một nghìn đồng chẵn"),
        (1_500, "Một nghìn năm trăm đồng"),  # not a whole number of thousands
        (1_234, "Một nghìn hai trăm ba mươi tư đồng"),
        (200_000, "Hai trăm nghìn đồng chẵn"),
        (1_000_001, "Một triệu không trăm linh một đồng"),
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng chẵn"),
        (2_000_050, "Hai triệu không trăm năm mươi đồng"),
        (1_000_000_000, "Một tỷ đồng chẵn"),
        (
            1_234_567_891,
            "Một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn "
            "tám trăm chín mươi mốt đồng",
        ),
    ],
)
def test_amount_in_words(amount, phrase):
    assert amount_in_words(amount) == phrase


def test_amount_in_words_negative():
    with pytest.raises(ValueError):
        amount_in_words(-50_000)

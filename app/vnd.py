"""VND money helpers: formatting, parsing what people type, and amounts in words.

The Vietnamese đồng has no minor unit, so every amount in this application is a
Python ``int`` of đồng (50 000 VND is ``50000`` — never ``5000000`` "cents", and
never a float). This module is pure Python: no Flask, no database.

Public API
----------
``format_vnd(amount, symbol=True, space=NBSP)``
    ``50000000`` -> ``"50.000.000\u00a0₫"`` (a no-break space: the sign never wraps away).
``parse_vnd(text, *, minimum=1, maximum=100_000_000_000_000)``
    What staff and donors type -> ``int``; raises :class:`AmountError` with a
    Vietnamese message suitable for showing next to the form field.
``number_to_words(n)``
    ``21`` -> ``"hai mươi mốt"``.
``amount_in_words(amount)``
    The receipt phrase: ``50000000`` -> ``"Năm mươi triệu đồng chẵn"``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "AmountError",
    "DEFAULT_MAXIMUM",
    "NBSP",
    "amount_in_words",
    "format_vnd",
    "number_to_words",
    "parse_vnd",
]

#: Upper bound used by :func:`parse_vnd` unless the caller gives another one:
#: 100 nghìn tỷ đồng, far above any real donation, low enough to catch a
#: pasted account number or a finger resting on the 0 key.
DEFAULT_MAXIMUM = 100_000_000_000_000


def _require_int(value: object, name: str) -> int:
    """Return *value* if it is a real ``int``; ``bool``, ``float``, ``Decimal`` … are refused.

    ``bool`` is a subclass of ``int`` in Python; ``True`` is never an amount.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of đồng, not {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------

#: No-break space (U+00A0) between an amount and "₫", so a narrow screen never puts the
#: sign alone on the next line.
NBSP = "\u00a0"


def format_vnd(amount: int, symbol: bool = True, *, space: str = NBSP) -> str:
    """Format a whole number of đồng the Vietnamese way.

    Thousands are grouped with a dot; with ``symbol=True`` a no-break space
    (U+00A0, :data:`NBSP`) and the đồng sign follow. Documents that wrap text
    themselves (receipt PDFs) and files read by other programs pass ``space=" "``::

        format_vnd(50000000)               == "50.000.000\u00a0₫"
        format_vnd(50000000, space=" ")    == "50.000.000 ₫"
        format_vnd(50000000, symbol=False) == "50.000.000"
        format_vnd(-1000)                  == "-1.000\u00a0₫"
        format_vnd(0)                      == "0\u00a0₫"

    Raises ``TypeError`` for anything that is not an ``int`` (including
    ``bool`` and ``float``).
    """
    _require_int(amount, "amount")
    digits = f"{abs(amount):,}".replace(",", ".")
    text = f"-{digits}" if amount < 0 else digits
    return f"{text}{space}₫" if symbol else text


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

class AmountError(ValueError):
    """An amount typed by a person could not be accepted.

    ``str(error)`` and ``error.message`` are the same sentence, in the reader's
    language (Vietnamese by default), ready to show to the user. ``error.code`` is a stable English identifier for
    programs and tests, one of:

    ``"empty"``, ``"invalid"``, ``"negative"``, ``"zero"``, ``"fraction"``,
    ``"malformed"``, ``"below_minimum"``, ``"above_maximum"``.
    """

    def __init__(self, message: str, code: str) -> None:
        if code not in ("below_minimum", "above_maximum"):  # those two come translated
            message = _gettext(message)
        super().__init__(message)
        self.message = message
        self.code = code


# Messages (issue 17): Vietnamese msgids, shown in the reader's language. This module knows
# nothing of Flask (receipts import it): the app installs its translation functions with
# `use_translations`; without them (plain scripts, unit tests) the Vietnamese text is used.
def N_(text: str) -> str:
    """Marks a msgid for the catalog (babel's default keyword)."""
    return text


_gettext: Callable[..., str] = lambda text, **values: text % values if values else text  # noqa: E731
_amount_text: Callable[[int], str] = lambda amount: format_vnd(amount)  # noqa: E731


def use_translations(gettext: Callable[..., str], amount_text: Callable[[int], str]) -> None:
    """Show AmountError messages through `gettext` (as flask_babel's: text, **values) with
    amounts written by `amount_text` (app.i18n.money)."""
    global _gettext, _amount_text
    _gettext, _amount_text = gettext, amount_text


MSG_EMPTY = N_("Vui lòng nhập số tiền.")
MSG_INVALID = N_("Số tiền không hợp lệ: chỉ nhập chữ số, ví dụ 50.000.000.")
MSG_NEGATIVE = N_("Số tiền không được là số âm.")
MSG_ZERO = N_("Số tiền phải lớn hơn 0.")
MSG_FRACTION = N_(
    "Số tiền không được có phần thập phân vì đồng Việt Nam không có đơn vị lẻ. "
    "Dấu chấm hoặc dấu phẩy chỉ dùng để phân cách hàng nghìn (mỗi nhóm 3 chữ số), "
    "ví dụ 50.000.000."
)
MSG_MALFORMED = N_(
    "Cách viết số tiền không rõ ràng: chỉ dùng một loại dấu (dấu chấm, dấu phẩy "
    "hoặc khoảng trắng) để phân cách hàng nghìn, mỗi nhóm đúng 3 chữ số, "
    "ví dụ 50.000.000."
)


def _msg_below(minimum: int) -> str:
    return _gettext(N_("Số tiền tối thiểu là %(amount)s."), amount=_amount_text(minimum))


def _msg_above(maximum: int) -> str:
    return _gettext(N_("Số tiền tối đa là %(amount)s."), amount=_amount_text(maximum))


# Characters people (or Excel, or a web page) put between digit groups that
# are really just spaces: no-break space, narrow no-break space, thin space,
# figure space, tab …  They all become U+0020 before parsing.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")
# Leading minus signs: hyphen-minus, the real minus sign, and the en dash that
# word processors substitute for a typed hyphen.
_MINUS = ("-", "\u2212", "\u2013")
# Currency words and signs, longest first so "vnđ" wins over "đ". Matched case
# insensitively after NFC normalisation, with or without diacritics.
_CURRENCY = r"(?:đồng|dong|vnđ|vnd|₫|đ|d)"
_CURRENCY_PREFIX = re.compile(rf"^{_CURRENCY}\s*", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(rf"\s*{_CURRENCY}$", re.IGNORECASE)
_ALLOWED = re.compile(r"[0-9., ]+")
_DIGITS = re.compile(r"[0-9]+")


def _take_sign(s: str) -> tuple[str, bool]:
    if s.startswith(_MINUS):
        return s[1:].lstrip(), True
    return s, False


def _grouped(groups: list[str]) -> bool:
    """True if *groups* is a well-formed thousands grouping: 1–3 digits, then 3s.

    The first group may not start with 0 ("05.000" is not a way to write 5 000).
    """
    first, rest = groups[0], groups[1:]
    return (
        1 <= len(first) <= 3
        and first[0] != "0"
        and all(len(g) == 3 for g in rest)
    )


def _valid_integer(groups: list[str], seps: list[str]) -> bool:
    """True if digit *groups* joined by *seps* spell an integer on their own.

    That is: plain digits, or a correct grouping with a single kind of separator.
    """
    if not seps:
        return bool(groups[0])
    return len(set(seps)) == 1 and all(groups) and _grouped(groups)


def _split_number(s: str) -> str:
    """Return the digits of the amount written in *s*, or raise :class:`AmountError`.

    *s* has already lost its sign and currency, and its spaces are single
    U+0020. The rules, in the order they are applied:

    1. Only ASCII digits, ``.``, ``,`` and spaces may remain, and at least one
       digit — otherwise ``"invalid"`` (``"50k"``, ``"năm mươi"``, ``"1e6"``).
    2. Plain digits (``"50000000"``) are accepted as they are.
    3. A dot or comma followed by exactly three digits groups thousands; so
       does a space. ``"1.500"`` and ``"1,500"`` are both one thousand five
       hundred.
    4. If the *last* separator is a dot or comma and what follows it is not
       three digits (``"1.5"``, ``"12,50"``, ``"50.000,5"``, ``"1.5000"``), or
       the number starts with ``0`` and a dot or comma (``"0.500"``), the text
       reads as a decimal fraction — ``"fraction"``. VND has no minor unit,
       so even ``"50.000,00"`` is refused rather than guessed at.
    5. Anything else with separators must be one well-formed grouping with a
       single kind of separator, otherwise ``"malformed"``. In particular
       mixed separators such as ``"1,000.000"`` or ``"1.000,500"`` are refused:
       in Vietnamese usage the comma is the decimal mark, in English usage the
       dot is, and a fund must not guess which of two amounts a thousandfold
       apart was meant.
    """
    if not _ALLOWED.fullmatch(s) or not _DIGITS.search(s):
        raise AmountError(MSG_INVALID, "invalid")
    parts = re.split(r"([., ])", s)
    groups, seps = parts[0::2], parts[1::2]
    if not seps:
        return groups[0]

    last_sep, last_group = seps[-1], groups[-1]
    if last_sep in ".,":
        head_groups, head_seps = groups[:-1], seps[:-1]
        if last_group and _DIGITS.fullmatch(last_group):
            head_is_number = head_groups == [""] or _valid_integer(head_groups, head_seps)
            different_mark = not head_seps or last_sep not in head_seps
            if head_is_number and different_mark and len(last_group) != 3:
                raise AmountError(MSG_FRACTION, "fraction")
        if groups[0] == "0" and len(seps) == 1 and last_group:
            # "0.500", "0,5": a leading zero only makes sense before a decimal mark.
            raise AmountError(MSG_FRACTION, "fraction")

    if _valid_integer(groups, seps):
        return "".join(groups)
    raise AmountError(MSG_MALFORMED, "malformed")


def _digits_from_text(text: str) -> tuple[str, bool]:
    """Split typed *text* into ``(digits, negative)`` or raise :class:`AmountError`."""
    s = unicodedata.normalize("NFC", text)
    s = _SPACES.sub(" ", s).strip()
    if not s:
        raise AmountError(MSG_EMPTY, "empty")
    # A sign may stand before or after a leading currency mark: "-50.000 ₫",
    # "₫-50.000", "- VND 50.000".
    s, negative = _take_sign(s)
    s = _CURRENCY_PREFIX.sub("", s, count=1)
    s = _CURRENCY_SUFFIX.sub("", s, count=1)
    if not negative:
        s, negative = _take_sign(s)
    s = s.strip()
    if not s:
        # Only a currency sign was typed, e.g. "₫" or "VND".
        raise AmountError(MSG_EMPTY, "empty")
    return _split_number(s), negative


def _check_range(value: int, minimum: int, maximum: int) -> int:
    if value < 0:
        raise AmountError(MSG_NEGATIVE, "negative")
    if value == 0 and minimum > 0:
        raise AmountError(MSG_ZERO, "zero")
    if value < minimum:
        raise AmountError(_msg_below(minimum), "below_minimum")
    if value > maximum:
        raise AmountError(_msg_above(maximum), "above_maximum")
    return value


def parse_vnd(
    text: str | int | None,
    *,
    minimum: int = 1,
    maximum: int = DEFAULT_MAXIMUM,
) -> int:
    """Turn an amount typed by staff or a donor into an ``int`` of đồng.

    Accepted (all give ``50000000``)::

        "50.000.000"   "50000000"   "50,000,000"   "50 000 000"
        "50.000.000 ₫" "50.000.000đ" "50.000.000 VND" "VNĐ 50.000.000"
        "50.000.000 đồng" "50000000 dong" "  50.000.000  "   50000000

    The currency mark may be ``₫``, ``đ``, ``d``, ``VND``, ``VNĐ``, ``đồng`` or
    ``dong``, in any case, before or after the number, with or without a
    space. Spaces used for grouping may be no-break or thin spaces (as pasted
    from Excel or a web page). See :func:`_split_number` for exactly which
    groupings are accepted and why ``"1,000.000"`` and ``"50.000,00"`` are not.

    ``minimum`` and ``maximum`` are inclusive bounds in đồng, with
    ``0 <= minimum <= maximum``. ``minimum=0`` lets zero through.

    Raises :class:`AmountError` (a ``ValueError``) with a Vietnamese message:

    ===================  ==========================================================
    code                 when
    ===================  ==========================================================
    ``empty``            ``None``, ``""``, only spaces, only a currency sign
    ``invalid``          not a number at all (letters, ``"50k"``, ``"1e6"``, ``"+5"``)
    ``negative``         a leading minus (``-``, ``−`` or ``–``), or a negative int
    ``zero``             zero while ``minimum >= 1``
    ``fraction``         a decimal part: ``"1.5"``, ``"12,50"``, ``"50.000,5"``
    ``malformed``        bad or mixed grouping: ``"1,000.000"``, ``"50.00.000"``
    ``below_minimum``    message names the minimum, e.g. "… 10.000 ₫."
    ``above_maximum``    message names the maximum (also for absurdly long input)
    ===================  ==========================================================

    Raises ``TypeError`` if *text* is neither ``str``, ``int`` nor ``None``
    (a ``float`` or ``Decimal`` is a programming error, not user input), and
    ``ValueError`` if the bounds themselves are wrong.
    """
    _require_int(minimum, "minimum")
    _require_int(maximum, "maximum")
    if not 0 <= minimum <= maximum:
        raise ValueError("parse_vnd() needs 0 <= minimum <= maximum")

    if text is None:
        raise AmountError(MSG_EMPTY, "empty")
    if isinstance(text, int) and not isinstance(text, bool):
        return _check_range(text, minimum, maximum)
    if not isinstance(text, str):
        raise TypeError(f"parse_vnd() takes str or int, not {type(text).__name__}")

    digits, negative = _digits_from_text(text)
    significant = digits.lstrip("0")
    if negative and significant:
        raise AmountError(MSG_NEGATIVE, "negative")
    # Refuse absurdly long input before converting it (int() of a huge string
    # is slow, and Python refuses more than 4 300 digits anyway).
    if len(significant) > len(str(maximum)):
        raise AmountError(_msg_above(maximum), "above_maximum")
    return _check_range(int(digits), minimum, maximum)


# ---------------------------------------------------------------------------
# Number words
# ---------------------------------------------------------------------------

_DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_BILLION = 1_000_000_000


def _read_triple(n: int, full: bool) -> str:
    """Read 1 ≤ *n* ≤ 999 in words.

    ``full`` is True for every group after the first one spoken: its hundreds
    are then always read, "không trăm" included, so that 1 000 005 becomes
    "một triệu không trăm linh năm" rather than "một triệu năm".

    Units after a tens digit: 1 is "mốt" from 21 up (11 stays "mười một"),
    4 is "tư" from 24 up (14 stays "mười bốn"), 5 is always "lăm" (15, 25 …).
    A unit after an empty tens place, once hundreds were read, takes "linh":
    105 "một trăm linh năm", 104 "một trăm linh bốn".
    """
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [_DIGIT_WORDS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(_DIGIT_WORDS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else _DIGIT_WORDS[units])
    else:
        words += [_DIGIT_WORDS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, _DIGIT_WORDS[units]))
    return " ".join(words)


def _words(n: int, full: bool) -> str:
    """Read 1 ≤ *n* in words; *full* as in :func:`_read_triple` for the first group."""
    parts: list[str] = []
    billions, rest = divmod(n, _BILLION)
    if billions:
        # Everything above a billion is counted in "tỷ": 1 234 × 10⁹ is
        # "một nghìn hai trăm ba mươi tư tỷ", 10¹⁸ is "một tỷ tỷ".
        parts.append(_words(billions, full) + " tỷ")
        full = True
    for scale, size in (("triệu", 1_000_000), ("nghìn", 1_000), ("", 1)):
        group, rest = divmod(rest, size)
        if group:  # whole empty groups are skipped, never read "không triệu"
            parts.append(_read_triple(group, full) + (f" {scale}" if scale else ""))
            full = True
    return " ".join(parts)


def number_to_words(n: int) -> str:
    """Spell a non-negative integer in Vietnamese, lowercase, as accountants read it.

    Examples::

        0              "không"
        15             "mười lăm"
        21             "hai mươi mốt"
        24             "hai mươi tư"
        105            "một trăm linh năm"
        1 010          "một nghìn không trăm mười"
        1 000 001      "một triệu không trăm linh một"
        2 000 050      "hai triệu không trăm năm mươi"
        1 000 000 000  "một tỷ"
        10¹²           "một nghìn tỷ"

    Conventions (northern usage, as on Hải Phòng receipts): "nghìn" not
    "ngàn", "linh" not "lẻ", "tỷ" not "tỉ", "bảy" not "bẩy". Every group after
    the first one spoken is read with its hundreds ("không trăm …"); a group
    that is entirely zero is skipped.

    Raises ``ValueError`` for a negative number and ``TypeError`` for a
    non-``int`` (including ``bool``).
    """
    _require_int(n, "n")
    if n < 0:
        raise ValueError("number_to_words() is only defined for n >= 0")
    if n == 0:
        return _DIGIT_WORDS[0]
    return _words(n, full=False)


def amount_in_words(amount: int) -> str:
    """The amount as written on a receipt, first letter capitalised.

    ``"… đồng chẵn"`` ("even", i.e. no odd đồng) when the amount is a positive
    whole number of thousands, ``"… đồng"`` otherwise::

        amount_in_words(50_000_000) == "Năm mươi triệu đồng chẵn"
        amount_in_words(1_500)      == "Một nghìn năm trăm đồng"
        amount_in_words(1_234)      == "Một nghìn hai trăm ba mươi tư đồng"
        amount_in_words(0)          == "Không đồng"

    Raises ``ValueError`` for a negative amount (a refund is written as the
    positive amount refunded) and ``TypeError`` for a non-``int``.
    """
    phrase = f"{number_to_words(amount)} đồng"
    if amount > 0 and amount % 1000 == 0:
        phrase += " chẵn"
    return phrase[0].upper() + phrase[1:]

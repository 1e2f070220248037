"""Transfer codes: "QBTE" + 6 characters + 1 check character, e.g. QBTE7K3M9XA.

The alphabet has no look-alikes (no 0/O, 1/I/L, U). The check character is Luhn mod 30,
which catches every single wrong character and almost every swap of neighbours. A code is
found in a memo after upper-casing and removing everything that is not a letter or digit
(banks add prefixes, dots, dashes, spaces, line breaks); a wrong check character is no match.
"""
from __future__ import annotations

import re
import secrets
import unicodedata

PREFIX = "QBTE"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 6
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_FIND = re.compile(f"(?={PREFIX}([{ALPHABET}]{{{BODY_LENGTH + 1}}}))")


def check_char(body: str) -> str:
    n = len(ALPHABET)
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * _INDEX[char]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return PREFIX + body + check_char(body)


def is_valid(code: str) -> bool:
    code = (code or "").upper()
    if len(code) != len(PREFIX) + BODY_LENGTH + 1 or not code.startswith(PREFIX):
        return False
    body, check = code[len(PREFIX):-1], code[-1]
    return all(c in _INDEX for c in body + check) and check_char(body) == check


_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


def squeeze(memo: str) -> str:
    """Upper case, diacritics dropped, only letters and digits left."""
    if (memo or "").isascii():
        return _NOT_ALNUM.sub("", (memo or "").upper())
    text = unicodedata.normalize("NFKD", memo or "").replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in text.upper() if c.isascii() and c.isalnum())


# The prefix as squeeze() would leave it: Q, B, T, E with anything but letters and digits
# between them. An ASCII memo without it holds no code (most memos), and is not squeezed.
_LOOSE_PREFIX = re.compile(r"[^A-Z0-9]*".join(PREFIX), re.IGNORECASE)


def find_codes(memo: str) -> list[str]:
    """Every valid code in a memo (usually one), in order of appearance."""
    if memo and memo.isascii() and not _LOOSE_PREFIX.search(memo):
        return []
    squeezed = squeeze(memo)
    if PREFIX not in squeezed:  # most memos: no scan at all
        return []
    found = []
    for match in _FIND.finditer(squeezed):
        code = PREFIX + match.group(1)
        if is_valid(code) and code not in found:
            found.append(code)
    return found

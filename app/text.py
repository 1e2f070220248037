"""Vietnamese text normalisation for donor search, duplicate detection and sorted lists.

Pure Python (``unicodedata`` and ``re`` only): no Flask, no database.

Public API
----------
``fold(text)``
    Lowercase, no diacritics, single spaces: ``"  Nguyễn  Văn  AN "`` ->
    ``"nguyen van an"``. Use it for search and for comparing names.
``normalize_org_name(name)``
    :func:`fold` plus removal of company legal-form words and punctuation, so
    that the same business typed three ways compares equal.
``vietnamese_sort_key(text)``
    Key for Vietnamese alphabetical order of whole strings.
``vietnamese_person_sort_key(full_name)``
    Key for lists of people: by given name (the last word), then by full name.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "fold",
    "normalize_org_name",
    "vietnamese_person_sort_key",
    "vietnamese_sort_key",
]


# ---------------------------------------------------------------------------
# fold
# ---------------------------------------------------------------------------

# "đ" is a letter of its own, not "d" plus a mark, so decomposition leaves it
# alone. The Icelandic eth "Ð/ð" looks identical and turns up in text converted
# from the old TCVN3/VNI encodings, so it is folded the same way.
_D_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def fold(text: str | None) -> str:
    """Reduce *text* to a lowercase, diacritic-free, single-spaced form for comparing.

    ``fold("  Nguyễn  Văn  AN ") == "nguyen van an"``, ``fold("ĐỖ") == "do"``,
    ``fold(None) == ""``.

    Steps: compatibility decomposition (NFKD — NFD plus turning full-width
    letters, ligatures and no-break spaces into their plain forms), drop the
    combining marks (tones and the ă/â/ê/ô/ơ/ư modifiers) and invisible format
    characters (zero-width space, soft hyphen, byte-order mark — common in
    text pasted from web pages or Excel), map đ/Đ to d, case-fold, collapse
    runs of whitespace to one space and trim.

    The result loses information on purpose ("Hà", "Hạ" and "Ha" all fold to
    "ha"): use it to match and search, never to display or to sort (see
    :func:`vietnamese_sort_key`).
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise TypeError(f"fold() takes str or None, not {type(text).__name__}")
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        c for c in decomposed
        if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    )
    return " ".join(kept.translate(_D_LETTERS).casefold().split())


# ---------------------------------------------------------------------------
# normalize_org_name
# ---------------------------------------------------------------------------

_WORD_BOUNDARY_L = r"(?<!\S)"
_WORD_BOUNDARY_R = r"(?!\S)"

# Patterns run, in order, over the folded name with punctuation already turned
# into spaces; each one must match whole words.
_ORG_FORM_PATTERNS = [
    re.compile(_WORD_BOUNDARY_L + p + _WORD_BOUNDARY_R)
    for p in (
        # "Công ty", "Cty", "C.ty", "Tổng công ty", optionally followed by the
        # form ("Cổ phần"/"CP", "TNHH", "Hợp danh") and "một thành viên"/"MTV".
        # "CP" alone is only a legal form right after "công ty": elsewhere it
        # may be part of a name.
        r"(?:tong cong ty|cong ty|cty|c ty)"
        r"(?: (?:co phan|cp|tnhh|trach nhiem huu han|hop danh))?"
        r"(?: (?:mot thanh vien|mtv|hai thanh vien tro len|2 thanh vien tro len))?",
        # The same forms standing elsewhere in the name.
        r"(?:tnhh|trach nhiem huu han)"
        r"(?: (?:mot thanh vien|mtv|hai thanh vien tro len|2 thanh vien tro len))?",
        r"ctcp",
        # Banks: "Ngân hàng TMCP X" / "Ngân hàng thương mại cổ phần X". Only the
        # legal form goes; "ngan hang" stays because it is what the donor is.
        r"tmcp",
        r"thuong mai co phan",
        r"co phan",
        # Sole proprietorships and cooperatives.
        r"doanh nghiep tu nhan",
        r"dntn",
        r"hop tac xa",
        r"htx",
        # English forms used on invoices and in English trading names.
        r"joint stock company",
        r"company limited",
        r"co ltd",
        r"ltd",
        r"jsc",
        r"llc",
    )
]
# Anything that is neither a letter/digit nor whitespace: . , - & ( ) " ' / …
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalize_org_name(name: str | None) -> str:
    """Reduce an organisation's name to the words that identify it.

    All of these give ``"thep hai phong"``::

        "Công ty TNHH Thép Hải Phòng"
        "Cty TNHH Thép Hải Phòng"
        "CÔNG TY TRÁCH NHIỆM HỮU HẠN THÉP HẢI PHÒNG"
        "Công ty Cổ phần Thép Hải Phòng", "CTCP Thép Hải Phòng", "Cty CP Thép Hải Phòng"
        "Thép Hải Phòng JSC", "Công ty TNHH MTV Thép Hải Phòng"

    Steps: :func:`fold`; every punctuation mark (``. , - & ( ) " '`` …) becomes a
    space; the legal-form words below are removed wherever they stand as
    whole words; whitespace is collapsed.

    Removed: "công ty"/"cty"/"c.ty", "tổng công ty", "cổ phần"/"CP" (CP only
    right after công ty), "CTCP", "TNHH"/"trách nhiệm hữu hạn", "một thành
    viên"/"MTV" (after TNHH), "hợp danh" (after công ty), "doanh nghiệp tư
    nhân"/"DNTN", "hợp tác xã"/"HTX", "TMCP"/"thương mại cổ phần", and the
    English "JSC", "Co., Ltd", "Ltd", "LLC", "Company Limited", "Joint Stock
    Company".

    Decisions a caller should know:

    * "Ngân hàng" is kept — "Ngân hàng TMCP Ngoại thương Việt Nam" gives
      "ngan hang ngoai thuong viet nam".
    * "Tổng công ty" is removed like "công ty", so a corporation and a
      same-named subsidiary compare equal. This is for *suggesting* possible
      duplicates to a person, never for merging them automatically.
    * "Chi nhánh" (branch) is **kept**, and abbreviations such as "CN" are not
      expanded: a branch usually donates, and is commended, in its own name, so
      "Ngân hàng TMCP Công thương Việt Nam - Chi nhánh Hải Phòng" gives
      "ngan hang cong thuong viet nam chi nhanh hai phong", which differs from
      the head office. To group branches with their head office, compare the
      part before "chi nhanh" yourself.
    * If removing legal forms would leave nothing (the name was only "Công ty
      TNHH"), the folded, punctuation-free name is returned instead of ``""``.
    * ``None`` and blank names give ``""``.
    """
    plain = " ".join(_PUNCTUATION.sub(" ", fold(name)).split())
    stripped = plain
    for pattern in _ORG_FORM_PATTERNS:
        stripped = pattern.sub(" ", stripped)
    stripped = " ".join(stripped.split())
    return stripped or plain


# ---------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------

# Vietnamese alphabet order. f, j, w and z are not Vietnamese letters but occur
# in foreign and company names; they take their usual Latin places.
_ALPHABET = (
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k",
    "l", "m", "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w",
    "x", "y", "z",
)
# Ranks: digits 0–9 first, then letters from 100, then anything else (other
# scripts) by code point from 1000.
_LETTER_RANK = {letter: 100 + i for i, letter in enumerate(_ALPHABET)}
_LETTER_RANK.update({str(d): d for d in range(10)})
_OTHER_RANK_BASE = 1000

# The marks that make a new letter (ă â ê ô ơ ư) rather than a tone.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn
# Tone marks in dictionary order: ngang (none) 0, huyền 1, hỏi 2, ngã 3, sắc 4, nặng 5.
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _words_of(text: str) -> list[str]:
    """Split NFC *text* into words: runs of letters/digits (and their marks).

    Spaces and punctuation separate words and otherwise take no part in the order.
    """
    words: list[str] = []
    current: list[str] = []
    for c in text:
        if c.isalnum() or unicodedata.combining(c):
            current.append(c)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _syllable_key(word: str) -> tuple[tuple[int, ...], int]:
    """``(letter ranks, tone rank)`` for one lowercase word (one syllable)."""
    ranks: list[int] = []
    tone = 0
    base = ""
    modifier = ""

    def flush() -> None:
        if base:
            letter = unicodedata.normalize("NFC", base + modifier)
            ranks.append(_LETTER_RANK.get(letter, _OTHER_RANK_BASE + ord(letter[0])))

    for c in unicodedata.normalize("NFD", word):
        if unicodedata.combining(c):
            if c in _LETTER_MARKS:
                modifier = c
            elif c in _TONE_RANK and not tone:
                # A syllable carries one tone; where the mark sits ("hoà" vs
                # "hòa") does not matter.
                tone = _TONE_RANK[c]
            continue
        flush()
        base, modifier = c, ""
    flush()
    return tuple(ranks), tone


def vietnamese_sort_key(text: str | None) -> tuple:
    """Sort key giving Vietnamese alphabetical order for whole strings.

    ``sorted(names, key=vietnamese_sort_key)`` puts "An" < "Anh" < "Ân" <
    "Bình" < "Dũng" < "Đạt" < "Giang"; every word starting with "đ" comes
    after all words starting with "d".

    Order used:

    * Letters in the Vietnamese alphabet order a ă â b c d đ e ê g h i k l m n
      o ô ơ p q r s t u ư v x y (foreign f j w z in their Latin places;
      digits before letters; other scripts last, by code point).
    * Compared **syllable by syllable**, as Vietnamese dictionaries do: the
      first words are compared by their letters, then — only if the letters
      are equal — by tone, in the dictionary order ngang (none), huyền, hỏi,
      ngã, sắc, nặng ("ma" < "mà" < "mả" < "mã" < "má" < "mạ"); only when the
      first words are identical does the second word count. So "Ba Vì" <
      "Bà Rịa" (the first syllable decides) and "Lê An" < "Lê Ân".
    * Case-insensitive; spaces and punctuation only separate words. Where
      the tone mark sits ("Hoà"/"Hòa") does not matter.
    * Strings equal under all of the above ("an" and "An") are finally
      ordered by their NFC text, so the order is total and repeatable.

    ``None`` sorts like ``""`` (first).
    """
    nfc = unicodedata.normalize("NFC", text or "")
    words = _words_of(nfc.casefold())
    return tuple(_syllable_key(w) for w in words), nfc


def vietnamese_person_sort_key(full_name: str | None) -> tuple:
    """Sort key for people: by given name (the last word), then by the full name.

    Vietnamese lists of people (class lists, donor and commendation lists) are
    ordered by given name, and people with the same given name by their full
    name, i.e. family name then middle name::

        "Trần Thị Bình" < "Nguyễn Văn An"      (An < Bình)
        "Lê Văn An"     < "Nguyễn Văn An"      (same given name, Lê < Nguyễn)

    Both parts use :func:`vietnamese_sort_key` ordering. The last word is the
    given name, so titles must not be part of the name ("Nguyễn Văn An (ông)"
    would sort under "ông"). Use this for individuals only; organisations sort
    with :func:`vietnamese_sort_key` on the whole name.
    """
    words = _words_of(unicodedata.normalize("NFC", full_name or ""))
    given = words[-1] if words else ""
    return vietnamese_sort_key(given), vietnamese_sort_key(full_name)

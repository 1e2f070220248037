"""A bank line's reason (`BankLine.state_reason`) in the reader's language.

The reason is a record: the matcher (matching.py), the first look at a line (lines.py) and
the accountant's actions (reconcile.py) store it in Vietnamese, whoever acted and in
whatever language a webhook arrived. To show it in English it is read back here: each
sentence those modules write has a pattern below, made from its Vietnamese text, with the
same sentence in the catalog. Words a person typed (a note, an undo reason) stay as typed.
A reason that does not read (an older wording) is shown as it was stored: `shown` says so,
and the page marks it `lang="vi"`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from app.i18n import _, _l, current, money, vietnamese

#: Why a line is not a donation (the accountant picks one; reconcile.mark_not_donation).
#: Shown in the reader's language; stored on the line in Vietnamese, like every reason.
IGNORE_REASONS = {
    "interest": _l("Lãi tiền gửi"),
    "fee": _l("Phí ngân hàng"),
    "refund": _l("Hoàn trả / chuyển nhầm"),
    "internal": _l("Chuyển khoản nội bộ giữa các tài khoản của Quỹ"),
    "other": _l("Khác"),
}

# What each placeholder of the sentences below may be, as stored.
_GROUPS = {
    "code": r"[A-Z0-9]+", "received": r"[\d.]+\u00a0₫", "pledged": r"[\d.]+\u00a0₫", "account": r"\S+",
    "keyword": r"[^”]+", "confidence": r"\d+", "rest": r".*", "note": r".*", "reason": r".*",
    "row": r"\d+", "printed": r"-?[\d.]+", "computed": r"-?[\d.]+", "closing": r"-?[\d.]+",
    "difference": r"-?[\d.]+",
}
_AMOUNTS = ("received", "pledged")
_PLAIN_AMOUNTS = ("printed", "computed", "closing", "difference")


def _regex(template: str) -> re.Pattern:
    parts = re.split(r"(%\(\w+\)s|%%)", template)
    out = []
    for part in parts:
        name = re.fullmatch(r"%\((\w+)\)s", part)
        if name:
            out.append(f"(?P<{name.group(1)}>{_GROUPS[name.group(1)]})")
        elif part == "%%":
            out.append("%")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out), re.S)


@dataclass(frozen=True)
class _Sentence:
    regex: re.Pattern
    render: Callable[..., str]


def _sentence(template: str, render: Callable[..., str]) -> _Sentence:
    return _Sentence(_regex(template), render)


# The Vietnamese text (as written by matching.py, lines.py, reconcile.py) and its translation.
_SENTENCES = (
    _sentence("Không phải khoản ghi có.", lambda: _("Không phải khoản ghi có.")),
    _sentence("Khớp mã ủng hộ hằng tháng %(code)s.", lambda **k: _("Khớp mã ủng hộ hằng tháng %(code)s.", **k)),
    _sentence("Số tiền nhận %(received)s khác số đăng ký hằng tháng %(pledged)s: ghi nhận theo số tiền thực nhận.",
              lambda **k: _("Số tiền nhận %(received)s khác số đăng ký hằng tháng %(pledged)s: ghi nhận theo số "
                            "tiền thực nhận.", **k)),
    _sentence("Mã %(code)s đã được thanh toán trước đó: có thể là lần chuyển thứ hai.",
              lambda **k: _("Mã %(code)s đã được thanh toán trước đó: có thể là lần chuyển thứ hai.", **k)),
    _sentence("Khớp mã chuyển khoản %(code)s.", lambda **k: _("Khớp mã chuyển khoản %(code)s.", **k)),
    _sentence("Số tiền nhận %(received)s khác số đăng ký %(pledged)s: ghi nhận theo số tiền thực nhận.",
              lambda **k: _("Số tiền nhận %(received)s khác số đăng ký %(pledged)s: ghi nhận theo số tiền thực "
                            "nhận.", **k)),
    _sentence("Mã đã hết hạn nhưng tiền vẫn đến: khôi phục và ghi nhận.",
              lambda: _("Mã đã hết hạn nhưng tiền vẫn đến: khôi phục và ghi nhận.")),
    _sentence("Tài khoản gửi %(account)s đã ủng hộ trước đây",
              lambda **k: _("Tài khoản gửi %(account)s đã ủng hộ trước đây", **k)),
    _sentence("Cùng số tiền và tên người ủng hộ với một đăng ký chuyển khoản (thiếu mã)",
              lambda: _("Cùng số tiền và tên người ủng hộ với một đăng ký chuyển khoản (thiếu mã)")),
    _sentence("Tên nhà hảo tâm có trong nội dung chuyển khoản",
              lambda: _("Tên nhà hảo tâm có trong nội dung chuyển khoản")),
    _sentence("Nội dung nhắc chương trình “%(keyword)s”",
              lambda **k: _("Nội dung nhắc chương trình “%(keyword)s”", **k)),
    _sentence("Không tìm thấy mã chuyển khoản hay nhà hảo tâm phù hợp.",
              lambda: _("Không tìm thấy mã chuyển khoản hay nhà hảo tâm phù hợp.")),
    _sentence("Ghi nợ (tiền ra): không phải khoản ủng hộ.", lambda: _("Ghi nợ (tiền ra): không phải khoản ủng hộ.")),
    _sentence("Số tiền bằng 0: không phải khoản ủng hộ.", lambda: _("Số tiền bằng 0: không phải khoản ủng hộ.")),
    _sentence("Cán bộ khớp thủ công.%(note)s", lambda **k: _("Cán bộ khớp thủ công.") + k["note"]),
    _sentence("Đã hoàn tác: %(reason)s", lambda **k: _("Đã hoàn tác: %(reason)s", **k)),
)
_CONFIRMED = _regex("Cán bộ xác nhận gợi ý (%(confidence)s%%): %(rest)s")
_SEPARATORS = " ;."


@lru_cache(maxsize=1)
def _ignore_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """"Lãi tiền gửi", "Khác: <note>"…: the reasons an accountant picks (IGNORE_REASONS), as stored."""
    found = []
    with vietnamese():
        for key, label in IGNORE_REASONS.items():
            found.append((re.compile(re.escape(str(label)) + r"(?P<note>(?::\s.*)?)$", re.S), key))
    return tuple(found)


def _amounts(groups: dict[str, str]) -> dict[str, str]:
    for name in _AMOUNTS:
        if name in groups:
            groups[name] = money(int(groups[name].split("\u00a0")[0].replace(".", "")))
    for name in _PLAIN_AMOUNTS:
        if name in groups:
            groups[name] = money(int(groups[name].replace(".", "")), symbol=False)
    return groups


# A statement's balance differences as stored (app/adapters/statements/engine.py writes them).
_DIFFERENCES = (
    _sentence("Dòng %(row)s: số dư in %(printed)s khác số dư tính được %(computed)s.",
              lambda **k: _("Dòng %(row)s: số dư in %(printed)s khác số dư tính được %(computed)s.", **k)),
    _sentence("Số dư đầu kỳ + ghi có − ghi nợ = %(computed)s, ngân hàng in số dư cuối kỳ %(closing)s: "
              "chênh %(difference)s.",
              lambda **k: _("Số dư đầu kỳ + ghi có − ghi nợ = %(computed)s, ngân hàng in số dư cuối kỳ %(closing)s: "
                            "chênh %(difference)s.", **k)),
)


def difference(text: str) -> str:
    """A stored balance difference in the reader's language (as stored when it does not read)."""
    if current() != "en":
        return text
    for sentence in _DIFFERENCES:
        match = sentence.regex.fullmatch(text)
        if match:
            return sentence.render(**_amounts(match.groupdict()))
    return text


def translate(text: str) -> str | None:
    """`text` in the reader's language, or None when a part of it does not read."""
    for regex, key in _ignore_patterns():
        match = regex.match(text)
        if match:
            return str(IGNORE_REASONS[key]) + match.group("note")
    match = _CONFIRMED.fullmatch(text) or _CONFIRMED.fullmatch(text + " ")
    if match:
        rest = translate(match.group("rest")) if match.group("rest") else ""
        if rest is None:
            return None
        return _("Cán bộ xác nhận gợi ý (%(confidence)s%%): %(rest)s", confidence=match.group("confidence"), rest=rest)
    out, pos = [], 0
    while pos < len(text):
        if text[pos] in _SEPARATORS:
            out.append(text[pos])
            pos += 1
            continue
        for sentence in _SENTENCES:
            match = sentence.regex.match(text, pos)
            if match:
                out.append(sentence.render(**_amounts(match.groupdict())))
                pos = match.end()
                break
        else:
            return None
    return "".join(out)


@dataclass(frozen=True)
class Shown:
    text: str
    translated: bool  # False: shown as stored (Vietnamese), to be marked lang="vi"


def shown(text: str | None) -> Shown | None:
    """A line's reason for the page being drawn."""
    if not text:
        return None
    if current() != "en":
        return Shown(text, True)
    english = translate(text)
    return Shown(english, True) if english is not None else Shown(text, False)


__all__ = ["IGNORE_REASONS", "Shown", "difference", "shown", "translate"]

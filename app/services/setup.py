"""Reference data every installation needs: programmes, fund settings, wards/communes.

`flask --app wsgi init-data` runs it (idempotent); `seed-demo` and the tests call it too.
All of it is editable afterwards: names, the parent agency and the list of administrative
units change with reforms and must never be constants in code.
"""
from __future__ import annotations

import re
import string

import sqlalchemy as sa
from flask import g, has_request_context

from app.errors import Conflict, NotInitialized, ValidationFailed
from app.extensions import db
from app.i18n import _, _l
from app.models import AdminUnit, FundSettings, Programme

PROGRAMMES = [
    # code, name, is_general
    ("general", "Quỹ chung (không chỉ định)", True),
    ("heart", "Phẫu thuật tim bẩm sinh", False),
    ("cleft", "Phẫu thuật sứt môi, hở hàm ếch", False),
    ("motor", "Phẫu thuật, phục hồi chức năng trẻ khuyết tật vận động", False),
    ("illness", "Hỗ trợ trẻ mắc bệnh hiểm nghèo, điều trị dài ngày", False),
    ("scholarship", "Học bổng", False),
    ("gifts", "Thăm, tặng quà trẻ em có hoàn cảnh đặc biệt", False),
]

ADMIN_UNITS = [
    ("31001", "Phường Hồng Bàng", "phường"),
    ("31002", "Phường Ngô Quyền", "phường"),
    ("31003", "Phường Lê Chân", "phường"),
    ("31004", "Phường Hải An", "phường"),
    ("31005", "Phường Kiến An", "phường"),
    ("31006", "Phường Đồ Sơn", "phường"),
    ("31007", "Phường Thủy Nguyên", "phường"),
    ("31008", "Phường Hải Dương", "phường"),
    ("31009", "Phường Thành Đông", "phường"),
    ("31010", "Xã An Lão", "xã"),
    ("31011", "Xã Tiên Lãng", "xã"),
    ("31012", "Xã Vĩnh Bảo", "xã"),
    ("31013", "Đặc khu Cát Hải", "đặc khu"),
    ("31014", "Đặc khu Bạch Long Vĩ", "đặc khu"),
]

DEFAULT_SETTINGS = dict(
    fund_name="Quỹ Bảo trợ trẻ em thành phố Hải Phòng",
    operator_name="Trung tâm Công tác xã hội và Quỹ Bảo trợ trẻ em Hải Phòng",
    parent_agency="Sở Y tế thành phố Hải Phòng",
    address="Thành phố Hải Phòng (cập nhật địa chỉ trong phần Cài đặt)",
    phone="1800 6605",
    signatory_name="(cập nhật trong phần Cài đặt)",
    signatory_title="Giám đốc",
)


def ensure_reference_data() -> None:
    existing = set(db.session.scalars(sa.select(Programme.code)))
    for order, (code, name, is_general) in enumerate(PROGRAMMES):
        if code not in existing:
            db.session.add(Programme(code=code, name=name, is_general=is_general, sort_order=order))
    units = set(db.session.scalars(sa.select(AdminUnit.code)))
    for code, name, kind in ADMIN_UNITS:
        if code not in units:
            db.session.add(AdminUnit(code=code, name=name, kind=kind))
    if db.session.get(FundSettings, 1) is None:
        db.session.add(FundSettings(id=1, **DEFAULT_SETTINGS))
    from app.services.cases.workflow import ensure_default_categories  # support cases (issue 6)

    ensure_default_categories()
    db.session.commit()


# Settings printed on receipts and frozen commendation lists: they must hold real values,
# not the shipped placeholders, before either is issued.
REQUIRED_SETTINGS = {
    "signatory_name": _l("họ tên người ký"),
    "signatory_title": _l("chức vụ người ký"),
    "address": _l("địa chỉ của Quỹ"),
}
PLACEHOLDER_MARK = "cập nhật"  # every shipped placeholder says "(cập nhật … trong phần Cài đặt)"


class SettingsIncomplete(Conflict):
    """A document would print placeholder settings; the view links to the settings page.

    Raised in a request, its message is remembered on `g`, so a view that flashes it gets a
    link to the settings page (app/blueprints/staff/admin.py marks the flash)."""

    def __init__(self, message: str, **kwargs):
        super().__init__(message, **kwargs)
        if has_request_context():
            g.setdefault("settings_incomplete_messages", set()).add(str(message))


def missing_settings(settings: FundSettings | None = None) -> list[str]:
    """Labels of the required settings that are unset or still the shipped placeholders."""
    if settings is None:
        settings = db.session.get(FundSettings, 1)
    if settings is None:
        return [str(label) for label in REQUIRED_SETTINGS.values()]
    missing = []
    for name, label in REQUIRED_SETTINGS.items():
        value = (getattr(settings, name) or "").strip()
        if not value or PLACEHOLDER_MARK in value.casefold():
            missing.append(str(label))
    return missing


#: The refusals `require_settings` knows, each a whole sentence (translated as one).
REFUSALS = {
    "cấp giấy chứng nhận": _l("Chưa thể cấp giấy chứng nhận: quản trị viên cần cập nhật %(missing)s "
                              "trong phần Cài đặt (hiện còn trống hoặc là nội dung mẫu)."),
    "chốt danh sách khen thưởng": _l("Chưa thể chốt danh sách khen thưởng: quản trị viên cần cập nhật "
                                     "%(missing)s trong phần Cài đặt (hiện còn trống hoặc là nội dung mẫu)."),
}


def require_settings(what: str) -> None:
    """Raise SettingsIncomplete when a required setting is missing; `what` is the refused
    action ("cấp giấy chứng nhận", a key of REFUSALS)."""
    missing = missing_settings()
    if missing:
        sentence = REFUSALS.get(what)
        if sentence is not None:
            message = str(sentence) % {"missing": ", ".join(missing)}
        else:
            message = _("Chưa thể %(what)s: quản trị viên cần cập nhật %(missing)s trong phần Cài đặt "
                        "(hiện còn trống hoặc là nội dung mẫu).", what=what, missing=", ".join(missing))
        raise SettingsIncomplete(message)


def get_settings() -> FundSettings:
    settings = db.session.get(FundSettings, 1)
    if settings is None:
        raise NotInitialized()
    return settings


def general_programme() -> Programme:
    programme = db.session.scalars(sa.select(Programme).where(Programme.is_general)).first()
    if programme is None:
        raise NotInitialized()
    return programme


SETTINGS_FIELDS = (
    "fund_name", "operator_name", "parent_agency", "address", "phone", "email", "bank_name",
    "bank_bin", "bank_account_number", "bank_account_name", "signatory_name",
    "signatory_title", "commendation_threshold", "receipt_number_format",
)


# Receipt-number pattern (fund setting "Mẫu số giấy chứng nhận").
NUMBER_MAX_LENGTH = 60  # receipts.number
_SAFE_LITERAL = re.compile(r"[A-Za-z0-9/_.\- ]*")
_SAFE_SPEC = re.compile(r"(0?[1-9])?d?")  # "", "d", "6d", "06d"
_SAMPLES = [(year, seq) for year in (2024, 2025, 2099) for seq in (1, 2, 9, 10, 99, 100, 12345, 999_999, 1_000_000)]
FORMAT_EXAMPLE = "BTTE-{year}-{seq:06d}"


def check_number_format(pattern: str) -> None:
    """Refuse a receipt-number pattern unless it renders distinct, bounded numbers: only
    {year} and {seq} (each once, no attribute, index or conversion, spec like 06d),
    literal text of letters, digits and - _ / . or spaces. Raises ValidationFailed."""
    def refuse(reason: str):
        raise ValidationFailed(_("Mẫu số không hợp lệ: %(reason)s (ví dụ %(example)s).", reason=reason,
                                 example=FORMAT_EXAMPLE), field="receipt_number_format")

    try:
        parts = list(string.Formatter().parse(pattern or ""))
    except ValueError:
        refuse(_("dấu ngoặc {} không khớp"))
    names = []
    for literal, name, spec, conversion in parts:
        if not _SAFE_LITERAL.fullmatch(literal or ""):
            refuse(_("chỉ dùng chữ, số, dấu - _ / . và khoảng trắng ngoài {year} và {seq}"))
        if name is None:
            continue
        if name not in ("year", "seq") or conversion is not None:
            refuse(_("chỉ được dùng {year} và {seq}"))
        if not _SAFE_SPEC.fullmatch(spec or ""):
            refuse(_("định dạng “%(spec)s” không được phép, chỉ dạng 06d", spec=spec))
        names.append(name)
    if sorted(names) != ["seq", "year"]:
        refuse(_("phải có đúng một {year} và một {seq}"))
    rendered = {pattern.format(year=year, seq=seq) for year, seq in _SAMPLES}
    if len(rendered) != len(_SAMPLES):
        refuse(_("các số sinh ra bị trùng nhau"))
    if max(len(number) for number in rendered) > NUMBER_MAX_LENGTH:
        refuse(_("số sinh ra dài quá %(n)s ký tự", n=NUMBER_MAX_LENGTH))



def update_settings(values: dict, actor) -> FundSettings:
    from app.services import audit

    if "receipt_number_format" in values:
        check_number_format(values["receipt_number_format"])
    settings = get_settings()
    before = audit.snapshot(settings, SETTINGS_FIELDS)
    for name in SETTINGS_FIELDS:
        if name in values:
            value = values[name]
            setattr(settings, name, value.strip() or None if isinstance(value, str) else value)
    after = audit.snapshot(settings, SETTINGS_FIELDS)
    changed = {k for k in SETTINGS_FIELDS if before[k] != after[k]}
    if changed:
        audit.record(actor, "settings.update", settings,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    db.session.commit()
    return settings

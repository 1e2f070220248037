"""Donor records in the back office: contact-detail rules, create and edit, duplicate
suggestions, search and totals. (Merging lives in app/services/donors.py.)"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Donation, Donor, DonorKind, Receipt
from app.services import audit
from app.services.audit import Actor
from app.services.paging import Page, paginate
from app.text import fold, normalize_org_name
from app.timeutil import local_year, year_bounds_utc
from app.i18n import _, _l

_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")
_TAX_CODE = re.compile(r"\d{10}(-\d{3})?")
_PHONE_NOISE = re.compile(r"[\s.\-()/]")

# Lazy: raised as str(MSG_…), in the language being used then.
MSG_PHONE = _l("Số điện thoại không hợp lệ: di động gồm 10 chữ số bắt đầu bằng 03, 05, 07, 08 "
               "hoặc 09; điện thoại cố định gồm 11 chữ số bắt đầu bằng 02.")
MSG_TAX_CODE = _l("Mã số thuế gồm 10 chữ số, hoặc 10 chữ số, dấu gạch ngang và 3 chữ số (chi nhánh).")
MSG_EMAIL = _l("Địa chỉ email không hợp lệ.")
MSG_KIND = _l("Loại nhà hảo tâm phải là cá nhân hoặc tập thể.")
MSG_NAME = _l("Vui lòng nhập tên nhà hảo tâm.")

DONOR_FIELDS = ("kind", "name", "tax_code", "email", "phone", "address", "representative",
                "admin_unit_id", "public_listing_consent", "anonymous", "notes", "language")

KIND_WORDS = {
    "individual": DonorKind.INDIVIDUAL.value, "ca nhan": DonorKind.INDIVIDUAL.value,
    "organization": DonorKind.ORGANIZATION.value, "organisation": DonorKind.ORGANIZATION.value,
    "tap the": DonorKind.ORGANIZATION.value, "to chuc": DonorKind.ORGANIZATION.value,
}


def normalize_kind(raw: str | None) -> str:
    kind = KIND_WORDS.get(fold(raw))
    if kind is None:
        raise ValidationFailed(str(MSG_KIND), field="kind")
    return kind


def normalize_phone(raw: str | int | None) -> str | None:
    """A Vietnamese phone number in its national form, or None when blank.

    "+84 912 345 678", "84912345678", "0912.345.678" all give "0912345678"; a landline
    "(0225) 380 0000" gives "02253800000". A number Excel stored without its leading 0
    ("912345678") gets it back. Anything else raises ValidationFailed (field "phone").
    """
    if raw is None:
        return None
    text = _PHONE_NOISE.sub("", str(raw).strip())
    if not text:
        return None
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("0084"):
        text = "0" + text[4:]
    elif text.startswith("84") and len(text) in (11, 12):
        text = "0" + text[2:]
    elif text.isdecimal() and not text.startswith("0") and len(text) in (9, 10):
        text = "0" + text
    if not (_MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text)):
        raise ValidationFailed(str(MSG_PHONE), field="phone")
    return text


def normalize_tax_code(raw: str | int | None) -> str | None:
    if raw is None:
        return None
    text = re.sub(r"\s", "", str(raw))
    if not text:
        return None
    if not _TAX_CODE.fullmatch(text):
        raise ValidationFailed(str(MSG_TAX_CODE), field="tax_code")
    return text


@lru_cache(maxsize=65536)
def _normalize_email_cached(text: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed(str(MSG_EMAIL), field="email") from None


def normalize_email(raw: str | None) -> str | None:
    text = (raw or "").strip()
    return _normalize_email_cached(text) if text else None


def _text(raw, limit: int, field_name: str, label: str) -> str | None:
    value = (raw or "").strip() if isinstance(raw, str) or raw is None else str(raw).strip()
    if len(value) > limit:
        raise ValidationFailed(_("%(label)s: tối đa %(limit)s ký tự.", label=label, limit=limit), field=field_name)
    return value or None


def clean_donor_fields(values: dict) -> dict:
    """Validate and normalise what a person typed; raise ValidationFailed on the first error."""
    out = {}
    if "kind" in values:
        out["kind"] = normalize_kind(values["kind"])
    if "name" in values:
        name = " ".join((values["name"] or "").split())
        if not name:
            raise ValidationFailed(str(MSG_NAME), field="name")
        if len(name) > 255:
            raise ValidationFailed(_("Tên: tối đa 255 ký tự."), field="name")
        out["name"] = name
    if "tax_code" in values:
        out["tax_code"] = normalize_tax_code(values["tax_code"])
    if "email" in values:
        out["email"] = normalize_email(values["email"])
    if "phone" in values:
        out["phone"] = normalize_phone(values["phone"])
    if "address" in values:
        out["address"] = _text(values["address"], 500, "address", _("Địa chỉ"))
    if "representative" in values:
        out["representative"] = _text(values["representative"], 200, "representative", _("Người đại diện"))
    if "notes" in values:
        out["notes"] = _text(values["notes"], 5000, "notes", _("Ghi chú"))
    if "admin_unit_id" in values:
        out["admin_unit_id"] = values["admin_unit_id"] or None
    for flag in ("public_listing_consent", "anonymous"):
        if flag in values:
            out[flag] = bool(values[flag])
    if "language" in values:
        # English, or None for Vietnamese (the default), whatever else was sent.
        out["language"] = "en" if (values["language"] or "").strip().lower() == "en" else None
    return out


def _check_tax_code_free(kind: str, tax_code: str | None, exclude_id: int | None = None) -> None:
    if kind != DonorKind.ORGANIZATION.value or not tax_code:
        return
    query = sa.select(Donor.id, Donor.name).where(
        Donor.kind == kind, Donor.tax_code == tax_code, Donor.merged_into_id.is_(None))
    if exclude_id is not None:
        query = query.where(Donor.id != exclude_id)
    clash = db.session.execute(query).first()
    if clash is not None:
        raise Conflict(_("Mã số thuế %(tax_code)s đã thuộc về %(name)s (mã hồ sơ %(id)s).",
                         tax_code=tax_code, name=clash.name, id=clash.id),
                       field="tax_code")


def create_donor(actor: Actor, *, commit: bool = True, **values) -> Donor:
    """Create a donor from typed values. With commit=False the row is only flushed, so a
    caller (recording a gift with an inline new donor) can commit both together."""
    clean = clean_donor_fields({"kind": values.get("kind"), "name": values.get("name"), **values})
    _check_tax_code_free(clean["kind"], clean.get("tax_code"))
    donor = Donor(**clean)
    db.session.add(donor)
    db.session.flush()
    audit.record(actor, "donor.create", donor, after=audit.snapshot(donor, DONOR_FIELDS))
    if commit:
        db.session.commit()
    return donor


def get_donor(donor_id: int) -> Donor:
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    return donor


def update_donor(donor_id: int, actor: Actor, **values) -> Donor:
    donor = get_donor(donor_id)
    if donor.merged_into_id is not None:
        raise Conflict(_("Hồ sơ này đã được gộp vào một hồ sơ khác; hãy sửa hồ sơ còn lại."))
    clean = clean_donor_fields(values)
    if "language" in clean and clean["language"] is None and donor.language == "vi":
        del clean["language"]  # "vi" (set by online giving) and None are both Vietnamese
    _check_tax_code_free(clean.get("kind", donor.kind), clean.get("tax_code", donor.tax_code), donor.id)
    before = audit.snapshot(donor, DONOR_FIELDS)
    for name, value in clean.items():
        setattr(donor, name, value)
    after = audit.snapshot(donor, DONOR_FIELDS)
    changed = [k for k in DONOR_FIELDS if before[k] != after[k]]
    if changed:
        audit.record(actor, "donor.update", donor, before={k: before[k] for k in changed},
                     after={k: after[k] for k in changed})
    db.session.commit()
    return donor


# --- duplicates ---------------------------------------------------------------------------

@dataclass
class DuplicateSuggestion:
    donor: Donor
    reasons: list[str] = field(default_factory=list)

    @property
    def strong(self) -> bool:
        """Shares an identifier (MST, email or phone), not just a name."""
        return any(r is not REASON_NAME for r in self.reasons)


# Lazy (shown on the page); compared by identity.
REASON_TAX = _l("Cùng mã số thuế")
REASON_EMAIL = _l("Cùng email")
REASON_PHONE = _l("Cùng số điện thoại")
REASON_NAME = _l("Cùng tên (sau khi bỏ dấu, chữ hoa và loại hình doanh nghiệp)")


def name_key(kind: str, name: str) -> str:
    return normalize_org_name(name) if kind == DonorKind.ORGANIZATION.value else fold(name)


def find_duplicates(*, kind: str, name: str | None, tax_code: str | None = None,
                    email: str | None = None, phone: str | None = None,
                    exclude_id: int | None = None, limit: int = 20) -> list[DuplicateSuggestion]:
    """Live donors that may be the same person or business: same MST, email or phone, or
    the same name once folded (organizations: legal-form words removed too). A suggestion
    for a person to confirm, never a merge."""
    found: dict[int, DuplicateSuggestion] = {}

    def add(donors, reason):
        for donor in donors:
            if donor.id != exclude_id:
                found.setdefault(donor.id, DuplicateSuggestion(donor)).reasons.append(reason)

    live = sa.select(Donor).where(Donor.merged_into_id.is_(None))
    if tax_code:
        add(db.session.scalars(live.where(Donor.tax_code == tax_code).limit(limit)), REASON_TAX)
    if email:
        add(db.session.scalars(live.where(Donor.email == email).limit(limit)), REASON_EMAIL)
    if phone:
        add(db.session.scalars(live.where(Donor.phone == phone).limit(limit)), REASON_PHONE)
    key = name_key(kind, name or "")
    if key:
        if kind == DonorKind.ORGANIZATION.value:
            # Narrow with the longest distinctive word, then compare normalised names.
            word = max(key.split(), key=len)
            candidates = db.session.scalars(
                live.where(Donor.kind == kind, Donor.search_text.like(f"%{escape_like(word)}%", escape="\\"))
                .limit(500))
        else:
            candidates = db.session.scalars(
                live.where(Donor.kind == kind, sa.or_(
                    Donor.search_text == key,
                    Donor.search_text.like(f"{escape_like(key)} %", escape="\\"))).limit(500))
        add([d for d in candidates if name_key(d.kind, d.name) == key], REASON_NAME)
    suggestions = sorted(found.values(), key=lambda s: (not s.strong, s.donor.id))
    return suggestions[:limit]


# --- search and totals ------------------------------------------------------------------------

def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(query: str | None):
    """A WHERE clause matching donors by name, MST, phone or email, without diacritics or
    case, word by word ("nguyen an" finds "Nguyễn Văn An"); a number typed with +84 or
    spaces ("+84 918 12") matches the phone as stored (0918…), also in part. None when the
    query is blank."""
    folded = fold(query)
    if not folded:
        return None
    compact = re.sub(r"[\s.\-()]", "", folded)
    if compact.lstrip("+").isdecimal() and len(compact.lstrip("+")) >= 3:
        digits = compact.lstrip("+")
        forms = {digits}
        if compact.startswith("+84") or compact.startswith("0084"):
            forms = {"0" + digits[2:] if compact.startswith("+") else "0" + digits[4:]}
        elif digits.startswith("84") and len(digits) >= 11:
            forms.add("0" + digits[2:])
        return sa.or_(*[Donor.search_text.contains(f, autoescape=True) for f in forms])
    return sa.and_(*[Donor.search_text.contains(word, autoescape=True) for word in folded.split()])


def year_total_subquery(year: int, label: str):
    start, end = year_bounds_utc(year)
    return (sa.select(Donation.donor_id.label("donor_id"), Donation.net_sum().label(label))
            .where(Donation.counted(), Donation.received_at >= start, Donation.received_at < end)
            .group_by(Donation.donor_id).subquery())


SORTS = {"name": _l("Tên (A–Z)"), "total": _l("Tổng năm (cao → thấp)"), "recent": _l("Mới tạo")}


def search_donors(*, q: str | None = None, kind: str | None = None, year: int,
                  include_merged: bool = False, sort: str = "name", page: int = 1,
                  per_page: int = 25) -> Page:
    """A page of (Donor, total in `year`, total in `year - 1`) rows."""
    this_year = year_total_subquery(year, "total")
    last_year = year_total_subquery(year - 1, "previous")
    total = sa.func.coalesce(this_year.c.total, 0)
    previous = sa.func.coalesce(last_year.c.previous, 0)
    stmt = (sa.select(Donor, total.label("total"), previous.label("previous"))
            .outerjoin(this_year, this_year.c.donor_id == Donor.id)
            .outerjoin(last_year, last_year.c.donor_id == Donor.id))
    condition = search_condition(q)
    if condition is not None:
        stmt = stmt.where(condition)
    if kind in (DonorKind.INDIVIDUAL.value, DonorKind.ORGANIZATION.value):
        stmt = stmt.where(Donor.kind == kind)
    if not include_merged:
        stmt = stmt.where(Donor.merged_into_id.is_(None))
    order = {"total": (total.desc(), Donor.search_text), "recent": (Donor.id.desc(),)}.get(
        sort, (Donor.search_text, Donor.id))
    return paginate(stmt.order_by(*order), page, per_page)


@dataclass
class YearTotal:
    year: int
    net: int
    gifts: int
    crossed: bool


def totals_by_year(donor_id: int, threshold: int) -> list[YearTotal]:
    """Net totals per Vietnam calendar year, newest first, with whether each reached the
    commendation threshold."""
    rows = db.session.execute(
        sa.select(Donation.received_at, Donation.signed_amount, Donation.reverses_id)
        .where(Donation.donor_id == donor_id, Donation.counted())).all()
    nets: dict[int, int] = defaultdict(int)
    gifts: dict[int, int] = defaultdict(int)
    for received_at, signed, reverses_id in rows:
        year = local_year(received_at)
        nets[year] += signed
        if reverses_id is None:
            gifts[year] += 1
    return [YearTotal(y, nets[y], gifts[y], nets[y] >= threshold) for y in sorted(nets, reverse=True)]


def donor_history(donor_id: int, limit: int = 500):
    """(Donation, receipt number or None) newest first."""
    return db.session.execute(
        sa.select(Donation, Receipt.number)
        .outerjoin(Receipt, sa.and_(Receipt.donation_id == Donation.id, Receipt.voided_at.is_(None)))
        .where(Donation.donor_id == donor_id)
        .order_by(Donation.received_at.desc(), Donation.id.desc()).limit(limit)).all()


def donor_receipts(donor_id: int) -> list[Receipt]:
    return db.session.scalars(
        sa.select(Receipt).join(Donation, Receipt.donation_id == Donation.id)
        .where(Donation.donor_id == donor_id).order_by(Receipt.issued_at.desc(), Receipt.id.desc())).all()


def merged_records(donor_id: int) -> list[Donor]:
    return db.session.scalars(sa.select(Donor).where(Donor.merged_into_id == donor_id)).all()


def lookup(q: str, limit: int = 15) -> list[dict]:
    """Live donors for the donor picker (JSON)."""
    condition = search_condition(q)
    if condition is None:
        return []
    donors = db.session.scalars(sa.select(Donor).where(condition, Donor.merged_into_id.is_(None))
                                .order_by(Donor.search_text).limit(limit))
    return [{"id": d.id, "name": d.name, "kind": str(d.kind_label), "tax_code": d.tax_code,
             "phone": d.phone, "email": d.email} for d in donors]

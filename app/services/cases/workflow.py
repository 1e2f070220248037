"""Support cases: the workflow, the case record, consent, and who may see a child.

Privacy rules (Law on Children 2016, PDP Law 91/2025, see docs/cases.md):
- a child's identity (name, birth date, guardian, address, diagnosis, documents) is shown
  only to IDENTITY_ROLES; every view of it is audited ("case.view");
- accountants see case code, programme, state and amounts (FINANCE_ROLES);
- viewers and the public see aggregates; the public also sees anonymised stories with
  initials, only where the consent record allows it.

The workflow is the TRANSITIONS table below; it drives both `transition_case` and the
buttons a page shows (`available_transitions`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from flask_babel import lazy_pgettext as pgettext  # lazy, and extracted as pgettext(context, msgid)

from app.i18n import _, _l, money
from app.models import (
    AdminUnit, CaseDocument, CaseSequence, CaseState, CaseTransition, CircumstanceCategory, Disbursement,
    DisbursementStatus, DocumentKind, Donation, Programme, Role, SupportCase,
)
from app.services import audit, sequences
from app.services.audit import Actor
from app.text import fold
from app.timeutil import local_today, utcnow

IDENTITY_ROLES = frozenset({Role.CASE_WORKER.value, Role.DIRECTOR.value, Role.ADMIN.value})
FINANCE_ROLES = IDENTITY_ROLES | {Role.ACCOUNTANT.value}
CHILD_CONSENT_AGE = 7

DEFAULT_CATEGORIES = [
    ("poor", "Hộ nghèo"),
    ("near_poor", "Hộ cận nghèo"),
    ("orphan", "Trẻ em mồ côi"),
    ("disability", "Trẻ em khuyết tật"),
    ("merit", "Con của người có công với cách mạng"),
    ("protection_centre", "Đang sống tại cơ sở trợ giúp xã hội"),
    ("serious_illness", "Mắc bệnh hiểm nghèo, điều trị dài ngày"),
    ("other", "Hoàn cảnh đặc biệt khác"),
]


def may_see_identity(role: str) -> bool:
    return role in IDENTITY_ROLES


# --------------------------------------------------------------------------- workflow

@dataclass(frozen=True)
class Transition:
    source: CaseState
    target: CaseState
    roles: frozenset[str]
    label: str  # the button (lazy: shown in the reader's language)
    style: str = "primary"
    comment_required: bool = False


_WORKERS = frozenset({Role.CASE_WORKER.value, Role.DIRECTOR.value})
_DIRECTOR = frozenset({Role.DIRECTOR.value})
S = CaseState

# The whole workflow. Admins may do everything (as everywhere in the back office).
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.INTAKE, S.ASSESSMENT, _WORKERS, _l("Bắt đầu thẩm định")),
    Transition(S.ASSESSMENT, S.PROPOSED, _WORKERS, _l("Đề xuất hỗ trợ")),
    Transition(S.INTAKE, S.REJECTED, _DIRECTOR, pgettext("button", "Từ chối"), "outline-danger", True),
    Transition(S.ASSESSMENT, S.REJECTED, _DIRECTOR, pgettext("button", "Từ chối"), "outline-danger", True),
    Transition(S.PROPOSED, S.APPROVED, _DIRECTOR, _l("Phê duyệt"), "success"),
    Transition(S.PROPOSED, S.REJECTED, _DIRECTOR, pgettext("button", "Từ chối"), "outline-danger", True),
    Transition(S.PROPOSED, S.ASSESSMENT, _DIRECTOR, _l("Trả lại để thẩm định thêm"), "outline-secondary", True),
    Transition(S.APPROVED, S.DISBURSING, _DIRECTOR | {Role.ACCOUNTANT.value}, _l("Bắt đầu giải ngân")),
    Transition(S.DISBURSING, S.CLOSED, _WORKERS, _l("Đóng hồ sơ"), "outline-primary"),
    Transition(S.CLOSED, S.REOPENED, _DIRECTOR, _l("Mở lại hồ sơ"), "outline-warning", True),
    Transition(S.REJECTED, S.REOPENED, _DIRECTOR, _l("Mở lại hồ sơ"), "outline-warning", True),
    Transition(S.REOPENED, S.ASSESSMENT, _WORKERS, _l("Thẩm định lại")),
)
_BY_EDGE = {(t.source.value, t.target.value): t for t in TRANSITIONS}
EDITABLE_STATES = (S.INTAKE.value, S.ASSESSMENT.value, S.REOPENED.value)


def _role_may(transition: Transition, role: str) -> bool:
    return role == Role.ADMIN.value or role in transition.roles


def available_transitions(case: SupportCase, role: str) -> list[Transition]:
    """The moves this role may make from the case's state (the buttons on its page)."""
    return [t for t in TRANSITIONS if t.source.value == case.state and _role_may(t, role)]


def _label(state: str) -> str:
    try:
        return CaseState(state).label
    except ValueError:
        return state


def transition_case(case_id: int, target: str, actor: Actor, role: str, *,
                    comment: str | None = None, approved_amount: int | None = None,
                    at: datetime | None = None) -> SupportCase:
    """Move a case along one edge of TRANSITIONS, recording who, when, from, to and why."""
    case = lock_case(case_id)
    apply_transition(case, target, actor, role, comment=comment,
                     approved_amount=approved_amount, at=at)
    db.session.commit()
    return case


def apply_transition(case: SupportCase, target: str, actor: Actor, role: str, *,
                     comment: str | None = None, approved_amount: int | None = None,
                     at: datetime | None = None) -> CaseTransition:
    """`transition_case` inside the caller's transaction (the case row already locked)."""
    comment = (comment or "").strip() or None
    transition = _BY_EDGE.get((case.state, target))
    if transition is None:
        raise Conflict(_("Không thể chuyển hồ sơ từ «%(source)s» sang «%(target)s»: hồ sơ phải đi qua "
                         "đúng từng bước của quy trình.", source=_label(case.state), target=_label(target)),
                       field="target")
    if not _role_may(transition, role):
        allowed = ", ".join(str(Role(r).label) for r in sorted(transition.roles))
        raise PermissionDenied(_("Vai trò %(role)s không được chuyển hồ sơ sang «%(target)s» (chỉ: %(allowed)s).",
                                 role=Role(role).label, target=transition.target.label, allowed=allowed))
    if transition.comment_required and not comment:
        raise ValidationFailed(_("Vui lòng ghi rõ lý do."), field="comment")
    if transition.target is S.PROPOSED:
        if not case.support_requested:
            raise ValidationFailed(_("Cần nhập số tiền đề nghị hỗ trợ trước khi đề xuất."), field="comment")
        gap = _consent_gap(case)
        if gap == "guardian":
            raise ValidationFailed(_("Cần ghi nhận sự đồng ý của người giám hộ trước khi đề xuất."),
                                   field="comment")
        if gap == "child":
            raise ValidationFailed(_("Trẻ từ đủ %(age)s tuổi: cần ghi nhận sự đồng ý của chính trẻ trước khi "
                                     "đề xuất.", age=CHILD_CONSENT_AGE), field="comment")
    if transition.target is S.APPROVED:
        amount = approved_amount if approved_amount is not None else case.support_requested
        if not amount or amount <= 0:
            raise ValidationFailed(_("Vui lòng nhập số tiền phê duyệt."), field="approved_amount")
        if amount > case.support_requested:
            raise ValidationFailed(
                _("Số tiền phê duyệt %(amount)s vượt số tiền đề xuất %(requested)s. Muốn duyệt cao hơn, "
                  "hãy trả hồ sơ về thẩm định để lập đề xuất mới.",
                  amount=money(amount), requested=money(case.support_requested)), field="approved_amount")
        case.support_approved = amount
    if transition.target is S.CLOSED and _pending_disbursements(case.id):
        raise Conflict(_("Còn khoản chi chờ duyệt: hãy duyệt hoặc không duyệt trước khi đóng hồ sơ."))
    record = CaseTransition(case=case, from_state=case.state, to_state=target,
                            actor_id=actor.user_id, actor_label=actor.label, comment=comment,
                            created_at=at or utcnow())
    db.session.add(record)
    audit.record(actor, "case.transition", case, before={"state": case.state},
                 after={"state": target, "comment": comment,
                        "support_approved": case.support_approved})
    case.state = target
    return record


def _pending_disbursements(case_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Disbursement).where(
        Disbursement.case_id == case_id, Disbursement.status == DisbursementStatus.RECORDED.value))


# --------------------------------------------------------------------------- loading

def get_case(case_id: int) -> SupportCase:
    case = db.session.get(SupportCase, case_id)
    if case is None:
        raise NotFound(_("Không tìm thấy hồ sơ."))
    return case


def lock_case(case_id: int) -> SupportCase:
    case = db.session.scalars(
        sa.select(SupportCase).where(SupportCase.id == case_id).with_for_update()
        .execution_options(populate_existing=True)).one_or_none()
    if case is None:
        raise NotFound(_("Không tìm thấy hồ sơ."))
    return case


def view_case(case_id: int, actor: Actor, role: str) -> SupportCase:
    """Load a case for its page and write the view to the audit log (who, when, from where,
    and whether the child's identity was shown)."""
    if role not in FINANCE_ROLES:
        raise PermissionDenied(_("Bạn không có quyền xem hồ sơ này."))
    case = get_case(case_id)
    audit.record(actor, "case.view", case, after={"code": case.code, "identity": may_see_identity(role)})
    db.session.commit()
    return case


def record_list_view(actor: Actor, role: str, count: int) -> None:
    """A case list with names on it is a view of children's records, too."""
    if may_see_identity(role):
        audit.record(actor, "case.list", entity_type="cases", after={"rows": count})
        db.session.commit()


# --------------------------------------------------------------------------- numbering

def next_case_sequence(year: int) -> int:
    """Gapless per-year counter, incremented in the caller's transaction (as receipts)."""
    return sequences.advance(CaseSequence, year)


def format_case_code(year: int, sequence: int) -> str:
    return f"HS-{year}-{sequence:04d}"


# --------------------------------------------------------------------------- the record

CASE_FIELDS = (
    "programme_id", "opened_on", "child_name", "child_birth_date", "child_sex", "admin_unit_id",
    "address", "guardian_name", "guardian_relation", "guardian_phone", "diagnosis", "facility",
    "situation", "estimated_cost", "insurance_covers", "family_covers", "support_requested",
)
_REQUIRED = {"child_name": _l("Vui lòng nhập họ tên trẻ."), "child_birth_date": _l("Vui lòng nhập ngày sinh."),
             "guardian_name": _l("Vui lòng nhập họ tên người giám hộ."),
             "guardian_relation": _l("Vui lòng nhập quan hệ với trẻ."), "child_sex": _l("Vui lòng chọn giới tính.")}


def _clean(values: dict) -> dict:
    data = {}
    for name in CASE_FIELDS:
        if name in values:
            value = values[name]
            data[name] = (value.strip() or None) if isinstance(value, str) else value
    for name, message in _REQUIRED.items():
        if name in data and not data[name]:
            raise ValidationFailed(str(message), field=name)
    if data.get("child_sex") not in (None, "male", "female"):
        raise ValidationFailed(_("Giới tính không hợp lệ."), field="child_sex")
    today = local_today()
    birth = data.get("child_birth_date")
    if birth and birth > today:
        raise ValidationFailed(_("Ngày sinh không được ở tương lai."), field="child_birth_date")
    if birth and (today.year - birth.year) > 18:
        raise ValidationFailed(_("Ngày sinh không hợp lệ: hồ sơ chỉ dành cho trẻ em dưới 18 tuổi."),
                               field="child_birth_date")
    if data.get("opened_on") and data["opened_on"] > today:
        raise ValidationFailed(_("Ngày tiếp nhận không được ở tương lai."), field="opened_on")
    for name in ("insurance_covers", "family_covers"):
        if name in data and data[name] is None:
            data[name] = 0
    for name in ("estimated_cost", "insurance_covers", "family_covers", "support_requested"):
        value = data.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValidationFailed(_("Số tiền phải là số nguyên đồng không âm."), field=name)
    if data.get("support_requested") == 0:
        data["support_requested"] = None
    if "programme_id" in data:
        programme = db.session.get(Programme, data["programme_id"] or 0)
        if programme is None or not programme.is_active:
            raise ValidationFailed(_("Vui lòng chọn chương trình."), field="programme_id")
    if data.get("admin_unit_id") in (0, None):
        data["admin_unit_id"] = None
    elif "admin_unit_id" in data and db.session.get(AdminUnit, data["admin_unit_id"]) is None:
        raise ValidationFailed(_("Phường/xã không hợp lệ."), field="admin_unit_id")
    if data.get("guardian_phone") and not re.fullmatch(r"[0-9 +.()-]{8,20}", data["guardian_phone"]):
        raise ValidationFailed(_("Số điện thoại không hợp lệ."), field="guardian_phone")
    return data


def _set_categories(case: SupportCase, category_ids) -> None:
    ids = [int(i) for i in (category_ids or [])]
    categories = list(db.session.scalars(
        sa.select(CircumstanceCategory).where(CircumstanceCategory.id.in_(ids)))) if ids else []
    if len(categories) != len(set(ids)):
        raise ValidationFailed(_("Hoàn cảnh không hợp lệ."), field="category_ids")
    case.categories = categories


def _check_role(role: str, roles=IDENTITY_ROLES) -> None:
    if role not in roles:
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này với hồ sơ trẻ em."))


def create_case(values: dict, actor: Actor, role: str, *, category_ids=(),
                at: datetime | None = None) -> SupportCase:
    """Open a case at intake, with the next HS-<year>-NNNN code of its intake year."""
    _check_role(role)
    data = _clean({**values})
    data.setdefault("opened_on", None)
    data["opened_on"] = data["opened_on"] or local_today()
    for name in ("programme_id", *(_REQUIRED)):
        if not data.get(name):
            raise ValidationFailed(str(_REQUIRED.get(name) or _("Vui lòng chọn chương trình.")), field=name)
    year = data["opened_on"].year
    sequence = next_case_sequence(year)
    case = SupportCase(code=format_case_code(year, sequence), year=year, sequence=sequence,
                       state=S.INTAKE.value, created_by_id=actor.user_id,
                       created_at=at or utcnow(), **data)
    _set_categories(case, category_ids)
    db.session.add(case)
    db.session.add(CaseTransition(case=case, from_state=None, to_state=S.INTAKE.value,
                                  actor_id=actor.user_id, actor_label=actor.label,
                                  # Stored in Vietnamese, shown translated (SYSTEM_COMMENTS).
                                  comment="Tiếp nhận hồ sơ", created_at=at or utcnow()))
    # Identity values stay out of the audit log: it records which fields, not what they say.
    audit.record(actor, "case.create", case, after={"code": case.code, "programme_id": case.programme_id})
    db.session.commit()
    return case


def update_case(case_id: int, values: dict, actor: Actor, role: str, *, category_ids=None) -> SupportCase:
    _check_role(role)
    case = lock_case(case_id)
    if case.state not in EDITABLE_STATES:
        raise Conflict(_("Hồ sơ đang ở trạng thái «%(state)s»: chỉ sửa được khi tiếp nhận, thẩm định "
                         "hoặc mở lại.", state=case.state_label))
    data = _clean(values)
    if "programme_id" in data and data["programme_id"] != case.programme_id and _designated_count(case.id):
        raise Conflict(_("Hồ sơ đã có khoản ủng hộ chỉ định: không thể đổi chương trình."), field="programme_id")
    if "opened_on" in data and data["opened_on"] is None:
        data.pop("opened_on")
    changed = sorted(name for name, value in data.items() if getattr(case, name) != value)
    for name, value in data.items():
        setattr(case, name, value)
    if category_ids is not None:
        before = {c.id for c in case.categories}
        _set_categories(case, category_ids)
        if before != {c.id for c in case.categories}:
            changed.append("categories")
    if changed:
        audit.record(actor, "case.update", case, after={"changed": changed})
    db.session.commit()
    return case


def _designated_count(case_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Donation).where(Donation.case_id == case_id))


# --------------------------------------------------------------------------- consent

def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def child_consent_needed(case: SupportCase, consent_day: date | None = None) -> bool:
    """The child's own consent is needed when the child is 7 or older at consent time."""
    day = consent_day or case.guardian_consent_on or local_today()
    return age_on(case.child_birth_date, day) >= CHILD_CONSENT_AGE


def may_publish(case: SupportCase, today: date | None = None) -> bool:
    """Publication needs the guardian's consent and, for a child aged 7 or more (at consent
    or today: a child who has turned 7 since is asked too), the child's own."""
    if not case.story_publishable or case.guardian_consent_on is None:
        return False
    if case.child_consent_on is None and (
            child_consent_needed(case) or child_consent_needed(case, today or local_today())):
        return False
    return True


def withdraw_consent(case_id: int, who: str, actor: Actor, role: str) -> SupportCase:
    """The guardian or the child withdraws consent: effective at once, the story comes off
    the public page with it (publishing needs both again, recorded afresh)."""
    _check_role(role)
    if who not in ("guardian", "child"):
        raise ValidationFailed(_("Chọn người rút lại sự đồng ý."), field="who")
    case = lock_case(case_id)
    field = "guardian_consent_on" if who == "guardian" else "child_consent_on"
    if getattr(case, field) is None:
        raise Conflict(_("Không có sự đồng ý nào để rút lại."))
    before = audit.snapshot(case, ("guardian_consent_on", "child_consent_on", "story_publishable"))
    setattr(case, field, None)
    case.story_publishable = False
    audit.record(actor, "case.consent_withdrawn", case, before=before,
                 after={"who": who, **audit.snapshot(case, ("guardian_consent_on", "child_consent_on",
                                                             "story_publishable"))})
    db.session.commit()
    return case


def _consent_gap(case) -> str | None:
    """Whose consent is still missing: "guardian", "child" or None."""
    if case.guardian_consent_on is None:
        return "guardian"
    if child_consent_needed(case) and case.child_consent_on is None:
        return "child"
    return None


def consent_missing(case: SupportCase) -> str | None:
    """What is still missing from the consent record, as a sentence, or None."""
    gap = _consent_gap(case)
    if gap == "guardian":
        return _("Cần ghi nhận sự đồng ý của người giám hộ")
    if gap == "child":
        return _("Trẻ từ đủ %(age)s tuổi: cần ghi nhận sự đồng ý của chính trẻ", age=CHILD_CONSENT_AGE)
    return None


_INITIALS = re.compile(r"^[A-ZĐ](?:\.?\s?[A-ZĐ]){0,4}\.?$")


def _words(text: str) -> str:
    """Folded text with every non-alphanumeric run turned into one space, padded, so a
    word or phrase is found with `f" {phrase} " in ...`."""
    return " " + " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split()) + " "


def _phones_in(text: str) -> set[str]:
    from app.services.donor_profiles import normalize_phone

    found = set()
    for raw in re.findall(r"\+?\d[\d .\-()]{6,}\d", text):
        try:
            phone = normalize_phone(raw)
        except ValidationFailed:
            phone = None
        found.add(phone or re.sub(r"\D", "", raw))
    return found


def _date_forms(day: date) -> set[str]:
    d, m, y = day.day, day.month, day.year
    forms = {f"{d} {m} {y}", f"{d:02d} {m:02d} {y}", f"{y} {m:02d} {d:02d}", f"{y} {m} {d}",
             f"ngay {d} thang {m} nam {y}", f"ngay {d:02d} thang {m:02d} nam {y}"}
    return {f" {f} " for f in forms}


def identity_in_story(case: SupportCase, story: str) -> list[str]:
    """What in `story` identifies the child or guardian: full or given names (case and
    accents folded), the guardian's phone in any writing (+84 / 0, spaces, dots), the
    birth date, the address and the facility. Returns labels in the reader's language, empty
    when clean."""
    words = _words(story)
    found: list[str] = []

    def has(phrase: str | None, minimum: int = 2) -> bool:
        key = _words(phrase or "").strip()
        return len(key) >= minimum and f" {key} " in words

    for whose, name in (("child", case.child_name), ("guardian", case.guardian_name)):
        parts = (name or "").split()
        given = parts[-1] if parts else ""
        if has(name):
            shown = name
        elif len(parts) >= 2 and has(" ".join(parts[-2:])):
            shown = " ".join(parts[-2:])
        elif has(given):
            shown = given
        else:
            continue
        found.append(_("tên của trẻ “%(name)s”", name=shown) if whose == "child"
                     else _("tên người giám hộ “%(name)s”", name=shown))
    if case.guardian_phone:
        from app.services.donor_profiles import normalize_phone

        try:
            phone = normalize_phone(case.guardian_phone)
        except ValidationFailed:
            phone = re.sub(r"\D", "", case.guardian_phone)
        if phone and phone in _phones_in(story):
            found.append(_("số điện thoại người giám hộ"))
    if case.child_birth_date and any(form in words for form in _date_forms(case.child_birth_date)):
        found.append(_("ngày sinh của trẻ"))
    if case.address:
        first = case.address.split(",")[0]
        if has(case.address, 6) or has(first, 6):
            found.append(_("địa chỉ"))
    if case.facility and has(case.facility, 6):
        found.append(_("cơ sở “%(name)s”", name=case.facility))
    return found


def update_consent(case_id: int, actor: Actor, role: str, *, guardian_consent_on: date | None,
                   child_consent_on: date | None, story_publishable: bool,
                   story_initials: str | None, story_text: str | None) -> SupportCase:
    """Record consent and what may be published. Publishing is only ever an anonymised story
    with initials and no photo, and only with the guardian's (and, from 7, the child's) consent."""
    _check_role(role)
    case = lock_case(case_id)
    today = local_today()
    for field, day in (("guardian_consent_on", guardian_consent_on), ("child_consent_on", child_consent_on)):
        if day and day > today:
            raise ValidationFailed(_("Ngày đồng ý không được ở tương lai."), field=field)
        if day and day < case.child_birth_date:
            raise ValidationFailed(_("Ngày đồng ý không được trước ngày sinh của trẻ."), field=field)
    if child_consent_on and not guardian_consent_on:
        raise ValidationFailed(_("Cần ghi ngày người giám hộ đồng ý."), field="guardian_consent_on")
    if guardian_consent_on and child_consent_needed(case, child_consent_on or guardian_consent_on) \
            and not child_consent_on:
        raise ValidationFailed(_("Trẻ đã đủ %(age)s tuổi tại thời điểm đồng ý: cần ghi ngày trẻ đồng ý.",
                                 age=CHILD_CONSENT_AGE), field="child_consent_on")
    initials = (story_initials or "").strip().upper() or None
    story = (story_text or "").strip() or None
    if story_publishable:
        if not guardian_consent_on:
            raise ValidationFailed(_("Chỉ được công bố câu chuyện khi người giám hộ đã đồng ý."),
                                   field="story_publishable")
        if not initials or not _INITIALS.match(initials):
            raise ValidationFailed(_("Tên viết tắt gồm 1–5 chữ cái in hoa, ví dụ N.V.A."), field="story_initials")
        if not story:
            raise ValidationFailed(_("Vui lòng nhập câu chuyện ẩn danh."), field="story_text")
        if child_consent_needed(case, today) and not child_consent_on:
            raise ValidationFailed(_("Trẻ nay đã đủ %(age)s tuổi: cần cả sự đồng ý của chính trẻ trước khi "
                                     "công bố.", age=CHILD_CONSENT_AGE), field="child_consent_on")
        found = identity_in_story(case, story)
        if found:
            raise ValidationFailed(_("Câu chuyện có thông tin nhận diện: %(found)s. Chỉ dùng tên viết tắt và bỏ "
                                     "các thông tin này.", found=", ".join(found)), field="story_text")
    if story and len(story) > 2000:
        raise ValidationFailed(_("Câu chuyện tối đa 2000 ký tự."), field="story_text")
    before = audit.snapshot(case, ("guardian_consent_on", "child_consent_on", "story_publishable"))
    case.guardian_consent_on = guardian_consent_on
    case.child_consent_on = child_consent_on
    case.story_publishable = bool(story_publishable)
    case.story_initials = initials
    case.story_text = story
    audit.record(actor, "case.consent", case, before=before,
                 after=audit.snapshot(case, ("guardian_consent_on", "child_consent_on", "story_publishable")))
    db.session.commit()
    return case


# --------------------------------------------------------------------------- categories

def ensure_default_categories() -> None:
    """Install the default circumstance categories (idempotent; editable afterwards)."""
    existing = set(db.session.scalars(sa.select(CircumstanceCategory.code)))
    for order, (code, name) in enumerate(DEFAULT_CATEGORIES):
        if code not in existing:
            db.session.add(CircumstanceCategory(code=code, name=name, sort_order=order))
    db.session.flush()


def active_categories() -> list[CircumstanceCategory]:
    return list(db.session.scalars(sa.select(CircumstanceCategory).where(CircumstanceCategory.is_active)
                                   .order_by(CircumstanceCategory.sort_order, CircumstanceCategory.id)))


def add_category(name: str, actor: Actor) -> CircumstanceCategory:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Vui lòng nhập tên hoàn cảnh."), field="name")
    code = re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")[:40] or "category"
    if db.session.scalar(sa.select(CircumstanceCategory.id).where(
            sa.or_(CircumstanceCategory.code == code, CircumstanceCategory.name == name))):
        raise Conflict(_("Hoàn cảnh này đã có trong danh sách."), field="name")
    order = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(CircumstanceCategory.sort_order), 0))) + 1
    category = CircumstanceCategory(code=code, name=name, sort_order=order)
    db.session.add(category)
    audit.record(actor, "case_category.create", category, after={"name": name})
    db.session.commit()
    return category


def update_category(category_id: int, actor: Actor, *, name: str | None = None,
                    is_active: bool | None = None) -> CircumstanceCategory:
    category = db.session.get(CircumstanceCategory, category_id)
    if category is None:
        raise NotFound(_("Không tìm thấy hoàn cảnh."))
    before = audit.snapshot(category, ("name", "is_active"))
    if name is not None:
        if not name.strip():
            raise ValidationFailed(_("Vui lòng nhập tên hoàn cảnh."), field="name")
        category.name = name.strip()
    if is_active is not None:
        category.is_active = is_active
    audit.record(actor, "case_category.update", category, before=before,
                 after=audit.snapshot(category, ("name", "is_active")))
    db.session.commit()
    return category


# --------------------------------------------------------------------------- lists

# --------------------------------------------------------------------------- lists

# Cases that need someone's attention (the list's `attention` filter and the dashboards).
ATTENTION = {
    "consent": _l("Thiếu sự đồng ý (người giám hộ, hoặc trẻ từ đủ 7 tuổi)"),
    "documents": _l("Chưa có báo giá / dự toán chi phí"),
    "waiting": _l("Chờ lâu: quá 14 ngày chưa chuyển bước"),
}
WAITING_DAYS = 14
OPEN_STATES = (S.INTAKE.value, S.ASSESSMENT.value, S.PROPOSED.value, S.APPROVED.value,
               S.DISBURSING.value, S.REOPENED.value)
# States in which the next step is a person's (not a payout running its course).
WAITING_STATES = (S.INTAKE.value, S.ASSESSMENT.value, S.PROPOSED.value, S.REOPENED.value)
# From assessment on, a case is costed on a quote or estimate.
QUOTE_STATES = (S.ASSESSMENT.value, S.PROPOSED.value, S.APPROVED.value, S.DISBURSING.value)


def waiting_cutoff() -> datetime:
    return utcnow() - timedelta(days=WAITING_DAYS)


def last_moved_at():
    """When the case last changed state (its creation when it never did), as a column."""
    latest = (sa.select(sa.func.max(CaseTransition.created_at))
              .where(CaseTransition.case_id == SupportCase.id).scalar_subquery())
    return sa.func.coalesce(latest, SupportCase.created_at)


def attention_condition(kind: str):
    """The filter of one ATTENTION kind, as a WHERE clause."""
    if kind == "consent":
        # The consent rule is consent_missing(), applied to the open cases lacking a date
        # (rows of just the columns it reads: no identity loaded).
        candidates = db.session.execute(sa.select(
            SupportCase.id, SupportCase.child_birth_date, SupportCase.guardian_consent_on,
            SupportCase.child_consent_on).where(
            SupportCase.state.in_(OPEN_STATES),
            sa.or_(SupportCase.guardian_consent_on.is_(None), SupportCase.child_consent_on.is_(None))))
        return SupportCase.id.in_([c.id for c in candidates if _consent_gap(c)])
    if kind == "documents":
        quote = sa.exists().where(CaseDocument.case_id == SupportCase.id,
                                  CaseDocument.kind == DocumentKind.QUOTE.value)
        return sa.and_(SupportCase.state.in_(QUOTE_STATES), ~quote)
    if kind == "waiting":
        cutoff = waiting_cutoff()
        moved = sa.exists().where(CaseTransition.case_id == SupportCase.id, CaseTransition.created_at >= cutoff)
        return sa.and_(SupportCase.state.in_(WAITING_STATES), SupportCase.created_at < cutoff, ~moved)
    raise ValidationFailed(_("Bộ lọc hồ sơ không hợp lệ."), field="attention")


def case_conditions(*, state: str | None = None, programme_id: int | None = None, code: str | None = None,
                    created_by_id: int | None = None, attention: str | None = None) -> list:
    where = []
    if state:
        where.append(SupportCase.state == state)
    if programme_id:
        where.append(SupportCase.programme_id == programme_id)
    if code:
        where.append(SupportCase.code.ilike(f"%{code.strip()}%"))
    if created_by_id:
        where.append(SupportCase.created_by_id == created_by_id)
    if attention:
        where.append(attention_condition(attention))
    return where


def list_cases(*, limit: int = 200, **filters) -> list[SupportCase]:
    """Cases matching `case_conditions(**filters)`, newest first."""
    query = (sa.select(SupportCase).where(*case_conditions(**filters))
             .order_by(SupportCase.year.desc(), SupportCase.sequence.desc()))
    return list(db.session.scalars(query.limit(limit)))


def count_cases(**filters) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(SupportCase)
                                 .where(*case_conditions(**filters))))


def state_counts(*, created_by_id: int | None = None) -> dict[str, int]:
    """state → number of cases (of one case worker when given)."""
    query = sa.select(SupportCase.state, sa.func.count()).group_by(SupportCase.state)
    if created_by_id:
        query = query.where(SupportCase.created_by_id == created_by_id)
    return dict(db.session.execute(query).all())


def case_state_counts() -> dict[tuple[int, str], int]:
    """(programme_id, state) → number of cases: the aggregate every role may see."""
    rows = db.session.execute(sa.select(SupportCase.programme_id, SupportCase.state, sa.func.count())
                              .group_by(SupportCase.programme_id, SupportCase.state))
    return {(p, s): n for p, s, n in rows}


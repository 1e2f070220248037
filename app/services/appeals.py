"""Appeals (đợt vận động): create, edit, open, close, and what each has raised (net)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Appeal, AppealStatus, Donation
from app.services import audit
from app.services.audit import Actor
from app.text import fold
from app.i18n import _

APPEAL_FIELDS = ("slug", "title", "summary", "story", "goal_amount", "starts_on", "ends_on",
                 "status", "is_public", "programme_id")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:120]


def _clean(values: dict, current: Appeal | None = None) -> dict:
    out = dict(values)
    title = " ".join((out.get("title") or "").split())
    if not title:
        raise ValidationFailed(_("Vui lòng nhập tên chiến dịch."), field="title")
    out["title"] = title
    slug = (out.get("slug") or "").strip().lower() or slugify(title)
    if not _SLUG.fullmatch(slug):
        raise ValidationFailed(_("Đường dẫn chỉ gồm chữ thường không dấu, số và dấu gạch ngang."), field="slug")
    out["slug"] = slug
    clash = db.session.scalar(sa.select(Appeal.id).where(Appeal.slug == slug))
    if clash is not None and (current is None or clash != current.id):
        raise Conflict(_("Đường dẫn này đã được dùng cho chiến dịch khác."), field="slug")
    goal = out.get("goal_amount")
    if goal is not None and goal <= 0:
        raise ValidationFailed(_("Mục tiêu phải lớn hơn 0."), field="goal_amount")
    starts, ends = out.get("starts_on"), out.get("ends_on")
    if starts and ends and ends < starts:
        raise ValidationFailed(_("Ngày kết thúc phải sau ngày bắt đầu."), field="ends_on")
    for name in ("summary", "story"):
        if name in out:
            out[name] = (out[name] or "").strip() or None
    out["is_public"] = bool(out.get("is_public"))
    if out.get("programme_id") is not None:
        from app.models import Programme

        programme = db.session.get(Programme, out["programme_id"])
        if programme is None:
            raise ValidationFailed(_("Không tìm thấy chương trình."), field="programme_id")
        if programme.is_general:
            out["programme_id"] = None
    if current is not None and "programme_id" in out and out["programme_id"] != current.programme_id \
            and db.session.scalar(sa.select(Donation.id).where(Donation.appeal_id == current.id).limit(1)):
        raise Conflict(_("Chiến dịch đã có khoản ủng hộ: không đổi chương trình được (các khoản đã ghi "
                         "thuộc chương trình cũ). Hãy tạo chiến dịch mới."), field="programme_id")
    return {k: v for k, v in out.items() if k in APPEAL_FIELDS}


def get_appeal(appeal_id: int) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(_("Không tìm thấy chiến dịch."))
    return appeal


def create_appeal(actor: Actor, **values) -> Appeal:
    clean = _clean(values)
    clean.setdefault("status", AppealStatus.DRAFT.value)
    appeal = Appeal(**clean)
    db.session.add(appeal)
    audit.record(actor, "appeal.create", appeal, after=audit.snapshot(appeal, APPEAL_FIELDS))
    db.session.commit()
    return appeal


def update_appeal(appeal_id: int, actor: Actor, **values) -> Appeal:
    appeal = get_appeal(appeal_id)
    clean = _clean(values, appeal)
    clean.pop("status", None)
    before = audit.snapshot(appeal, APPEAL_FIELDS)
    for name, value in clean.items():
        setattr(appeal, name, value)
    after = audit.snapshot(appeal, APPEAL_FIELDS)
    changed = [k for k in APPEAL_FIELDS if before[k] != after[k]]
    if changed:
        audit.record(actor, "appeal.update", appeal, before={k: before[k] for k in changed},
                     after={k: after[k] for k in changed})
    db.session.commit()
    return appeal


def set_status(appeal_id: int, status: str, actor: Actor) -> Appeal:
    appeal = get_appeal(appeal_id)
    if status not in (AppealStatus.OPEN.value, AppealStatus.CLOSED.value):
        raise ValidationFailed(_("Trạng thái không hợp lệ."))
    if appeal.status == status:
        raise Conflict(_("Chiến dịch đã ở trạng thái này."))
    before = appeal.status
    appeal.status = status
    audit.record(actor, "appeal.open" if status == AppealStatus.OPEN.value else "appeal.close",
                 appeal, before={"status": before}, after={"status": status})
    db.session.commit()
    return appeal


@dataclass
class AppealProgress:
    raised: int = 0
    donors: int = 0
    goal: int | None = None

    @property
    def percent(self) -> int | None:
        if not self.goal:
            return None
        return max(0, self.raised * 100 // self.goal)


def progress_for(appeals: list[Appeal]) -> dict[int, AppealProgress]:
    """Net raised and number of donors (net gift > 0) per appeal, in two grouped queries."""
    ids = [a.id for a in appeals]
    result = {a.id: AppealProgress(goal=a.goal_amount) for a in appeals}
    if not ids:
        return result
    per_donor = (sa.select(Donation.appeal_id, Donation.donor_id, Donation.net_sum().label("net"))
                 .where(Donation.counted(), Donation.appeal_id.in_(ids))
                 .group_by(Donation.appeal_id, Donation.donor_id).subquery())
    rows = db.session.execute(
        sa.select(per_donor.c.appeal_id,
                  sa.cast(sa.func.sum(per_donor.c.net), sa.BigInteger),
                  sa.func.count().filter(per_donor.c.net > 0))
        .group_by(per_donor.c.appeal_id)).all()
    for appeal_id, raised, donors in rows:
        result[appeal_id].raised = int(raised or 0)
        result[appeal_id].donors = int(donors or 0)
    return result


def list_appeals() -> list[Appeal]:
    order = sa.case({AppealStatus.OPEN.value: 0, AppealStatus.DRAFT.value: 1}, value=Appeal.status, else_=2)
    return db.session.scalars(sa.select(Appeal).order_by(order, Appeal.starts_on.desc(), Appeal.id.desc())).all()


def today_in_range(appeal: Appeal, today: date) -> bool:
    return (appeal.starts_on is None or appeal.starts_on <= today) and (appeal.ends_on is None or today <= appeal.ends_on)

"""What the public site shows: open appeals, their net progress and the donors who agreed
to be listed. Read-only; every total goes through Donation.counted()/net_sum()."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from flask_babel import pgettext

from app.i18n import _
from app.models import Appeal, AppealStatus, Donation, Donor

# The 2024 Action Month plan (Kế hoạch Tháng hành động vì trẻ em 2024 of the City People's
# Committee): its theme and, verbatim, the twelve slogans of its appendix ("Phụ lục: KHẨU
# HIỆU TUYÊN TRUYỀN"). Slogan 8 keeps the source's space before the full stop. Shown in
# the reader's language (an English rendering of each) through `theme()` and `slogans()`.


def N_(text: str) -> str:
    """Marks a msgid for the catalog; the text itself stays the Vietnamese source."""
    return text


CAMPAIGN_THEME = N_("Hành động thiết thực, ưu tiên nguồn lực cho trẻ em")
CAMPAIGN_SLOGANS = (
    N_("Hành động thiết thực, ưu tiên nguồn lực cho trẻ em."),
    N_("Ưu tiên nguồn lực cho trẻ em để đáp ứng yêu cầu phát triển đất nước phồn vinh, hạnh phúc."),
    N_("Bảo đảm vai trò chủ đạo của ngân sách nhà nước để thực hiện chính sách đối với trẻ em."),
    N_("Bảo đảm quyền trẻ em phải là trung tâm của chính sách, chiến lược phát triển đất nước."),
    N_("Toàn dân chăm sóc, giáo dục và bảo vệ trẻ em."),
    N_("Tăng cường chăm sóc, giáo dục và bảo vệ trẻ em vì sự phát triển đất nước phồn vinh, hạnh phúc."),
    N_("Tổng đài 111 - tiếp nhận thông tin mọi lúc, bảo vệ trẻ em mọi nơi."),
    N_("Phòng ngừa và chấm dứt lao động trẻ em vì sự phát triển bền vững ."),
    N_("Chăm sóc sức khỏe tâm thần để trẻ em phát triển toàn diện."),
    N_("Phòng, chống tai nạn, thương tích để bảo đảm quyền được sống của trẻ em."),
    N_("Gia đình, cộng đồng giám sát, trông giữ trẻ em để phòng, chống đuối nước."),
    N_("Lắng nghe trẻ em để chăm sóc, giáo dục và bảo vệ trẻ em."),
)


def theme() -> str:
    return _(CAMPAIGN_THEME)


def slogans() -> list[str]:
    return [_(slogan) for slogan in CAMPAIGN_SLOGANS]


@dataclass(frozen=True)
class AppealProgress:
    appeal: Appeal
    raised: int  # net of reversals
    donors: int

    @property
    def percent(self) -> int:
        """Progress towards the goal, 0–100, in whole percent (integer arithmetic)."""
        goal = self.appeal.goal_amount
        if not goal or self.raised <= 0:
            return 0
        return min(100, self.raised * 100 // goal)


@dataclass(frozen=True)
class ListedGift:
    name: str
    amount: int
    received_at: datetime


def public_appeals() -> list[Appeal]:
    return list(db.session.scalars(
        sa.select(Appeal).where(Appeal.is_public, Appeal.status == AppealStatus.OPEN.value)
        .order_by(Appeal.ends_on.is_(None), Appeal.ends_on, Appeal.id)))


def public_appeal(slug: str) -> Appeal | None:
    """A public appeal (open or closed: results stay published), never a draft."""
    return db.session.scalars(sa.select(Appeal).where(
        Appeal.slug == slug, Appeal.is_public, Appeal.status != AppealStatus.DRAFT.value)).first()


def progress(appeals: list[Appeal]) -> list[AppealProgress]:
    if not appeals:
        return []
    ids = [a.id for a in appeals]
    raised = dict(db.session.execute(
        sa.select(Donation.appeal_id, Donation.net_sum())
        .where(Donation.counted(), Donation.appeal_id.in_(ids)).group_by(Donation.appeal_id)).all())
    donors = dict(db.session.execute(
        sa.select(Donation.appeal_id, sa.func.count(sa.distinct(Donation.donor_id)))
        .where(Donation.counted(), Donation.reverses_id.is_(None), Donation.appeal_id.in_(ids))
        .group_by(Donation.appeal_id)).all())
    return [AppealProgress(a, int(raised.get(a.id, 0)), int(donors.get(a.id, 0))) for a in appeals]


def listed_gifts(appeal_id: int, limit: int = 20) -> list[ListedGift]:
    """Recent gifts to an appeal whose donors agreed to be listed; anonymous donors appear
    as "Nhà hảo tâm". Fully reversed (refunded) gifts are left out."""
    rows = db.session.scalars(
        sa.select(Donation).join(Donor, Donor.id == Donation.donor_id)
        .where(Donation.appeal_id == appeal_id, Donation.status == "confirmed",
               Donation.reverses_id.is_(None), Donor.public_listing_consent,
               Donation.public_listing.is_not(False), Donation.donor_check.is_(None))
        .order_by(Donation.received_at.desc(), Donation.id.desc()).limit(limit)).all()
    return [ListedGift(pgettext("one donor", "Nhà hảo tâm") if d.is_anonymous else d.donor.name, d.amount, d.received_at)
            for d in rows]

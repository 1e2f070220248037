"""Public, anonymised results of the support programmes (Decree 93/2021: results of a call
are published; Law on Children: a child's identity never is)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import CaseState, Disbursement, Donation, Programme, SupportCase
from app.services.cases.workflow import identity_in_story, may_publish
from app.timeutil import local_today


@dataclass(frozen=True)
class ProgrammeResult:
    name: str
    code: str
    received: int
    spent: int
    children: int  # cases with money actually paid out (net > 0)


def programme_results() -> list[ProgrammeResult]:
    received = dict(db.session.execute(sa.select(Donation.programme_id, Donation.net_sum())
                                       .where(Donation.counted()).group_by(Donation.programme_id)).all())
    spent = dict(db.session.execute(sa.select(Disbursement.programme_id, Disbursement.net_sum())
                                    .where(Disbursement.counted()).group_by(Disbursement.programme_id)).all())
    per_case = (sa.select(SupportCase.programme_id.label("programme_id"), Disbursement.case_id)
                .join(SupportCase, SupportCase.id == Disbursement.case_id)
                .where(Disbursement.counted())
                .group_by(SupportCase.programme_id, Disbursement.case_id)
                .having(Disbursement.net_sum() > 0).subquery())
    children = dict(db.session.execute(sa.select(per_case.c.programme_id, sa.func.count())
                                       .group_by(per_case.c.programme_id)).all())
    programmes = db.session.scalars(sa.select(Programme).where(Programme.is_active)
                                    .order_by(Programme.sort_order, Programme.id))
    return [ProgrammeResult(p.name, p.code, int(received.get(p.id, 0)), int(spent.get(p.id, 0)),
                            int(children.get(p.id, 0))) for p in programmes]


@dataclass(frozen=True)
class PublicStory:
    initials: str
    programme: str
    text: str


def public_stories(limit: int = 20) -> list[PublicStory]:
    """Stories whose consent record allows it: guardian consent, the child's own from age 7,
    publishing opted in; only for cases the fund actually took on."""
    rows = db.session.scalars(
        sa.select(SupportCase).where(
            SupportCase.story_publishable.is_(True), SupportCase.guardian_consent_on.is_not(None),
            SupportCase.story_initials.is_not(None), SupportCase.story_text.is_not(None),
            SupportCase.state.in_((CaseState.APPROVED.value, CaseState.DISBURSING.value,
                                   CaseState.CLOSED.value)))
        .order_by(SupportCase.id.desc()).limit(limit * 2))
    stories, today = [], local_today()
    for case in rows:
        if not may_publish(case, today):  # guardian and, from 7, the child: both
            continue
        if identity_in_story(case, case.story_text):  # identity edited since: never publish
            continue
        stories.append(PublicStory(case.story_initials, case.programme.name, case.story_text))
    return stories[:limit]

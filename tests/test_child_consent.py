"""Children's consent (issue 16): from 7 the guardian's and the child's consent are
recorded separately; publication needs both; withdrawing either unpublishes at once."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.errors import ValidationFailed
from app.extensions import db
from app.models import AuditEntry, Role, SupportCase
from app.services.cases import workflow as cases
from app.timeutil import local_today
from tests.case_helpers import make_case, staff

STORY = "Sau ca mổ, bé đã đi học lại."


def nine_year_old():
    today = local_today()
    return make_case("closed", birth=date(today.year - 9, 1, 15), child_name="Phạm Minh Khôi")


def publish(case, *, guardian=True, child=True):
    worker, role = staff(Role.CASE_WORKER)
    day = local_today() - timedelta(days=3)
    cases.update_consent(case.id, worker, role, guardian_consent_on=day if guardian else None,
                         child_consent_on=day if child else None, story_publishable=True,
                         story_initials="P.M.K.", story_text=STORY)


def public_page(client) -> str:
    return client.get("/ket-qua-ho-tro").get_data(as_text=True)


def test_publication_needs_both_from_seven(client):
    case = nine_year_old()
    with pytest.raises(ValidationFailed, match="đồng ý"):
        publish(case, child=False)
    db.session.rollback()
    assert STORY not in public_page(client)
    publish(case)
    assert STORY in public_page(client)


def test_a_child_who_turned_seven_since_is_asked_too(client):
    case = nine_year_old()
    # Guardian consented when the child was 5, the story was published then.
    case.guardian_consent_on = case.child_birth_date.replace(year=case.child_birth_date.year + 5)
    case.story_publishable, case.story_initials, case.story_text = True, "P.M.K.", STORY
    db.session.commit()
    assert STORY not in public_page(client)  # now 9: the child's own consent is missing


@pytest.mark.parametrize("who", ["guardian", "child"])
def test_withdrawal_by_either_unpublishes_at_once(client, login_as, who):
    case = nine_year_old()
    publish(case)
    assert STORY in public_page(client)
    login_as(Role.CASE_WORKER)
    response = client.post(f"/staff/cases/{case.id}/consent/withdraw", data={"who": who})
    assert response.status_code == 302
    assert STORY not in public_page(client)
    db.session.expire_all()
    case = db.session.get(SupportCase, case.id)
    assert case.story_publishable is False
    assert (case.guardian_consent_on is None) == (who == "guardian")
    assert (case.child_consent_on is None) == (who == "child")
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "case.consent_withdrawn")).one()
    assert entry.after["who"] == who


def test_accountants_cannot_withdraw_consent(client, login_as):
    case = nine_year_old()
    login_as(Role.ACCOUNTANT)
    assert client.post(f"/staff/cases/{case.id}/consent/withdraw", data={"who": "guardian"}).status_code == 403

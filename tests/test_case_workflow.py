"""Every workflow edge by every role, illegal and skipping moves, guards, and the HTTP path."""
import itertools
from datetime import date

import pytest
import sqlalchemy as sa

from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import AuditEntry, CaseState, CaseTransition, Role
from app.services.cases import workflow as cases
from tests.case_helpers import make_case, staff

EDGES = [(t.source.value, t.target.value, t) for t in cases.TRANSITIONS]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("source,target,transition", EDGES, ids=[f"{s}->{t}" for s, t, _ in EDGES])
def test_each_transition_by_each_role(source, target, transition, role):
    case = make_case(source)
    actor, role_value = staff(role)
    allowed = role is Role.ADMIN or role.value in transition.roles
    call = lambda: cases.transition_case(case.id, target, actor, role_value, comment="Lý do ghi rõ",  # noqa: E731
                                         approved_amount=40_000_000)
    if allowed:
        call()
        db.session.expire_all()
        case = db.session.get(type(case), case.id)
        assert case.state == target
        last = case.transitions[-1]
        assert (last.from_state, last.to_state, last.actor_id, last.comment) == (source, target, actor.user_id, "Lý do ghi rõ")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "case.transition")) == 1
    else:
        with pytest.raises(PermissionDenied, match="không được chuyển hồ sơ"):
            call()
        db.session.rollback()
        assert db.session.get(type(case), case.id).state == source


ILLEGAL = [(s.value, t.value) for s, t in itertools.product(CaseState, CaseState)
           if s != t and (s.value, t.value) not in {(a, b) for a, b, _ in EDGES}]


@pytest.mark.parametrize("source,target", ILLEGAL)
def test_skipping_or_illegal_moves_are_refused_for_everyone(source, target):
    case = make_case(source)
    actor, role = staff(Role.ADMIN)
    with pytest.raises(Conflict, match="phải đi qua đúng từng bước"):
        cases.transition_case(case.id, target, actor, role, comment="x")
    db.session.rollback()
    assert db.session.get(type(case), case.id).state == source


def test_the_table_has_the_issue_workflow():
    edges = {(a, b) for a, b, _ in EDGES}
    main_line = ["intake", "assessment", "proposed", "approved", "disbursing", "closed"]
    assert set(zip(main_line, main_line[1:])) <= edges
    assert ("proposed", "rejected") in edges and ("closed", "reopened") in edges
    approvals = [t for t in cases.TRANSITIONS if t.target.value in ("approved", "rejected")]
    assert all(t.roles == {"director"} for t in approvals)
    assert len(ILLEGAL) > 40


def test_proposal_needs_amount_and_consent_including_the_childs_from_seven():
    worker, role = staff(Role.CASE_WORKER)
    no_consent = make_case("assessment", consent=False)
    with pytest.raises(ValidationFailed, match="người giám hộ"):
        cases.transition_case(no_consent.id, "proposed", worker, role)
    db.session.rollback()
    older = make_case("assessment", birth=date(2015, 1, 10))  # 7+ at the guardian's consent
    older.guardian_consent_on = date(2024, 3, 1)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="đồng ý của chính trẻ"):
        cases.transition_case(older.id, "proposed", worker, role)
    db.session.rollback()


def test_rejection_needs_a_reason():
    director, role = staff(Role.DIRECTOR)
    case = make_case("proposed")
    with pytest.raises(ValidationFailed, match="lý do"):
        cases.transition_case(case.id, "rejected", director, role, comment="  ")


def test_case_codes_are_gapless_per_year():
    codes = [make_case().code for _ in range(3)]
    year = date.today().year
    assert codes == [f"HS-{year}-0001", f"HS-{year}-0002", f"HS-{year}-0003"]


def test_buttons_come_from_the_same_table(client, login_as):
    case = make_case("proposed")
    login_as(Role.CASE_WORKER)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Phê duyệt" not in page and 'data-testid="transition-approved"' not in page
    response = client.post(f"/staff/cases/{case.id}/transition", data={"target": "approved", "approved_amount": "1.000.000"})
    assert response.status_code == 403
    assert "không được chuyển hồ sơ" in response.get_data(as_text=True)


def test_director_approves_over_http_with_amount(client, login_as):
    case = make_case("proposed")
    login_as(Role.DIRECTOR)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="transition-approved"' in page
    skip = client.post(f"/staff/cases/{case.id}/transition", data={"target": "closed"})
    assert skip.status_code == 409 and "đúng từng bước" in skip.get_data(as_text=True)
    response = client.post(f"/staff/cases/{case.id}/transition",
                           data={"target": "approved", "approved_amount": "45.000.000", "comment": "Đồng ý"})
    assert response.status_code == 302
    db.session.expire_all()
    case = db.session.get(type(case), case.id)
    assert case.state == "approved" and case.support_approved == 45_000_000
    assert db.session.scalar(sa.select(CaseTransition.comment).order_by(CaseTransition.id.desc()).limit(1)) == "Đồng ý"


def test_case_worker_creates_a_case_over_http(client, login_as):
    login_as(Role.CASE_WORKER)
    from tests import factories
    form = {"programme_id": factories.programme("heart").id, "child_name": "Đỗ Thị Hoa", "child_birth_date": "2020-02-03",
            "child_sex": "female", "guardian_name": "Đỗ Văn Hùng", "guardian_relation": "Bố",
            "support_requested": "30.000.000", "insurance_covers": "", "admin_unit_id": "0"}
    response = client.post("/staff/cases/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    bad = client.post("/staff/cases/new", data={**form, "child_birth_date": "31/02/2020"})
    assert bad.status_code == 400 and "Ngày không hợp lệ" in bad.get_data(as_text=True)


def test_director_edits_the_circumstance_list(client, login_as):
    from app.models import CircumstanceCategory
    login_as(Role.DIRECTOR)
    assert client.post("/staff/case-categories", data={"name": "Trẻ em bị bạo lực, xâm hại"}).status_code == 302
    duplicate = client.post("/staff/case-categories", data={"name": "Hộ nghèo"})
    assert duplicate.status_code == 409 and "đã có trong danh sách" in duplicate.get_data(as_text=True)
    category = db.session.scalars(sa.select(CircumstanceCategory).where(CircumstanceCategory.code == "poor")).one()
    assert client.post(f"/staff/case-categories/{category.id}", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(CircumstanceCategory, category.id).is_active
    assert "Hộ nghèo" not in [c.name for c in cases.active_categories()]

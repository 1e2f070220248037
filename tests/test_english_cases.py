"""Support cases in English (issue 17): the case pages, their flash messages and form errors
(workflow refusals, disbursement rules) follow the staff member's language; the Vietnamese
pages are unchanged; what goes into a statutory report or the open-data API stays Vietnamese."""
from __future__ import annotations

import html
import re

import sqlalchemy as sa
from flask import g

from app.extensions import db
from app.models import CaseState, Role, SupportCase
from tests import factories
from tests.case_helpers import fund, make_case, pay, sign_in
from tests.test_english_pages import leftovers, stored_texts

NBSP = "\u00a0"


def english(client, login_as, role):
    """Sign in as `role` with English chosen (on the account, as the switch does)."""
    user = sign_in(login_as, role)
    user.locale = "en"
    db.session.commit()
    g.pop("_login_user", None)
    return user


def main_part(response) -> str:
    page = response.get_data(as_text=True)
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def flashes(response) -> str:
    """The main part's text (tags out, entities read, runs of spaces as one; no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main_part(response))))


# --------------------------------------------------------------------------- refusals

def test_a_transition_out_of_order_is_refused_in_english(app, client, login_as):
    case = make_case(CaseState.INTAKE.value)
    english(client, login_as, Role.DIRECTOR)
    response = client.post(f"/staff/cases/{case.id}/transition", data={"target": "approved"})
    assert response.status_code == 409
    text = flashes(response)
    assert ("A case cannot move from “Intake” to “Approved”: it must go through each step of the "
            "workflow in turn.") in text
    assert "Không thể chuyển" not in text
    assert db.session.get(SupportCase, case.id).state == "intake"


def test_a_role_refusal_and_a_missing_consent_are_explained_in_english(app, client, login_as):
    case = make_case(CaseState.INTAKE.value)
    english(client, login_as, Role.CASE_WORKER)
    response = client.post(f"/staff/cases/{case.id}/transition", data={"target": "rejected", "comment": "x"})
    assert response.status_code == 403
    assert "may not move a case to “Rejected” (only: " in flashes(response)

    no_consent = make_case(CaseState.ASSESSMENT.value, consent=False)
    response = client.post(f"/staff/cases/{no_consent.id}/transition", data={"target": "proposed"})
    assert response.status_code == 422
    assert "The guardian's consent must be recorded before the proposal." in flashes(response)


def test_an_approval_above_the_proposal_is_refused_with_english_amounts(app, client, login_as):
    case = make_case(CaseState.PROPOSED.value, requested=10_000_000)
    english(client, login_as, Role.DIRECTOR)
    response = client.post(f"/staff/cases/{case.id}/transition",
                           data={"target": "approved", "approved_amount": "12000000"})
    assert response.status_code == 422
    assert (f"The approved amount 12,000,000{NBSP}₫ is more than the 10,000,000{NBSP}₫ proposed."
            in flashes(response))


def test_a_move_is_confirmed_in_english(app, client, login_as):
    case = make_case(CaseState.INTAKE.value)
    english(client, login_as, Role.CASE_WORKER)
    response = client.post(f"/staff/cases/{case.id}/transition", data={"target": "assessment"},
                           follow_redirects=True)
    assert f"Case {case.code} moved to “In assessment”." in flashes(response)
    assert "History" in main_part(response) and "Intake → In assessment" in flashes(response)
    assert "Case intake" in flashes(response)  # the system's comment, stored in Vietnamese
    stored = db.session.scalars(sa.text("SELECT comment FROM case_transitions WHERE case_id = :c AND from_state IS NULL"),
                                {"c": case.id}).one()
    assert stored == "Tiếp nhận hồ sơ"


# --------------------------------------------------------------------------- disbursements

def test_a_disbursement_above_the_approved_support_is_refused_in_english(app, client, login_as):
    case = make_case(CaseState.APPROVED.value, approved=5_000_000)
    fund("heart", 50_000_000)
    english(client, login_as, Role.ACCOUNTANT)
    response = client.post(f"/staff/cases/{case.id}/disbursements/new", data={
        "programme_id": case.programme_id, "amount": "6.000.000", "paid_on": "2024-06-01",
        "payee_kind": "hospital", "payee_name": "Bệnh viện Trẻ em Hải Phòng", "method": "bank_transfer"})
    assert response.status_code == 409
    text = flashes(response)
    assert (f"More than the support approved for case {case.code}: approved 5,000,000{NBSP}₫, spent or "
            f"awaiting approval 0{NBSP}₫, left to pay 5,000,000{NBSP}₫.") in text
    assert "Paid from" in text and "Payment method" in text
    assert 'value="Record the disbursement (to be approved)"' in main_part(response)


def test_a_disbursement_form_missing_its_amount_says_so_in_english(app, client, login_as):
    case = make_case(CaseState.APPROVED.value)
    english(client, login_as, Role.ACCOUNTANT)
    response = client.post(f"/staff/cases/{case.id}/disbursements/new", data={
        "programme_id": case.programme_id, "amount": "", "paid_on": "", "payee_kind": "hospital",
        "payee_name": "Bệnh viện", "method": "cash"})
    assert response.status_code == 400
    text = flashes(response)
    assert "Please enter the amount." in text and "Please enter the payment date." in text
    assert "Vui lòng" not in text


def test_a_director_approves_in_english_and_the_list_shows_english_labels(app, client, login_as):
    case = make_case(CaseState.APPROVED.value)
    fund("heart", 50_000_000)
    row = pay(case, 2_000_000, approve=False)
    english(client, login_as, Role.DIRECTOR)
    page = flashes(client.post(f"/staff/disbursements/{row.id}/approve"))
    assert f"Approve the disbursement of 2,000,000{NBSP}₫?" in page
    response = client.post(f"/staff/disbursements/{row.id}/approve", data={"confirmed": "1"},
                           follow_redirects=True)
    text = flashes(response)
    assert "Disbursement approved." in text
    assert "Hospital: " in text and "Bank transfer " in text and "Approved" in text and "Reverse" in text


def test_buttons_and_states_that_share_a_vietnamese_word_read_apart_in_english(app, client, login_as):
    proposed = make_case(CaseState.PROPOSED.value)
    rejected = make_case(CaseState.REJECTED.value)
    english(client, login_as, Role.DIRECTOR)
    buttons = flashes(client.get(f"/staff/cases/{proposed.id}"))
    assert "Approve" in buttons and "Reject" in buttons  # the buttons ("Phê duyệt", "Từ chối")
    listing = flashes(client.get("/staff/cases"))
    assert "Requested Approved" in listing and "Rejected" in listing  # a column, a state
    assert rejected.code in listing


# --------------------------------------------------------------------------- pages

#: Labels on the case pages that come from other modules (the donation statuses), translated by
#: their own owners.
OUTSIDE = {"Đã xác nhận", "Chờ xác nhận", "Đã đảo bút toán", "Không thành công"}


def test_the_case_pages_carry_no_vietnamese_of_their_own(app, client, login_as):
    from app.demo.donations import seed_demo

    seed_demo()
    db.session.commit()
    data = stored_texts()
    ids = db.session.scalars(sa.select(SupportCase.id).order_by(SupportCase.id)).all()
    states = set(db.session.scalars(sa.select(SupportCase.state)))
    assert len(states) >= 4  # the demo has cases along the workflow
    found = {}
    for role in (Role.CASE_WORKER, Role.DIRECTOR, Role.ACCOUNTANT):
        english(client, login_as, role)
        urls = ["/staff/cases", "/staff/cases?attention=consent", "/staff/disbursements",
                "/staff/disbursements?status=approved", "/staff/programme-balances"]
        urls += [f"/staff/cases/{i}" for i in ids]
        if role is not Role.ACCOUNTANT:
            urls += ["/staff/cases/new"] + [f"/staff/cases/{i}/consent" for i in ids[:3]]
            urls += [f"/staff/cases/{i}/edit" for i in ids[:3]]
        if role is Role.DIRECTOR:
            urls.append("/staff/case-categories")
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            bad = [text for text in leftovers(main_part(response), data) if text not in OUTSIDE]
            if bad:
                found[f"{role.value} {url}"] = bad
    assert found == {}


def test_the_accountant_still_sees_no_child_in_english(app, client, login_as):
    case = make_case(CaseState.APPROVED.value)
    english(client, login_as, Role.ACCOUNTANT)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Lương Thị Hồng Nhung" not in page and "Lương Văn Kiên" not in page
    assert "Information identifying a child is shown only to case workers and directors." in page


def test_the_vietnamese_pages_are_unchanged(app, client, login_as):
    case = make_case(CaseState.INTAKE.value)
    sign_in(login_as, Role.DIRECTOR)
    response = client.post(f"/staff/cases/{case.id}/transition", data={"target": "approved"})
    assert ("Không thể chuyển hồ sơ từ «Tiếp nhận» sang «Đã phê duyệt»: hồ sơ phải đi qua đúng từng "
            "bước của quy trình.") in flashes(response)
    page = client.get("/staff/cases").get_data(as_text=True)
    assert "Hồ sơ hỗ trợ trẻ em" in page and "1 hồ sơ" in page and 'lang="vi"' in page


# --------------------------------------------------------------------------- Vietnamese documents

def test_statutory_figures_and_the_open_api_keep_vietnamese_payee_kinds(app, client, login_as):
    from app.i18n import language
    from app.services.reports import figures
    from app.services.reports.period import make_period
    from app.timeutil import local_today

    case = make_case(CaseState.APPROVED.value)
    fund("heart", 50_000_000)
    pay(case, 3_000_000)
    with app.test_request_context(), language("en"):
        uses = figures.programme_use(make_period(local_today().year))
        assert [k.label for u in uses for k in u.kinds] == ["Bệnh viện"]
        assert type(uses[0].kinds[0].label) is str
    body = client.get(f"/api/v1/money-out?year={local_today().year}",
                      headers={"Accept-Language": "en"}).get_json()
    assert [x["kind"] for x in body["items"]] == ["Bệnh viện"]
    client.set_cookie("lang", "en")
    page = client.get(f"/cong-khai/chi?year={local_today().year}").get_data(as_text=True)
    assert "hospital" in page.lower()

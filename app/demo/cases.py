"""Fictional support cases for the demo (called at the end of `seed_demo`).

Every child, guardian, phone and story here is invented. The cases run through the real
services (workflow, consent, disbursement rules), acted by the demo staff accounts, so the
demo shows recorded transitions, approvals and the balance rules at work. Amounts are kept
well inside the demo donations of each programme, so every balance stays positive.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import CircumstanceCategory, Donor, Programme, SupportCase, User
from app.services.cases import workflow as cases
from app.services.cases import disbursements
from app.services.audit import Actor
from app.services.donations.ledger import record_donation
from app.timeutil import local_to_utc

# (programme, child, birth date, sex, guardian, relation, phone, diagnosis, facility,
#  estimated, insurance, family, requested, categories, final state, disbursed, story)
DEMO_CASES = [
    ("heart", "Nguyễn Hoàng Bảo Ngọc", date(2021, 3, 14), "female", "Nguyễn Văn Thịnh", "Bố",
     "0912345601", "Thông liên thất, cần phẫu thuật vá lỗ thông", "Bệnh viện Trẻ em Hải Phòng",
     120_000_000, 70_000_000, 10_000_000, 40_000_000, ["poor"], "closed", [40_000_000],
     ("N.H.B.N.", "Em bé ba tuổi ở một xã ven biển thường tím tái mỗi khi khóc. Sau ca phẫu thuật "
                  "tim, em đã chạy nhảy cùng các bạn ở lớp mẫu giáo.")),
    ("heart", "Trần Minh Khang", date(2017, 8, 2), "male", "Phạm Thị Huệ", "Mẹ",
     "0912345602", "Tứ chứng Fallot", "Bệnh viện Nhi Trung ương",
     180_000_000, 100_000_000, 20_000_000, 60_000_000, ["near_poor", "serious_illness"], "disbursing",
     [30_000_000], None),
    ("heart", "Lê Thị Thu Trang", date(2019, 11, 20), "female", "Lê Văn Hậu", "Bố",
     "0912345603", "Còn ống động mạch", "Bệnh viện Trẻ em Hải Phòng",
     60_000_000, 35_000_000, 5_000_000, 20_000_000, ["poor"], "approved", [], None),
    ("cleft", "Vũ Đức Anh Tuấn", date(2023, 1, 9), "male", "Vũ Thị Hạnh", "Mẹ",
     "0912345604", "Khe hở môi toàn bộ một bên", "Bệnh viện Việt Tiệp",
     25_000_000, 12_000_000, 3_000_000, 10_000_000, ["poor"], "closed", [10_000_000],
     ("V.Đ.A.T.", "Sau ca phẫu thuật sứt môi, nụ cười của em bé hai tuổi đã trọn vẹn.")),
    ("cleft", "Đặng Thị Mai Phương", date(2022, 6, 30), "female", "Đặng Văn Lợi", "Bố",
     "0912345605", "Hở hàm ếch", "Bệnh viện Việt Tiệp",
     30_000_000, 15_000_000, 5_000_000, 10_000_000, ["near_poor"], "proposed", [], None),
    ("motor", "Hoàng Gia Huy", date(2016, 4, 18), "male", "Hoàng Thị Nga", "Bà nội",
     "0912345606", "Bàn chân khoèo hai bên", "Bệnh viện Chỉnh hình và Phục hồi chức năng",
     40_000_000, 20_000_000, 5_000_000, 15_000_000, ["orphan", "disability"], "disbursing",
     [8_000_000], None),
    ("illness", "Phạm Ngọc Diệp", date(2014, 12, 5), "female", "Phạm Văn Toàn", "Bố",
     "0912345607", "Bạch cầu cấp dòng lympho, điều trị duy trì", "Bệnh viện Trẻ em Hải Phòng",
     300_000_000, 200_000_000, 30_000_000, 50_000_000, ["serious_illness", "merit"], "assessment", [], None),
    ("scholarship", "Bùi Quang Vinh", date(2012, 9, 1), "male", "Bùi Thị Lan", "Mẹ",
     "0912345608", None, "Trường THCS Lê Chân",
     None, 0, 0, 6_000_000, ["poor", "orphan"], "closed", [6_000_000],
     ("B.Q.V.", "Cậu học trò mồ côi cha vẫn giữ danh hiệu học sinh giỏi nhờ học bổng của Quỹ.")),
    ("gifts", "Mai Thị Ánh Dương", date(2015, 2, 22), "female", "Cơ sở trợ giúp xã hội Hoa Phượng", "Cơ sở nuôi dưỡng",
     None, None, "Cơ sở trợ giúp xã hội Hoa Phượng",
     None, 0, 0, 2_000_000, ["protection_centre"], "rejected", [], None),
    ("heart", "Cao Thành Đạt", date(2024, 5, 11), "male", "Cao Văn Sơn", "Bố",
     "0912345610", "Hẹp van động mạch phổi", "Bệnh viện Trẻ em Hải Phòng",
     90_000_000, 50_000_000, 0, 35_000_000, ["poor"], "intake", [], None),
]

# Support paid last year (whatever year the demo is opened in), so that year's reports (the
# disclosure, restricted funds, Action Month in June, money out on /cong-khai) have content.
LAST_YEAR_CASES = [
    ("cleft", "Trịnh Bảo An", date(2022, 2, 14), "male", "Trịnh Văn Hòa", "Bố",
     "0912345611", "Khe hở vòm miệng", "Bệnh viện Việt Tiệp",
     28_000_000, 14_000_000, 4_000_000, 9_000_000, ["poor"], "closed", [9_000_000], None),
    ("scholarship", "Lò Thị Hồng Nhi", date(2011, 10, 3), "female", "Lò Văn Páo", "Bố",
     "0912345612", None, "Trường THCS Ngô Quyền",
     None, 0, 0, 6_000_000, ["poor"], "disbursing", [3_000_000], None),
    ("illness", "Quách Minh Nhật", date(2013, 7, 21), "male", "Quách Thị Dung", "Mẹ",
     "0912345613", "Suy thận mạn, chạy thận định kỳ", "Bệnh viện Trẻ em Hải Phòng",
     150_000_000, 100_000_000, 10_000_000, 30_000_000, ["serious_illness"], "disbursing",
     [12_000_000, 6_000_000], None),
]

DEMO_CHILD_NAMES = [spec[1] for spec in DEMO_CASES + LAST_YEAR_CASES]
DEMO_GUARDIAN_NAMES = [spec[4] for spec in DEMO_CASES + LAST_YEAR_CASES]

ORDER = ["intake", "assessment", "proposed", "approved"]


def _user(email: str) -> tuple[Actor, str]:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    return Actor.for_user(user, "127.0.0.1"), user.role


def seed_demo_cases() -> bool:
    """Add the demo cases once (nothing happens when any case exists)."""
    if db.session.scalar(sa.select(SupportCase.id).limit(1)):
        return False
    worker, worker_role = _user("ctxh@example.org")
    director, director_role = _user("giamdoc@example.org")
    accountant, accountant_role = _user("ketoan@example.org")
    programmes = {p.code: p for p in db.session.scalars(sa.select(Programme))}
    categories = {c.code: c.id for c in db.session.scalars(sa.select(CircumstanceCategory))}
    today = date.today()
    people = dict(worker=(worker, worker_role), director=(director, director_role),
                  accountant=(accountant, accountant_role))
    for index, spec in enumerate(DEMO_CASES):
        opened = min(date(2024, 3, 1) + timedelta(days=40 * index), today)
        _seed_case(index, spec, opened, today, programmes, categories, people)
    last_year = today.year - 1
    for index, spec in enumerate(LAST_YEAR_CASES, start=len(DEMO_CASES)):
        opened = date(last_year, 2, 3) + timedelta(days=45 * (index - len(DEMO_CASES)))
        _seed_case(index, spec, opened, today, programmes, categories, people)
    # This year's second term of last year's scholarship, so this year's money out shows a line.
    scholar = db.session.scalar(sa.select(SupportCase).where(SupportCase.child_name == LAST_YEAR_CASES[1][1]))
    paid_on = max(date(today.year, 1, 1), today - timedelta(days=20))
    row = disbursements.record_disbursement(
        scholar.id, accountant, accountant_role, amount=3_000_000, paid_on=paid_on, payee_kind="school",
        payee_name=LAST_YEAR_CASES[1][8], method="bank_transfer", voucher_number=f"PC-{today.year}-HK2")
    disbursements.approve_disbursement(row.id, director, director_role)
    # One payout awaiting the director, for the approval queue.
    pending_case = db.session.scalar(sa.select(SupportCase).where(SupportCase.state == "disbursing")
                                     .order_by(SupportCase.id).limit(1))
    if pending_case is not None:
        disbursements.record_disbursement(
            pending_case.id, accountant, accountant_role, amount=5_000_000, paid_on=today,
            payee_kind="family", payee_name=None, method="cash", voucher_number="PC-CHO-DUYET-01")
    return True


def _seed_case(index: int, spec: tuple, opened: date, today: date, programmes, categories, people) -> None:
    """One demo case through the real workflow: consent, assessment, proposal, decision,
    the disbursements of `spec` (seven days apart, approved) and closing."""
    worker, worker_role = people["worker"]
    director, director_role = people["director"]
    accountant, accountant_role = people["accountant"]
    (code, child, birth, sex, guardian, relation, phone, diagnosis, facility, estimated,
     insurance, family, requested, cats, final, paid, story) = spec
    moment = local_to_utc(datetime.combine(opened, datetime.min.time()).replace(hour=9))
    case = cases.create_case(dict(
        programme_id=programmes[code].id, opened_on=opened, child_name=child, child_birth_date=birth,
        child_sex=sex, address=f"Tổ dân phố số {index + 3}", guardian_name=guardian,
        guardian_relation=relation, guardian_phone=phone, diagnosis=diagnosis, facility=facility,
        estimated_cost=estimated, insurance_covers=insurance, family_covers=family,
        support_requested=requested,
        situation="Gia đình khó khăn, thu nhập không ổn định (dữ liệu minh họa)."),
        worker, worker_role, category_ids=[categories[c] for c in cats if c in categories], at=moment)
    if final == "intake":
        return
    consent_day = opened + timedelta(days=3)
    needs_child = cases.age_on(birth, consent_day) >= cases.CHILD_CONSENT_AGE
    cases.update_consent(case.id, worker, worker_role, guardian_consent_on=consent_day,
                         child_consent_on=consent_day if needs_child else None,
                         story_publishable=story is not None,
                         story_initials=story[0] if story else None,
                         story_text=story[1] if story else None)
    step = moment
    for target in ("assessment", "proposed"):
        step += timedelta(days=5)
        cases.transition_case(case.id, target, worker, worker_role, at=step,
                              comment="Đã xác minh hoàn cảnh tại địa phương." if target == "proposed" else None)
        if final == target:
            break
    if final in ("assessment", "proposed"):
        return
    step += timedelta(days=4)
    if final == "rejected":
        cases.transition_case(case.id, "rejected", director, director_role, at=step,
                              comment="Đã được nhà tài trợ khác hỗ trợ toàn bộ.")
        return
    cases.transition_case(case.id, "approved", director, director_role, approved_amount=requested, at=step)
    if index == 1:  # a donor gives for this child specifically
        donor = db.session.scalar(sa.select(Donor).order_by(Donor.id).limit(1))
        record_donation(Actor.system("seed-demo"), donor_id=donor.id, amount=40_000_000,
                        channel="bank_transfer", received_at=step + timedelta(days=1),
                        case_id=case.id, reference=f"DEMO-CASE-{index:03d}",
                        note="Chỉ định cho hồ sơ phẫu thuật tim")
    for number, amount in enumerate(paid, start=1):
        step += timedelta(days=7)
        paid_on = min(step.date(), today)
        row = disbursements.record_disbursement(
            case.id, accountant, accountant_role, amount=amount, paid_on=paid_on,
            payee_kind="school" if code == "scholarship" else "hospital",
            payee_name=facility or "Bệnh viện Trẻ em Hải Phòng", method="bank_transfer",
            voucher_number=f"PC-{opened.year}-{index + 1:03d}{number}", at=step)
        disbursements.approve_disbursement(row.id, director, director_role, at=step + timedelta(hours=3))
    if final == "closed":
        cases.transition_case(case.id, "closed", worker, worker_role, at=step + timedelta(days=1),
                              comment="Đã hoàn tất hỗ trợ.")

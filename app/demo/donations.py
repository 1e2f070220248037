"""Fictional but realistic demo data for `flask --app wsgi seed-demo` and `make run`.

Every business, person, tax code, phone and email here is invented. The 2023 figures are
chosen so that a handful of donors cross the 50,000,000 đ commendation threshold (one
exactly on it) and a few sit just under it. Idempotent: every demo donation carries a
`DEMO-…` reference, and nothing is added once the first one exists.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Appeal, AppealStatus, Channel, Donation, DonationStatus, Donor, DonorKind, Programme,
    Role, User,
)
from app.services.donations import ledger as donation_service
from app.services.audit import Actor
from app.demo.cases import seed_demo_cases
from app.services.receipts.issuing import allocate_receipt
from app.services.setup import ensure_reference_data
from app.timeutil import local_to_utc, local_today

DEMO_PASSWORD = "demo-quy-2024"
DEMO_USERS = [
    ("admin@example.org", "Quản trị viên Demo", Role.ADMIN.value),
    ("giamdoc@example.org", "Phạm Thị Thanh Hương", Role.DIRECTOR.value),
    ("ketoan@example.org", "Đỗ Minh Khoa", Role.ACCOUNTANT.value),
    ("ctxh@example.org", "Vũ Thị Mai Anh", Role.CASE_WORKER.value),
    ("xem@example.org", "Bùi Văn Long", Role.VIEWER.value),
]

# name, MST, 2023 target (None: occasional small gifts only)
ORGANIZATIONS = [
    ("Công ty TNHH Thép Đình Vũ Xanh", "0201234567", 120_000_000),
    ("Công ty Cổ phần Logistics Cảng Hoa Phượng", "0201876543", 80_500_000),
    ("Công ty TNHH Dệt may Tiên Lãng", "0202345678", 48_000_000),
    ("Công ty Cổ phần Xi măng Tràng Kênh Mới", "0203456789", 50_000_000),
    ("Công ty TNHH Thực phẩm Cát Bà", "0204567890", None),
    ("Hợp tác xã Nông nghiệp Vĩnh Bảo", "0205678901", None),
    ("Công ty Cổ phần Dược phẩm Lạch Tray", "0206789012", 65_000_000),
    ("Công ty TNHH Điện tử Tràng Duệ Việt", "0207890123", None),
    ("Công ty TNHH Vận tải biển Đồ Sơn", "0208901234", 42_000_000),
    ("Hội Doanh nhân trẻ phường Ngô Quyền", None, None),
    ("Công ty Cổ phần Xây dựng Bạch Đằng Mới", "0209012345", None),
    ("Tập thể cán bộ, giáo viên Trường THPT Hoa Sen", None, None),
    ("Công ty TNHH Du lịch Lan Hạ", "0200123456", None),
    ("Công ty Cổ phần Nhựa Kiến An", "0200234561", None),
    ("Công ty TNHH May mặc An Dương", "0200345672", None),
]
INDIVIDUALS = [
    ("Trần Thị Thu Hà", 52_000_000), ("Phạm Quang Vinh", 60_000_000),
    ("Lê Minh Tuấn", 45_000_000), ("Hoàng Thị Lan", 49_500_000),
    ("Nguyễn Văn An", None), ("Nguyễn Văn An", None), ("Đặng Thị Hồng Nhung", None),
    ("Vũ Đức Thắng", None), ("Ngô Thị Bích Ngọc", None), ("Đinh Công Sơn", None),
    ("Bùi Thị Thanh Thủy", None), ("Phan Văn Hải", None), ("Lương Thị Mỹ Linh", None),
    ("Trịnh Quốc Bảo", None), ("Mai Thị Hạnh", None), ("Đoàn Văn Dũng", None),
    ("Tạ Thị Kim Oanh", None), ("Cao Minh Đức", None), ("Hà Thị Phương", None),
    ("Lý Văn Thành", None), ("Nguyễn Thị Tuyết Mai", None), ("Trương Đình Khánh", None),
    ("Kiều Thị Ngân", None), ("Dương Văn Phúc", None), ("Lâm Thị Quỳnh", None),
]
STREETS = ["Lạch Tray", "Điện Biên Phủ", "Trần Phú", "Lê Lợi", "Tô Hiệu", "Văn Cao",
           "Nguyễn Văn Linh", "Hoàng Văn Thụ", "Cầu Đất", "Lê Thánh Tông"]
WARDS = ["phường Ngô Quyền", "phường Lê Chân", "phường Hồng Bàng", "phường Hải An",
         "phường Kiến An", "phường Thủy Nguyên", "xã An Lão", "phường Hải Dương"]

APPEALS = [
    dict(slug="thang-hanh-dong-vi-tre-em-2024", title="Tháng hành động vì trẻ em năm 2024",
         summary="Hành động thiết thực, ưu tiên nguồn lực cho trẻ em.",
         story=("Trong Tháng hành động vì trẻ em (1–30/6/2024), Quỹ Bảo trợ trẻ em thành phố "
                "vận động các cơ quan, doanh nghiệp và nhà hảo tâm chung tay hỗ trợ phẫu thuật "
                "tim bẩm sinh, sứt môi hở hàm ếch, học bổng và quà cho trẻ em có hoàn cảnh "
                "đặc biệt trên địa bàn thành phố."),
         goal_amount=2_000_000_000, starts_on=date(2024, 6, 1), ends_on=date(2024, 6, 30),
         status=AppealStatus.CLOSED.value, is_public=True),
    dict(slug="trai-tim-cho-em-2026", title="Trái tim cho em 2026",
         summary="Góp phần chi trả phẫu thuật tim bẩm sinh cho trẻ em hộ nghèo, cận nghèo.",
         story=("Mỗi năm, hàng chục trẻ em Hải Phòng cần phẫu thuật tim bẩm sinh mà gia đình "
                "không đủ khả năng chi trả phần chi phí ngoài bảo hiểm y tế. Mỗi đóng góp của "
                "Quý vị giúp một em nhỏ có trái tim khỏe mạnh."),
         goal_amount=1_500_000_000, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
         status=AppealStatus.OPEN.value, is_public=True),
    dict(slug="tet-yeu-thuong-2027", title="Tết yêu thương 2027",
         summary="Quà Tết cho trẻ em có hoàn cảnh đặc biệt.",
         story=("Trao quà Tết cho trẻ em mồ côi, trẻ em khuyết tật và trẻ em thuộc hộ nghèo "
                "trên địa bàn các phường, xã của thành phố."),
         goal_amount=500_000_000, starts_on=date(2026, 11, 1), ends_on=date(2027, 2, 10),
         status=AppealStatus.OPEN.value, is_public=True),
]


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split a total into `parts` amounts, each a multiple of 100.000 đ, summing exactly."""
    unit = 100_000
    units = total // unit
    cuts = sorted(rng.sample(range(1, units), parts - 1))
    pieces = [b - a for a, b in zip([0, *cuts], [*cuts, units])]
    pieces[-1] += (total - units * unit) // unit  # total is a multiple of unit here
    return [p * unit for p in pieces]


def _random_moment(rng: random.Random, start: date, end: date) -> datetime:
    day = start + timedelta(days=rng.randrange((end - start).days + 1))
    local = datetime(day.year, day.month, day.day, rng.randint(7, 21), rng.choice([0, 15, 30, 45]))
    return local_to_utc(local)


DEMO_SETTINGS = dict(
    signatory_name="Nguyễn Thị Thu Hương (chữ ký minh họa)", signatory_title="Giám đốc",
    address="Số 1 Đinh Tiên Hoàng, phường Hồng Bàng, thành phố Hải Phòng (địa chỉ minh họa)")


def _demo_settings() -> None:
    """The demo prints receipts, so it fills the required settings that still hold the
    shipped placeholders (never ones an admin has set)."""
    from app.services.setup import get_settings, missing_settings

    if not missing_settings():
        return
    settings = get_settings()
    for name, value in DEMO_SETTINGS.items():
        current = (getattr(settings, name) or "").strip()
        if not current or "cập nhật" in current.casefold():
            setattr(settings, name, value)
    db.session.commit()


def seed_demo() -> bool:
    ensure_reference_data()
    _demo_settings()
    if db.session.scalar(sa.select(Donation.id).where(Donation.reference.like("DEMO-%")).limit(1)):
        _ensure_users()
        return False
    rng = random.Random(20240601)
    actor = Actor.system("seed-demo")
    _ensure_users()
    programmes = {p.code: p for p in db.session.scalars(sa.select(Programme))}
    appeals = []
    for spec in APPEALS:
        appeal = db.session.scalar(sa.select(Appeal).where(Appeal.slug == spec["slug"]))
        if appeal is None:
            appeal = Appeal(**spec)
            db.session.add(appeal)
        appeals.append(appeal)
    action_month, heart_2026, tet_2027 = appeals

    donors: list[tuple[Donor, int | None]] = []
    for i, (name, mst, target) in enumerate(ORGANIZATIONS):
        donor = Donor(kind=DonorKind.ORGANIZATION.value, name=name, tax_code=mst,
                      email=f"lienhe{i + 1}@doanhnghiep.example.com", phone=f"0225{3800000 + i * 137:07d}",
                      address=f"Số {rng.randint(1, 300)} đường {rng.choice(STREETS)}, {rng.choice(WARDS)}, thành phố Hải Phòng",
                      representative=rng.choice(["Ông", "Bà"]) + " " + INDIVIDUALS[-1 - i][0],
                      public_listing_consent=rng.random() < 0.8)
        donors.append((donor, target))
    for i, (name, target) in enumerate(INDIVIDUALS):
        donor = Donor(kind=DonorKind.INDIVIDUAL.value, name=name,
                      email=f"nhahaotam{i + 1}@example.com" if i % 3 else None,
                      phone=f"09{rng.randint(10000000, 99999999)}",
                      address=f"{(ward := rng.choice(WARDS))[0].upper()}{ward[1:]}, thành phố Hải Phòng",
                      public_listing_consent=rng.random() < 0.6, anonymous=(i % 9 == 8))
        donors.append((donor, target))
    db.session.add_all(d for d, _ in donors)
    db.session.flush()

    general = programmes["general"]
    specific = [programmes[c] for c in ("heart", "cleft", "motor", "illness", "scholarship", "gifts")]
    plan: list[dict] = []

    def add(donor, amount, when, *, appeal=None, programme=None, channel=None, status="confirmed",
            in_kind=None, reverse_reason=None, reverse_amount=None):
        channel = channel or rng.choices(
            [Channel.BANK_TRANSFER, Channel.CASH, Channel.CARD], weights=[7, 2, 1])[0].value
        plan.append(dict(donor=donor, amount=amount, when=when, appeal=appeal,
                         programme=programme or general, channel=channel, status=status,
                         in_kind=in_kind, reverse_reason=reverse_reason, reverse_amount=reverse_amount))

    # 2023: commendation targets split into several gifts, small gifts from everyone else.
    for donor, target in donors:
        if target:
            for amount in _split(target, rng.randint(2, 6), rng):
                prog = rng.choice([general, *specific])
                add(donor, amount, _random_moment(rng, date(2023, 1, 5), date(2023, 12, 20)), programme=prog)
        for _ in range(rng.randint(2, 5)):
            amount = rng.choice([200_000, 500_000, 1_000_000, 2_000_000, 3_000_000, 5_000_000])
            if target is None:  # targets are exact totals for 2023
                add(donor, amount, _random_moment(rng, date(2023, 1, 5), date(2023, 12, 20)),
                    programme=rng.choice([general, *specific]))
    # The edges the commendation list must get right.
    an = donors[len(ORGANIZATIONS) + 4][0]
    add(an, 1_000_000, local_to_utc(datetime(2023, 12, 31, 23, 30)))   # counts for 2023
    add(an, 1_000_000, local_to_utc(datetime(2024, 1, 1, 0, 30)))      # counts for 2024
    add(donors[13][0], 30_000_000, local_to_utc(datetime(2023, 9, 12, 9, 0)),
        channel=Channel.IN_KIND.value, programme=programmes["motor"],
        in_kind="20 xe lăn và 10 khung tập đi cho trẻ khuyết tật vận động")
    # A mistyped entry, reversed and re-entered (the total must come out at 10.000.000 đ).
    add(donors[4][0], 100_000_000, local_to_utc(datetime(2023, 4, 3, 10, 0)),
        reverse_reason="Nhập sai số tiền (thừa một chữ số 0)")
    add(donors[4][0], 10_000_000, local_to_utc(datetime(2023, 4, 3, 10, 5)))

    # 2024: the Action Month appeal in June, gifts through the year.
    for donor, target in donors:
        for _ in range(rng.randint(2, 6)):
            in_june = rng.random() < 0.6
            when = (_random_moment(rng, date(2024, 6, 1), date(2024, 6, 30)) if in_june
                    else _random_moment(rng, date(2024, 1, 2), date(2024, 12, 28)))
            amount = rng.choice([500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000])
            if donor.kind == DonorKind.ORGANIZATION.value:
                amount *= rng.choice([1, 2, 5])
            add(donor, amount, when, appeal=action_month if in_june else None,
                programme=rng.choice([general, *specific]))
    # This year, up to yesterday: the open appeals, so the public site shows progress; a few
    # unfinished payments in the last days. Dates follow today's, so a newcomer opening the
    # demo in any year sees this year's and last year's gifts.
    today = local_today()
    yesterday = today - timedelta(days=1)
    year_start = min(date(today.year, 1, 10), yesterday)
    recent = max(year_start, today - timedelta(days=23))
    for donor, _ in donors[::2]:
        add(donor, rng.choice([200_000, 500_000, 1_000_000, 3_000_000]),
            _random_moment(rng, year_start, yesterday), appeal=heart_2026,
            programme=programmes["heart"])
    for donor, _ in donors[1::4]:
        add(donor, rng.choice([300_000, 500_000, 2_000_000]),
            _random_moment(rng, recent, yesterday), appeal=tet_2027,
            programme=programmes["gifts"])
    for donor, _ in donors[3:6]:
        add(donor, 500_000, _random_moment(rng, max(recent, today - timedelta(days=6)), yesterday),
            appeal=heart_2026, programme=programmes["heart"], channel=Channel.CARD.value,
            status=rng.choice(["pending", "failed"]))
    # Last year — the year the commendation and annual-statement pages open on — gets the
    # same shape as 2023 (targets around the threshold), from its own random stream so the
    # 2023 and 2024 figures above never change.
    previous = today.year - 1
    if previous not in (2023, 2024):
        last = random.Random(previous)
        for donor, target in donors:
            if target:
                for amount in _split(target, last.randint(2, 6), last):
                    add(donor, amount, _random_moment(last, date(previous, 1, 5), date(previous, 12, 20)),
                        programme=last.choice([general, *specific]))
            else:
                for _ in range(last.randint(1, 3)):
                    add(donor, last.choice([200_000, 500_000, 1_000_000, 2_000_000]),
                        _random_moment(last, date(previous, 1, 5), date(previous, 12, 20)),
                        programme=last.choice([general, *specific]))
        # Gifts in kind, a mistyped entry reversed and a partial refund, so last year's
        # reports show every kind of line (the Action Month in June included).
        add(donors[0][0], 45_000_000, local_to_utc(datetime(previous, 6, 12, 9, 30)),
            channel=Channel.IN_KIND.value, programme=programmes["gifts"],
            appeal=None, in_kind="300 suất quà (sách vở, đồ dùng học tập) cho trẻ em dịp 1/6")
        add(donors[len(ORGANIZATIONS) + 1][0], 12_000_000, local_to_utc(datetime(previous, 10, 3, 14, 0)),
            channel=Channel.IN_KIND.value, programme=programmes["motor"],
            in_kind="4 xe lăn và 2 khung tập đi")
        add(donors[6][0], 25_000_000, local_to_utc(datetime(previous, 3, 18, 10, 0)),
            reverse_reason="Nhập sai nhà hảo tâm (đã ghi lại đúng người)")
        add(donors[len(ORGANIZATIONS) + 5][0], 8_000_000, local_to_utc(datetime(previous, 6, 20, 16, 0)),
            reverse_reason="Hoàn lại phần chuyển thừa theo đề nghị của nhà hảo tâm", reverse_amount=3_000_000)
    # This year too: a gift in kind and a partial refund (dates before today).
    add(donors[0][0], 18_000_000, _random_moment(rng, year_start, yesterday), channel=Channel.IN_KIND.value,
        programme=programmes["illness"], in_kind="Máy tạo oxy và thuốc điều trị cho trẻ bệnh hiểm nghèo")
    add(donors[len(ORGANIZATIONS) + 2][0], 4_000_000, _random_moment(rng, year_start, yesterday),
        reverse_reason="Hoàn lại phần chuyển thừa", reverse_amount=1_000_000)

    now = datetime.now().astimezone()
    # Record in time order, so receipt numbers run with the dates as they would have.
    plan.sort(key=lambda spec: spec["when"])
    for number, spec in enumerate(plan, start=1):
        donation = Donation(
            donor_id=spec["donor"].id, appeal=spec["appeal"], programme=spec["programme"],
            amount=spec["amount"], channel=spec["channel"], in_kind_description=spec["in_kind"],
            status=DonationStatus.PENDING.value, received_at=spec["when"],
            reference=f"DEMO-{number:05d}")
        db.session.add(donation)
        db.session.flush()
        if spec["status"] == "confirmed":
            donation_service.confirm_in_tx(donation, actor, issue_receipt=False, confirmed_at=spec["when"])
            allocate_receipt(donation, actor, issued_at=spec["when"] + timedelta(hours=2), notify=False)
        elif spec["status"] == "failed":
            donation.status = DonationStatus.FAILED.value
        if spec["reverse_reason"]:
            donation_service.reverse_in_tx(donation, actor, reason=spec["reverse_reason"],
                                           amount=spec["reverse_amount"],
                                           received_at=min(spec["when"] + timedelta(hours=3), now))
    db.session.commit()
    seed_demo_cases()
    return True


def _ensure_users() -> None:
    existing = set(db.session.scalars(sa.select(User.email)))
    for email, name, role in DEMO_USERS:
        if email not in existing:
            user = User(email=email, name=name, role=role)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
    db.session.commit()

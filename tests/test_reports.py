"""Reports (issue 14): every figure reconciles across the disclosure, the restricted-funds
report, /cong-khai and the API, and equals the sums of the rows; every report prints from
the CLI in every format; a closed year's report freezes numbered, immutable and hashed, and
is served again byte for byte."""
from __future__ import annotations

import csv
import hashlib
import io
import subprocess
from datetime import date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.errors import Conflict
from app.extensions import db
from app.models import (
    COUNTED_STATUSES, SPENT_STATUSES, AuditEntry, Channel, Disbursement, Donation, FrozenReport, Role,
)
from app.services.cases import disbursements
from app.services.donations import ledger as donation_ledger
from app.services.reports import catalogue, disclosure as disclosure_reports, freezing
from app.services.reports.period import make_period
from app.timeutil import local_to_utc, local_today, year_bounds_utc
from app.vnd import format_vnd
from tests import factories
from tests.case_helpers import make_case, staff

YEAR = local_today().year - 1  # a closed year: it can also be frozen
SLUG = f"trai-tim-{YEAR}"
ORG = "Công ty TNHH Thép Hải Phòng"
PRIVATE = "Lê Văn Bí Mật"

# What the year holds, net: 2.5M + 60M + 1.2M + 30M (in kind) + (5M - 5M) + (10M - 2M)
# + 1M at 23:30 on 31 December; not the 9M pending gift, nor the 1M at 00:30 on 1 January.
RECEIVED = 102_700_000
IN_KIND = 30_000_000
OPENING = 7_000_000  # given the year before
SPENT = 3_000_000  # 3M + 4M - 4M reversed; the 1M awaiting approval does not count
CLOSING = OPENING + RECEIVED - SPENT


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = YEAR) -> datetime:
    return local_to_utc(datetime(year, month, day, hour, minute))


def vnd(amount: int) -> str:
    return format_vnd(amount, symbol=False)


@pytest.fixture
def year_of_gifts(monkeypatch):
    """A year of donations (money and in kind), reversals, disbursements and a reversal."""
    actor = factories.SYSTEM
    appeal = factories.appeal(SLUG, title=f"Trái tim cho em {YEAR}", status="closed", is_public=True,
                              goal_amount=100_000_000, starts_on=date(YEAR, 3, 1), ends_on=date(YEAR, 3, 31))
    person = factories.donor("Trần Thị Thu Hà", public_listing_consent=True, email="thuha@example.com",
                             phone="0912345678")
    org = factories.organization(ORG, public_listing_consent=True, tax_code="0201234567",
                                 email="lienhe@thep.example.com", address="Số 9 đường Lạch Tray")
    private = factories.donor(PRIVATE, public_listing_consent=False, email="bimat@example.com",
                              phone="0987654321", address="Số 12 ngõ 34 Lạch Tray")
    factories.donation(private, 7_000_000, received_at=at(3, 3, year=YEAR - 1))
    factories.donation(person, 2_500_000, received_at=at(6, 5))
    factories.donation(org, 60_000_000, received_at=at(3, 10), programme_code="heart", appeal_id=appeal.id)
    factories.donation(private, 1_200_000, received_at=at(7, 1), channel=Channel.CASH.value)
    factories.donation(org, 30_000_000, received_at=at(9, 12), channel=Channel.IN_KIND.value,
                       programme_code="motor", in_kind_description="20 xe lăn cho trẻ khuyết tật vận động")
    wrong = factories.donation(person, 5_000_000, received_at=at(4, 3))
    donation_ledger.reverse_in_tx(db.session.get(Donation, wrong.id), actor, reason="Nhập trùng",
                                  received_at=at(4, 4))
    refunded = factories.donation(private, 10_000_000, received_at=at(10, 20))
    donation_ledger.reverse_in_tx(db.session.get(Donation, refunded.id), actor, reason="Hoàn một phần",
                                  amount=2_000_000, received_at=at(10, 25))
    db.session.commit()
    factories.donation(person, 9_000_000, received_at=at(11, 1), confirm=False)  # pending: not counted
    factories.donation(person, 1_000_000, received_at=at(12, 31, 23, 30))  # still this year (Vietnam)
    factories.donation(person, 1_000_000, received_at=at(1, 1, 0, 30, year=YEAR + 1))  # next year

    case = make_case("approved", approved=50_000_000)
    accountant, accountant_role = staff(Role.ACCOUNTANT)
    director, director_role = staff(Role.DIRECTOR)

    def pay(amount: int, day: date, approve: bool = True) -> Disbursement:
        row = disbursements.record_disbursement(
            case.id, accountant, accountant_role, amount=amount, paid_on=day, payee_kind="hospital",
            payee_name="Bệnh viện Trẻ em Hải Phòng", method="bank_transfer", voucher_number="PC-01")
        if approve:
            disbursements.approve_disbursement(row.id, director, director_role)
        return row

    pay(3_000_000, date(YEAR, 8, 1))
    mistaken = pay(4_000_000, date(YEAR, 8, 15))
    monkeypatch.setattr(disbursements, "local_today", lambda: date(YEAR, 9, 1))  # reversed that year
    disbursements.reverse_disbursement(mistaken.id, director, director_role, reason="Chi nhầm hồ sơ")
    monkeypatch.undo()
    pay(1_000_000, date(YEAR, 9, 10), approve=False)
    db.session.commit()
    return case


def rows_received(year: int) -> int:
    """The year's money in, summed in Python from the rows themselves."""
    start, end = year_bounds_utc(year)
    return sum(d.signed_amount for d in db.session.scalars(sa.select(Donation))
               if d.status in COUNTED_STATUSES and start <= d.received_at.replace(tzinfo=start.tzinfo) < end)


def rows_spent(year: int) -> int:
    return sum(d.signed_amount for d in db.session.scalars(sa.select(Disbursement))
               if d.status in SPENT_STATUSES and d.paid_on.year == year)


def test_every_figure_reconciles_with_the_rows_and_across_outputs(client, year_of_gifts):
    period = make_period(YEAR)
    assert rows_received(YEAR) == RECEIVED and rows_spent(YEAR) == SPENT

    report = disclosure_reports.disclosure(period, public_url="https://quy.example.org/cong-khai")
    r = report.received
    assert (r.total, r.in_kind, r.money) == (RECEIVED, IN_KIND, RECEIVED - IN_KIND)
    assert sum(line.amount for line in r.by_channel) == RECEIVED == sum(line.amount for line in r.by_source)
    assert sum(g.amount for g in report.in_kind_gifts) == IN_KIND
    t = report.flows.totals
    assert (t["opening"], t["received"], t["spent"], t["closing"]) == (OPENING, RECEIVED, SPENT, CLOSING)
    assert report.spent == SPENT and str(report.children) == "< 5"
    assert [d.name for d in report.named_donors] == [ORG]  # 90M, consented; the others are below 50M

    restricted = disclosure_reports.restricted_funds(period)
    assert restricted.flows.rows == report.flows.rows

    page = client.get(f"/cong-khai/?year={YEAR}").get_data(as_text=True)
    assert f'data-testid="received">{vnd(RECEIVED)} ₫<' in page.replace("\u00a0", " ") or vnd(RECEIVED) in page
    for figure in (RECEIVED, RECEIVED - IN_KIND, IN_KIND, SPENT, OPENING, CLOSING):
        assert vnd(figure) in page, figure

    summary = client.get(f"/api/v1/summary?year={YEAR}").get_json()
    assert (summary["received"], summary["received_money"], summary["received_in_kind"], summary["spent"]) == \
        (RECEIVED, RECEIVED - IN_KIND, IN_KIND, SPENT)
    assert sum(m["received"] for m in summary["months"]) == RECEIVED
    assert sum(m["spent"] for m in summary["months"]) == SPENT
    assert summary["children_supported"] == "< 5"
    programmes = client.get(f"/api/v1/programmes?year={YEAR}").get_json()["items"]
    assert sum(p["received"] for p in programmes) == RECEIVED and sum(p["spent"] for p in programmes) == SPENT
    assert sum(p["opening"] for p in programmes) == OPENING and sum(p["closing"] for p in programmes) == CLOSING
    lines = client.get(f"/api/v1/ledger?date_from={YEAR}-01-01&date_to={YEAR}-12-31&per_page=100").get_json()
    assert sum(x["amount"] for x in lines["items"]) == RECEIVED and not lines["has_next"]
    out = client.get(f"/api/v1/money-out?year={YEAR}").get_json()
    assert out["amount"] == SPENT == sum(x["amount"] for x in out["items"])
    appeals = client.get(f"/api/v1/appeals?year={YEAR}").get_json()["items"]
    assert [(a["slug"], a["raised_in_year"]) for a in appeals] == [(SLUG, 60_000_000)]

    body = client.get(f"/cong-khai/sao-ke.csv?date_from={YEAR}-01-01&date_to={YEAR}-12-31").get_data(as_text=True)
    assert sum(int(row[1]) for row in list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))[1:]) == RECEIVED


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(" | ".join("" if v is None else str(v) for v in row)
                     for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))


# Per report: the words of its title and a figure the year above must print.
EXPECTED = {
    "disclosure": ("CÔNG KHAI TÌNH HÌNH TIẾP NHẬN", RECEIVED),
    "appeal": ("KẾT QUẢ VẬN ĐỘNG, TIẾP NHẬN VÀ PHÂN BỔ", 60_000_000),
    "action-month": ("THÁNG HÀNH ĐỘNG VÌ TRẺ EM", 2_500_000),  # 1–30 June
    "restricted-funds": ("TÌNH HÌNH CÁC QUỸ HẠN CHẾ", CLOSING),
    "donors": ("PHÂN TÍCH NHÀ HẢO TÂM", 90_000_000),
}


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
@pytest.mark.parametrize("name", catalogue.NAMES)
def test_the_cli_prints_every_report_in_every_format(runner, tmp_path, year_of_gifts, name, fmt):
    output = tmp_path / f"{name}.{fmt}"
    args = ["reports", name, "--year", str(YEAR), "--format", fmt, "--output", str(output)]
    if name == "appeal":
        args += ["--appeal", SLUG]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    data = output.read_bytes()
    title, figure = EXPECTED[name]
    if fmt == "pdf":
        assert data.startswith(b"%PDF")
        text = pdf_text(data)
        assert title in " ".join(text.split()) and vnd(figure) in text
        assert "Trang 1/" in text and ("Nơi nhận" in text or name == "donors")  # donors: internal
    elif fmt == "xlsx":
        text = xlsx_text(data)
        assert title in text and str(figure) in text
    else:
        text = data.decode("utf-8-sig")
        assert title in text and str(figure) in text
    if name != "donors":  # the internal donor analysis names donors; the others never a private one
        assert PRIVATE not in text
    assert "Bí Mật" not in text or name == "donors"


def test_the_cli_refuses_bad_input_with_a_message(runner, tmp_path, year_of_gifts):
    out = str(tmp_path / "x.pdf")
    cases = [
        (["disclosure", "--year", "1999"], "Năm phải từ 2000"),
        (["disclosure", "--year", str(YEAR), "--from", f"{YEAR}-05-01", "--to", f"{YEAR}-04-01"], "đảo ngược"),
        (["disclosure", "--year", str(YEAR), "--from", f"{YEAR - 1}-05-01"], f"trong năm {YEAR}"),
        (["appeal", "--year", str(YEAR)], "--appeal SLUG"),
        (["appeal", "--year", str(YEAR), "--appeal", "khong-co"], "khong-co"),
        (["donors", "--year", str(YEAR), "--appeal", SLUG], "only for the `appeal` report"),
        (["donors", "--year", str(YEAR), "--frozen", "BC-1999-CK-01"], "BC-1999-CK-01"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["reports", *args, "--format", "pdf", "--output", out])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), args
    assert not (tmp_path / "x.pdf").exists()


def test_a_closed_year_freezes_numbered_immutable_and_is_served_again_exactly(client, runner, tmp_path,
                                                                              year_of_gifts):
    director, _role = staff(Role.DIRECTOR)
    period = make_period(YEAR)
    first = freezing.freeze("disclosure", period, director)
    assert first.number == f"BC-{YEAR}-CK-01"
    assert first.pdf_sha256 == hashlib.sha256(first.pdf).hexdigest()
    assert f"Số: {first.number}" in pdf_text(first.pdf)
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "report.freeze")).one()
    assert entry.after["number"] == first.number and entry.after["pdf_sha256"] == first.pdf_sha256
    frozen_bytes = first.pdf

    # Later corrections to that year do not change what was published.
    factories.donation(factories.donor("Người ủng hộ muộn"), 4_000_000, received_at=at(12, 30))
    served = client.get(f"/cong-khai/bao-cao/{YEAR}.pdf")
    assert served.status_code == 200 and served.data == frozen_bytes
    assert f"Bản đã chốt số {first.number}" in client.get(f"/cong-khai/?year={YEAR}").get_data(as_text=True)
    assert catalogue.export("disclosure", period, "pdf").data != frozen_bytes  # today's figures differ
    output = tmp_path / "frozen.pdf"
    result = runner.invoke(args=["reports", "disclosure", "--year", str(YEAR), "--format", "pdf",
                                 "--output", str(output), "--frozen", first.number])
    assert result.exit_code == 0, result.output
    assert output.read_bytes() == frozen_bytes
    assert str(RECEIVED) in freezing.export_frozen(first, "csv").data.decode("utf-8-sig")

    # Immutable: neither the ORM nor plain SQL can change it; a new freeze is a new number.
    first_id = first.id
    first.title = "Đã sửa"
    with pytest.raises(RuntimeError, match="frozen"):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.text("UPDATE frozen_reports SET pdf_sha256 = 'x' WHERE id = :i"), {"i": first_id})
        db.session.commit()
    db.session.rollback()
    second = freezing.freeze("disclosure", period, director)
    assert second.number == f"BC-{YEAR}-CK-02" and second.pdf != frozen_bytes
    assert db.session.get(FrozenReport, first_id).pdf == frozen_bytes
    assert client.get(f"/cong-khai/bao-cao/{YEAR}.pdf").data == second.pdf  # the latest publication


def test_an_open_year_cannot_be_frozen(year_of_gifts):
    director, _role = staff(Role.DIRECTOR)
    this_year = local_today().year
    with pytest.raises(Conflict, match="chưa kết thúc"):
        freezing.freeze("disclosure", make_period(this_year), director)
    db.session.rollback()
    with pytest.raises(Conflict):
        freezing.freeze("restricted-funds", make_period(this_year, local_today() - timedelta(days=3),
                                                        local_today()), director)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FrozenReport)) == 0

"""Every spreadsheet export (donation list CSV/XLSX, commendation CSV/XLSX, live and frozen):
no donor-typed text becomes a formula; CSV responses carry one charset; the donation XLSX
has date cells, a print layout and totals that add up with what it lists."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.models import CommendationSubmission, Role
from app.extensions import db
from app.renderers import spreadsheet
from app.services.donations.ledger import reverse_donation
from app.timeutil import local_to_utc
from tests import factories

HOSTILE_ORG = '=HYPERLINK("http://x","y")'
HOSTILE_PERSON = "+1-2"
HOSTILE_NOTE = "@SUM(A1:A9)"


@pytest.fixture
def hostile():
    """Donors whose names a spreadsheet would run; both above the commendation threshold
    for 2023, one with a reversal (a negative amount in the donation list)."""
    org = factories.organization(HOSTILE_ORG, tax_code="0201234567")
    person = factories.donor(HOSTILE_PERSON, address="-Lê Chân")
    when = local_to_utc(datetime(2023, 6, 1, 9))
    factories.donation(org, 120_000_000, received_at=when, issue_receipt=False, note=HOSTILE_NOTE)
    gift = factories.donation(person, 60_000_000, received_at=when, issue_receipt=False)
    reverse_donation(gift.id, factories.SYSTEM, reason="=cmd|' /C calc'!A0", amount=5_000_000)
    return org, person


def _frozen_submission_id(client) -> int:
    assert client.post("/staff/commendation/2023/freeze", data={"confirm": "y"}).status_code == 302
    return db.session.scalar(sa.select(CommendationSubmission.id))


EXPORTS = {
    "donations.csv": lambda client: "/staff/donations/export.csv",
    "donations.xlsx": lambda client: "/staff/donations/export.xlsx",
    "commendation.csv": lambda client: "/staff/commendation/2023/export.csv",
    "commendation.xlsx": lambda client: "/staff/commendation/2023/export.xlsx",
    "submission.csv": lambda client: f"/staff/commendation/submissions/{_frozen_submission_id(client)}/export.csv",
    "submission.xlsx": lambda client: f"/staff/commendation/submissions/{_frozen_submission_id(client)}/export.xlsx",
}


def _is_number(field: str) -> bool:
    return field.lstrip("-").isdigit()


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_no_export_writes_a_formula(client, login_as, hostile, export):
    login_as(Role.DIRECTOR)
    response = client.get(EXPORTS[export](client))
    assert response.status_code == 200, export
    if export.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        fields = [field for row in rows for field in row]
        assert "'" + HOSTILE_ORG in fields and "'" + HOSTILE_PERSON in fields
        for field in fields:
            assert _is_number(field) or not field.startswith(spreadsheet.FORMULA_PREFIXES), field
        if export.startswith("donations"):
            assert "'" + HOSTILE_NOTE in fields and "-5000000" in fields  # the reversal, a number
    else:
        sheet = load_workbook(io.BytesIO(response.data)).active
        cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
        assert all(cell.data_type != "f" for cell in cells), [c.value for c in cells if c.data_type == "f"]
        texts = [cell.value for cell in cells if isinstance(cell.value, str)]
        assert any(HOSTILE_ORG in text for text in texts) and any(HOSTILE_PERSON in text for text in texts)
        risky = [cell for cell in cells if isinstance(cell.value, str) and spreadsheet.is_formula_like(cell.value)]
        assert risky and all(cell.quotePrefix for cell in risky)
        if export.startswith("donations"):
            assert -5_000_000 in [cell.value for cell in cells]  # negative amounts stay numbers


def test_csv_values_keep_numbers_and_dates():
    assert spreadsheet.csv_value(-500_000) == -500_000
    assert spreadsheet.csv_value("-500.000 ₫") == "'-500.000 ₫"
    assert spreadsheet.csv_value("\tx") == "'\tx" and spreadsheet.csv_value("\rx") == "'\rx"
    assert spreadsheet.csv_value("Nguyễn Văn An") == "Nguyễn Văn An"
    assert spreadsheet.csv_value(datetime(2024, 6, 1, 0, 30)) == "01/06/2024 00:30"
    assert spreadsheet.csv_value(None) == ""
    with pytest.raises(ValueError):
        spreadsheet.csv_value(datetime(2024, 6, 1, tzinfo=local_to_utc(datetime(2024, 6, 1)).tzinfo))


@pytest.mark.parametrize("url", [
    "/staff/donations/export.csv",
    "/staff/commendation/2023/export.csv",
    "submission",
])
def test_csv_responses_carry_one_charset(client, login_as, hostile, url):
    login_as(Role.DIRECTOR)
    if url == "submission":
        url = EXPORTS["submission.csv"](client)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


@pytest.fixture
def many_donations():
    donor = factories.donor("Phạm Thị Thu Hường")
    for index in range(60):
        factories.donation(donor, 100_000 * (index + 1), issue_receipt=False,
                           received_at=local_to_utc(datetime(2024, 6, 1 + index % 28, 23, 30)))
    factories.donation(donor, 300_000, confirm=False)  # pending: listed, not counted
    return donor


def test_donation_xlsx_has_dates_print_layout_and_totals_that_add_up(client, login_as, many_donations):
    login_as(Role.ACCOUNTANT)
    sheet = load_workbook(io.BytesIO(client.get("/staff/donations/export.xlsx").data)).active
    rows = list(sheet.iter_rows(min_row=2))
    data = [row for row in rows if isinstance(row[0].value, int)]
    assert len(data) == 61
    # Times are date cells in local time: 23:30 on 1 June in Hải Phòng, whatever UTC says.
    first = data[0][1]
    assert first.is_date and first.value == datetime(2024, 6, 1, 23, 30)
    assert first.number_format == "dd/mm/yyyy hh:mm"
    # Totals: the first equals the sum of the listed amounts, the second is the net.
    listed, net = rows[-2], rows[-1]
    assert listed[0].value == "Tổng cộng các dòng trên"
    assert listed[6].value == sum(row[6].value for row in data)
    assert net[0].value.startswith("Trong đó thực thu") and net[6].value == listed[6].value - 300_000
    # Print layout: landscape A4, one page wide, the heading row on every page.
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$1:$1"

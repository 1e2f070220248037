"""Bad input enters once and is refused there (issue 12, items 14 and 15): a NUL byte
anywhere is a 400; ids beyond PostgreSQL's integer and absurd dates are 404/400, never 500."""
from __future__ import annotations

import io

import pytest

from app.models import Role
from app.params import parse_date, parse_id, parse_page, parse_year
from tests import factories


@pytest.mark.parametrize("method,url,kwargs", [
    ("get", "/staff/donations?q=a%00b", {}),
    ("get", "/staff/donors/%00", {}),
    ("get", "/staff/donations%00", {}),
    ("get", "/staff/audit?actor=%00", {}),
    ("post", "/staff/donors/new", {"data": {"name": "An\x00", "kind": "individual"}}),
    ("post", "/staff/appeals/new", {"data": {"title\x00": "x"}}),
    ("post", "/staff/donations/import", {"data": {"file": (io.BytesIO(b"x"), "a\x00.csv")},
                                         "content_type": "multipart/form-data"}),
    ("post", "/donate", {"json": {"name": ["x\x00"]}}),
])
def test_nul_anywhere_is_a_400_with_a_message(client, login_as, method, url, kwargs):
    login_as(Role.ADMIN)
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 400
    assert "ký tự không hợp lệ (NUL)" in response.get_data(as_text=True)


def test_nul_on_a_public_page_and_json_path(client):
    assert client.get("/?x=%00").status_code == 400
    response = client.get("/payments/x%00", headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.is_json


@pytest.mark.parametrize("url", [
    "/staff/donations/2147483648", "/staff/donors/99999999999999999999", "/staff/receipts/2147483648",
    "/staff/donations/0",
])
def test_ids_beyond_a_database_integer_are_404(client, login_as, url):
    login_as(Role.ADMIN)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("query", [
    "donor_id=2147483648", "appeal_id=99999999999", "programme_id=-1", "page=2147483648",
    "page=99999999999999999999999", "date_from=0001-01-01", "date_to=9999-12-31", "amount_min=%C2%B2",
    "donor_id=%C2%B2", "page=%C2%B2",
])
def test_donation_list_query_arguments_are_bounded(client, login_as, query):
    login_as(Role.ADMIN)
    factories.donation(factories.donor(), 100_000)
    for path in ("/staff/donations", "/staff/donations/export.csv", "/staff/donations/export.xlsx"):
        assert client.get(f"{path}?{query}").status_code == 200, (path, query)


@pytest.mark.parametrize("url", [
    "/staff/donors?year=2147483648&page=2147483648", "/staff/donors?year=%C2%B2",
    "/staff/donations/summary?year=%C2%B2", "/staff/commendation?year=99999999999",
    "/staff/receipts?year=%C2%B2&page=99999999999", "/staff/online-donations?page=99999999999",
    "/staff/cases?programme=99999999999", "/staff/audit?date_from=0001-01-01&date_to=0001-01-01&page=2147483648",
])
def test_other_lists_bound_their_arguments(client, login_as, url):
    login_as(Role.ADMIN)
    assert client.get(url).status_code in (200, 302, 404)  # 404: a year without a list


def test_form_dates_and_ids_are_bounded(client, login_as):
    login_as(Role.ADMIN)
    donor = factories.donor()
    response = client.post("/staff/donations/new", data={
        "donor_id": str(donor.id), "amount": "100000", "channel": "cash", "received_on": "0001-01-01",
        "received_time": "10:00", "programme_id": "1"})
    assert response.status_code == 422
    assert "01/01/1900" in response.get_data(as_text=True)
    response = client.post(f"/staff/donors/{donor.id}/merge", data={"other_id": "2147483648"})
    assert response.status_code in (400, 422)


@pytest.mark.nodb
def test_parsers():
    assert parse_id("2147483647") == 2**31 - 1 and parse_id("2147483648") is None
    assert parse_id("²") is None and parse_id("-3") is None and parse_id(None) is None
    assert parse_page("0") == 1 and parse_page("x") == 1 and parse_page("7") == 7
    assert parse_year("1999", 2024) == 2024 and parse_year("2025", 2024) == 2025
    with pytest.raises(ValueError):
        parse_date("0001-01-01")
    assert parse_date("") is None


def test_an_absurdly_long_search_is_a_400(client, login_as):
    login_as(Role.ADMIN)
    response = client.get("/staff/donors?q=" + "x" * 70_000)
    assert response.status_code == 400 and "quá dài" in response.get_data(as_text=True)
    assert client.get("/staff/donors?q=" + "x" * 500).status_code == 200


def test_digit_checks_before_int_accept_only_what_int_reads():
    """"²".isdigit() is True but int("²") raises: a check with isdigit() before int() turns a
    superscript in a form or query into a 500. Use isdecimal(), or isascii() with isdigit()."""
    from pathlib import Path

    app_dir = Path(__file__).resolve().parent.parent / "app"
    offenders = [f"{path.relative_to(app_dir)}:{n}" for path in app_dir.rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if ".isdigit()" in line and "isascii()" not in line]
    assert offenders == []
    assert not "²".isdecimal() and "²".isdigit()  # why isdecimal() is the safe check

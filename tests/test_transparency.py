"""/cong-khai and /api/v1: bad input is a 400 with a message (JSON on the API), never a 500;
a donor finds their own gift by its receipt number or its transfer code, and sees one line."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Receipt, TransferPledge
from app.services.bank.transfers import sepay_payload
from app.timeutil import local_today
from tests import bank_helpers as bh
from tests import factories

THIS_YEAR = local_today().year
PAGE_CASES = [
    ("/cong-khai/?year=1999", "Năm phải từ 2000"),
    (f"/cong-khai/?year={THIS_YEAR + 1}", "Năm phải từ 2000"),
    ("/cong-khai/?year=hai-nghin", "Năm không hợp lệ"),
    ("/cong-khai/?nam=2025", "Bộ lọc không được hỗ trợ: nam"),
    ("/cong-khai/sao-ke?date_from=2025-05-01&date_to=2025-04-01", "đảo ngược"),
    ("/cong-khai/sao-ke?date_from=1899-01-01", "ngoài khoảng"),
    ("/cong-khai/sao-ke?date_from=2025-02-30", "ngày không hợp lệ"),
    ("/cong-khai/sao-ke?page=100000", "Số trang phải là số nguyên từ 1 đến 1000"),
    ("/cong-khai/sao-ke?page=0", "Số trang"),
    ("/cong-khai/sao-ke?page=-3", "Số trang"),
    ("/cong-khai/sao-ke?page=²", "Số trang"),  # a digit to str.isdigit(), not to int()
    ("/cong-khai/sao-ke?per_page=1000000", "Số dòng mỗi trang"),
    ("/cong-khai/sao-ke?amount_min=5000000&amount_max=100", "Khoảng số tiền bị đảo ngược"),
    ("/cong-khai/sao-ke?amount_min=nhieu", "Số tiền từ"),
    ("/cong-khai/sao-ke?channel=bitcoin", "Hình thức không hợp lệ"),
    ("/cong-khai/sao-ke?name=0912345678", "chỉ nhập chữ"),
    ("/cong-khai/sao-ke?order=amount", "Bộ lọc không được hỗ trợ: order"),
    ("/cong-khai/sao-ke.csv?date_from=2025-05-01&date_to=2025-04-01", "đảo ngược"),
    ("/cong-khai/chi?year=1999", "Năm phải từ 2000"),
    ("/cong-khai/chi?programme=khong-co", "Không có chương trình"),
    ("/cong-khai/chi?per_page=0", "Số dòng mỗi trang"),
    ("/cong-khai/tra-cuu?email=a@b.c", "Chỉ tra cứu theo"),
    ("/cong-khai/bao-cao/1999.pdf", "Năm phải từ 2000"),
]
API_CASES = [
    "/api/v1/summary?year=1999", "/api/v1/summary?year=abc", "/api/v1/summary?filter=1",
    "/api/v1/summary?year=", "/api/v1/appeals?year=3000", "/api/v1/programmes?year=-1",
    "/api/v1/ledger?date_from=2025-05-01&date_to=2025-04-01", "/api/v1/ledger?page=1001",
    "/api/v1/ledger?per_page=101", "/api/v1/ledger?per_page=0", "/api/v1/money-out?page=²", "/api/v1/ledger?channel=x",
    "/api/v1/ledger?amount_max=-5", "/api/v1/ledger?sort=amount", "/api/v1/ledger?name=a%40b",
    "/api/v1/money-out?programme=khong-co", "/api/v1/money-out?year=1999&page=2",
    "/api/v1/money-out?page=99999999999999999999",
]


@pytest.mark.parametrize("url, message", PAGE_CASES)
def test_bad_input_on_the_public_pages_is_a_400_with_a_message(client, url, message):
    response = client.get(url)
    assert response.status_code == 400, url
    assert message in response.get_data(as_text=True), url


@pytest.mark.parametrize("url", API_CASES)
def test_bad_input_on_the_api_is_a_json_400(client, url):
    response = client.get(url)
    assert response.status_code == 400, url
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == 400 and len(body["error"]) > 5, body


def test_good_input_on_the_same_endpoints_is_answered(client):
    for url in ("/cong-khai/", "/cong-khai/sao-ke?date_from=&date_to=&name=", "/cong-khai/chi", "/cong-khai/tra-cuu",
                "/api/v1/summary", "/api/v1/ledger?page=1000&per_page=100", "/api/v1/money-out?programme=heart"):
        assert client.get(url).status_code == 200, url


@pytest.fixture
def secrets(app, monkeypatch):
    for name, value in bh.BANK_SECRETS.items():
        monkeypatch.setitem(app.config, name, value)


def test_a_donor_finds_their_gift_by_transfer_code_and_sees_only_that_line(client, secrets):
    bh.account()
    other = factories.donor("Nguyễn Văn Khác", public_listing_consent=True)
    factories.donation(other, 3_000_000, received_at=datetime.now(timezone.utc) - timedelta(days=1))
    form = {"method": "transfer", "kind": "individual", "name": "Phạm Thu Trang", "email": "trang@example.com",
            "phone": "0912345678", "preset": "", "custom_amount": "75.000.000", "designation": "general",
            "currency": "VND"}
    assert client.post("/donate", data=form).status_code == 303
    pledge = db.session.scalars(sa.select(TransferPledge).order_by(TransferPledge.id.desc())).first()

    before = client.get(f"/cong-khai/tra-cuu?q={pledge.code}").get_data(as_text=True)
    assert "Chưa ghi nhận khoản chuyển khoản nào" in before and 'data-testid="found-gift"' not in before

    body = json.dumps(sepay_payload(pledge, txn_id=77)).encode()
    assert client.post("/payments/sepay/webhook", data=body, headers=bh.sepay_headers()).status_code == 200
    db.session.expire_all()
    receipt = db.session.scalars(sa.select(Receipt)).all()[-1]
    for typed in (pledge.code, pledge.code.lower(), f" {pledge.code[:4]}-{pledge.code[4:]} "):
        page = client.get("/cong-khai/tra-cuu", query_string={"q": typed}).get_data(as_text=True)
        assert 'data-testid="found-gift"' in page, typed
        assert pledge.code in page and receipt.number in page and "75.000.000" in page
        assert "Đã được ghi nhận vào sao kê" in page
        # The donor did not consent to public listing: not even their own name is shown,
        # nor their contact details, nor anyone else.
        for secret in ("Phạm Thu Trang", "trang@example.com", "0912345678", "Nguyễn Văn Khác", "3.000.000"):
            assert secret not in page, secret
    by_receipt = client.get(f"/cong-khai/tra-cuu?receipt={receipt.number}").get_data(as_text=True)
    assert pledge.code not in by_receipt and receipt.number in by_receipt and "75.000.000" in by_receipt

    wrong_check = pledge.code[:-1] + ("2" if pledge.code[-1] != "2" else "3")
    page = client.get(f"/cong-khai/tra-cuu?q={wrong_check}").get_data(as_text=True)
    assert 'data-testid="found-gift"' not in page and "Không tìm thấy" in page

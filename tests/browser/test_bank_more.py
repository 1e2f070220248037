"""Issue 13 in Chromium: an anonymous transfer (no name, no e-mail) on a phone and on a
desktop, received through a signed SePay notification, with its receipt on the transfer
page; and an admin defining a statement layout and trying it on a file."""
import os
import re
import tempfile

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import BankLayout, Receipt, Role
from tests import bank_helpers as bh
from tests import bank_statements as gen
from tests import factories
from tests.browser.helpers import notify_transfer, sign_in

SHOTS = os.environ.get("SCREENSHOT_DIR", tempfile.gettempdir())


def _notify(live_server, code: str, txn: int, amount: int) -> None:
    notify_transfer(live_server, txn, f"IBFT {code} ung ho", amount)


@pytest.mark.parametrize("width, height, txn", [(390, 844, 770001), (1366, 900, 770002)])
def test_an_anonymous_transfer_is_received_and_its_receipt_downloadable(browser, live_server, width, height, txn):
    if not db.session.scalar(sa.select(sa.func.count()).select_from(bh.BankAccount)):
        bh.account()
    db.session.commit()
    context = browser.new_context(locale="vi-VN", viewport={"width": width, "height": height},
                                  is_mobile=width < 500)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/donate")
        page.get_by_label("Chuyển khoản / VietQR").check()
        page.get_by_label("Số tiền khác (đồng)").fill("250.000")
        assert page.get_by_text("để trống cả họ tên và email").is_visible()
        page.screenshot(path=f"{SHOTS}/bank-anon-form-{width}.png", full_page=True)
        page.get_by_role("button", name="Tiếp tục thanh toán").click()
        page.wait_for_url(re.compile(r"/donate/transfer/"))
        code = page.get_by_test_id("transfer-code").inner_text()
        assert page.get_by_text("chỉ có trên trang này").is_visible()
        page.screenshot(path=f"{SHOTS}/bank-anon-pending-{width}.png", full_page=True)

        _notify(live_server, code, txn, 250_000)
        page.reload()
        assert page.get_by_role("heading", name="Đã nhận — cảm ơn Quý vị!").is_visible()
        number = page.get_by_test_id("receipt-number").inner_text()
        db.session.expire_all()
        assert number in db.session.scalars(sa.select(Receipt.number)).all()
        db.session.commit()
        assert page.get_by_text("Nhà hảo tâm ẩn danh").first.is_visible()
        page.screenshot(path=f"{SHOTS}/bank-anon-received-{width}.png", full_page=True)
        href = page.get_by_role("link", name="Tải giấy chứng nhận (PDF)").get_attribute("href")
        pdf = page.request.get(live_server.url + href)
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    finally:
        context.close()


def test_admin_defines_a_layout_and_tries_it_on_a_file(page, live_server):
    factories.user(Role.ADMIN.value, email="quantri.layout@example.org", name="Lê Quản Trị")
    sign_in(page, live_server.url, "quantri.layout@example.org")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + "/staff/bank")
    page.get_by_role("link", name="Mẫu sao kê").click()
    page.get_by_role("link", name="Thêm mẫu").click()
    page.get_by_label("Tên mẫu (dùng với --layout TÊN)").fill("acb-browser")
    page.get_by_label("Tên hiển thị (ví dụ: ACB)").fill("ACB")
    page.get_by_label("Một cột số tiền có dấu (âm là tiền ra)").check()
    page.get_by_label("Cột ngày giao dịch", exact=True).fill("ngay gd")
    page.get_by_label("Cột số tiền có dấu (âm là tiền ra)", exact=True).fill("so tien")
    page.get_by_label("Cột nội dung", exact=True).fill("dien giai")
    page.get_by_label("Cột số tham chiếu", exact=True).fill("D")
    cells = [["ACB - SAO KÊ TÀI KHOẢN"], ["Số tài khoản: 0011001234567"], [],
             ["Ngày GD", "Diễn giải", "Số tiền", "Số CT"],
             ["20/11/2026", "ung ho hoc bong", "1.000.000", "AC1"], ["21/11/2026", "phi sms", "-5.000,50", "AC2"],
             ["22/11/2026", "ung ho", "300.000", "AC3"]]
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        handle.write(gen.csv_bytes(cells))
    page.get_by_label("Thử với tệp sao kê (XLSX hoặc CSV)").set_input_files(handle.name)
    page.get_by_role("button", name="Thử với tệp", exact=True).click()
    page.get_by_test_id("layout-preview").wait_for()
    assert page.get_by_text("Dòng 6: số tiền").is_visible()
    assert page.get_by_role("cell", name="ung ho hoc bong").is_visible()
    page.screenshot(path=f"{SHOTS}/bank-layout-preview-1366.png", full_page=True)
    page.get_by_role("button", name="Lưu mẫu").click()
    page.get_by_text("Đã lưu mẫu sao kê “acb-browser”.").wait_for()
    page.screenshot(path=f"{SHOTS}/bank-layouts-list-1366.png", full_page=True)
    db.session.expire_all()
    assert db.session.scalars(sa.select(BankLayout.name)).all() == ["acb-browser"]
    db.session.commit()

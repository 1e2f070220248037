"""A donor chooses transfer; the QR on the page decodes to the right account, amount and
code; a signed SePay notification arrives; the page shows the gift received and its receipt."""
import io
import re

import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.adapters import vietqr
from app.extensions import db
from app.models import Receipt, TransferPledge
from tests import bank_helpers as bh
from tests.browser.helpers import notify_transfer


def test_donor_transfers_by_vietqr_and_sees_the_receipt(browser, live_server):
    bh.account()
    db.session.commit()
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/donate")
        page.get_by_label("Chuyển khoản / VietQR").check()
        page.get_by_label("Số tiền khác (đồng)").fill("60.000.000")  # above the card limit
        page.get_by_label("Họ và tên / Tên tổ chức").fill("Đỗ Minh Quân")
        page.get_by_label("Email (để nhận giấy chứng nhận)").fill("quan@example.com")
        page.get_by_role("button", name="Tiếp tục thanh toán").click()
        page.wait_for_url(re.compile(r"/donate/transfer/"))
        code = page.get_by_test_id("transfer-code").inner_text()
        assert page.get_by_test_id("account-number").inner_text() == "0011001234567"
        assert page.get_by_test_id("amount").inner_text() == "60.000.000\u00a0₫"
        page.get_by_role("button", name="Sao chép").first.wait_for()  # copy buttons shown by transfer.js
        shot = page.locator("img.transfer-qr").screenshot()
        (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
        qr = vietqr.decode(found.text)
        assert (qr.bank_bin, qr.account, qr.amount, qr.memo) == ("970436", "0011001234567", 60_000_000, code)

        db.session.expire_all()
        pledge = db.session.scalars(sa.select(TransferPledge)).one()
        db.session.commit()
        notify_transfer(live_server, 555001, f"MBVCB.123.{code[:5]} {code[5:]}.DO MINH QUAN", 60_000_000)

        page.reload()
        assert page.get_by_role("heading", name="Đã nhận — cảm ơn Quý vị!").is_visible()
        number = page.get_by_test_id("receipt-number").inner_text()
        db.session.expire_all()
        assert number == db.session.scalars(sa.select(Receipt.number)).one()
        assert db.session.get(TransferPledge, pledge.id).status == "received"
        db.session.commit()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path="/tmp/bank-transfer-received.png", full_page=True)
    finally:
        context.close()

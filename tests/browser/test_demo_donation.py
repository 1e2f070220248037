import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Receipt
from tests import factories


def test_a_phone_user_gives_a_demo_donation_from_home_to_receipt(browser, live_server):
    factories.appeal("trai-tim-cho-em", title="Trái tim cho em", status="open", is_public=True,
                     goal_amount=100_000_000)
    db.session.commit()
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.get_by_role("link", name="Ủng hộ chiến dịch này").click()
        page.wait_for_url(re.compile(r"/donate\?appeal=trai-tim-cho-em$"))
        page.get_by_text("200.000 ₫", exact=True).click()
        page.get_by_label("Họ và tên / Tên tổ chức").fill("Vũ Thị Hạnh")
        page.get_by_label("Email (để nhận giấy chứng nhận)").fill("hanh@example.com")
        page.get_by_role("button", name="Tiếp tục thanh toán").click()

        assert page.get_by_text("Chế độ thử nghiệm — không trừ tiền").is_visible()
        assert page.get_by_test_id("demo-amount").inner_text() == "200.000\u00a0₫"
        page.get_by_role("button", name="Thanh toán").click()

        page.wait_for_url(re.compile(r"/donate/return\?session_id=cs_demo_"))
        number = page.get_by_test_id("receipt-number").inner_text()
        assert page.get_by_role("heading", name="Cảm ơn Quý vị đã ủng hộ!").is_visible()
        db.session.expire_all()
        assert number == db.session.scalars(sa.select(Receipt.number)).one()
        db.session.commit()  # SQLite: give the write lock back to the server thread

        page.goto(live_server.url + "/")
        assert page.get_by_test_id("appeal-trai-tim-cho-em").get_by_test_id("raised").inner_text() == "200.000\u00a0₫"
    finally:
        context.close()

"""A donor signs in through the link in a received e-mail (Chromium, real SMTP server)."""
from __future__ import annotations

import time


from tests import factories
from tests.account_helpers import link_in
from tests.browser.helpers import start_mail_inbox


def test_donor_signs_in_through_the_mailed_link(page, live_server, tmp_path):
    donor = factories.donor("Hoàng Thị Lan", email="lan.hoang@example.com")
    factories.donation(donor, 750_000)
    inbox, stop_mail = start_mail_inbox(live_server.app)
    try:
        page.goto(live_server.url + "/")
        page.get_by_role("link", name="Tài khoản").click()
        page.get_by_label("Email").fill("  Lan.Hoang@Example.COM ")
        page.get_by_role("button", name="Gửi đường dẫn đăng nhập").click()
        page.get_by_test_id("link-sent").wait_for()
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        [mail] = inbox.messages
        assert mail["To"] == "lan.hoang@example.com"
        link = link_in(mail, "/tai-khoan/dang-nhap/").replace("http://localhost", live_server.url)
        page.goto(link)
        page.get_by_role("button", name="Đăng nhập").click()
        page.get_by_test_id("donor-name").wait_for()
        assert page.get_by_test_id("donor-name").inner_text() == "Hoàng Thị Lan"
        assert "750.000\u00a0₫" in page.get_by_test_id("gifts").inner_text()
        page.screenshot(path=str(tmp_path / "account.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(tmp_path / "account-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        # The same link a second time: a clear page, no new session.
        page.get_by_role("button", name="Đăng xuất").click()
        page.goto(link)
        assert "đã được sử dụng" in page.get_by_test_id("link-invalid").inner_text()
        page.goto(live_server.url + "/staff/")
        assert "/auth/login" in page.url
    finally:
        stop_mail()

"""A donor starts monthly giving by transfer on /donate (phone width), reads the code and
the QR, the first transfer arrives, the account shows the pledge with its QR (desktop and
phone), the reminder of the next month arrives over SMTP with the QR, and the donor cancels.
Screenshots go to $SCREENSHOTS (or the test's tmp folder)."""
import io
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.adapters import vietqr
from app.extensions import db
from app.models import RecurringGift
from app.services.accounts import signin
from app.services.bank import standing
from tests import bank_helpers as bh
from tests.browser.helpers import notify_transfer, sign_in, start_mail_inbox


def test_donor_gives_monthly_by_transfer_and_cancels(browser, live_server, tmp_path):
    shots = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    bh.account()
    db.session.commit()
    inbox, stop_mail = start_mail_inbox(live_server.app)
    phone = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.set_default_timeout(15_000)
    page = phone.new_page()
    try:
        page.goto(live_server.url + "/donate")
        page.get_by_label("Chuyển khoản / VietQR").check()
        page.get_by_label("Hằng tháng (chuyển khoản)").check()
        page.get_by_label("Số tiền khác (đồng)").fill("300.000")
        page.get_by_label("Họ và tên / Tên tổ chức").fill("Vũ Thị Hạnh")
        page.get_by_label("Email (để nhận giấy chứng nhận)").fill("hanh@example.com")
        page.screenshot(path=str(shots / "donate-monthly-390.png"), full_page=True)
        page.get_by_role("button", name="Tiếp tục thanh toán").click()
        page.wait_for_url(re.compile(r"/donate/transfer/"))
        assert "Ủng hộ hằng tháng 300.000\u00a0₫" in page.get_by_role("heading", level=1).inner_text()
        code = page.get_by_test_id("transfer-code").inner_text()
        shot = page.locator("img.transfer-qr").screenshot()
        (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
        qr = vietqr.decode(found.text)
        assert (qr.account, qr.amount, qr.memo) == ("0011001234567", 300_000, code)
        page.screenshot(path=str(shots / "standing-transfer-390.png"), full_page=True)

        # The first month's transfer (the bank app's standing order), signed like SePay's.
        notify_transfer(live_server, 777001, f"CK DINH KY {code} VU THI HANH", 300_000, when="2026-12-02 09:15:00")
        page.reload()
        assert "12/2026" in page.get_by_test_id("standing-months").inner_text()
        assert page.get_by_test_id("standing-status").inner_text() == "Đang ủng hộ"
        page.screenshot(path=str(shots / "standing-received-390.png"), full_page=True)

        # The account, through a sign-in link.
        token = signin.new_token(signin.SIGN_IN, "hanh@example.com", 15)
        db.session.commit()
        page.goto(live_server.url + f"/tai-khoan/dang-nhap/{token}")
        page.get_by_role("button", name="Đăng nhập").click()
        page.get_by_test_id("waiting-standing").wait_for()
        assert code in page.get_by_test_id("waiting-standing").inner_text()
        page.screenshot(path=str(shots / "account-390.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
        page.screenshot(path=str(shots / "account-1366.png"), full_page=True)

        # Next month's reminder, as received over SMTP, with the QR attached.
        db.session.expire_all()
        gift = db.session.scalars(sa.select(RecurringGift)).one()
        gift_id = gift.id
        db.session.commit()
        with live_server.app.app_context():
            run = standing.run_monthly(datetime(2027, 1, 20, 3, tzinfo=timezone.utc), lapse_after=3)
        assert run.reminded == [gift_id]
        deadline = time.monotonic() + 10
        while not any("Nhắc" in (m["Subject"] or "") for m in inbox.messages) and time.monotonic() < deadline:
            time.sleep(0.05)
        [mail] = [m for m in inbox.messages if "Nhắc" in m["Subject"]]
        (shots / "reminder.eml").write_bytes(bytes(mail))
        [png] = [p for p in mail.iter_attachments() if p.get_content_type() == "image/png"]
        (shots / "reminder-qr.png").write_bytes(png.get_content())
        assert code in mail.get_body(("plain",)).get_content()

        page.goto(live_server.url + "/tai-khoan/hang-thang")
        page.screenshot(path=str(shots / "monthly-1366.png"), full_page=True)
        page.get_by_role("button", name="Hủy ủng hộ hằng tháng").click()
        assert "hủy cả lệnh chuyển tiền định kỳ" in page.locator(".alert").first.inner_text()
        assert "Đã hủy" in page.get_by_test_id("monthly").inner_text()
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / "monthly-cancelled-390.png"), full_page=True)
    finally:
        stop_mail()
        phone.close()


def test_accountant_pauses_a_bank_pledge_on_the_donors_request(browser, live_server, tmp_path):
    from app.models import Role
    from app.services.audit import Actor
    from app.services.donations.online import DonationRequest
    from tests import factories

    shots = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    bh.account()
    gifts = []
    for name, email, amount in (("Trần Văn Bình", "binh@example.com", 500_000),
                                ("Công ty TNHH Cảng Xanh", "ketoan@cangxanh.vn", 5_000_000)):
        donor = factories.donor(name, email=email)
        gifts.append(standing.start_standing(
            DonationRequest(kind="individual", name=name, email=email, amount=amount), Actor.system("tests"),
            donor=donor, minimum=50_000, maximum=20_000_000, expiry_days=14))
    lapsed_id, active_id = gifts[1].id, gifts[0].id
    gift = db.session.get(RecurringGift, lapsed_id)  # as if set up in the summer, never paid
    gift.due_from = standing.add_months(gift.due_from, -4)
    gift.started_at = datetime(2026, 7, 5, tzinfo=timezone.utc)
    db.session.commit()
    assert standing.run_monthly(lapse_after=3).lapsed == [lapsed_id]
    factories.user(Role.ACCOUNTANT.value, email="ketoan.quy@example.org", name="Lê Thu Hà")
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "ketoan.quy@example.org")
        page.goto(live_server.url + "/staff/ung-ho-hang-thang?method=bank")
        assert page.get_by_test_id("committed-bank").inner_text() == "500.000\u00a0₫"
        row = page.get_by_test_id(f"recurring-{active_id}")
        row.get_by_placeholder("Yêu cầu của nhà hảo tâm").fill("Gọi điện ngày 02/12: tạm dừng 2 tháng")
        row.get_by_role("button", name="Tạm dừng").click()
        assert "Đã tạm dừng" in page.locator(".alert").first.inner_text()
        assert "Tạm dừng" in page.get_by_test_id(f"recurring-{active_id}").inner_text()
        assert "4 tháng liền" in page.get_by_test_id(f"recurring-{lapsed_id}").inner_text()
        page.screenshot(path=str(shots / "staff-recurring-1366.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / "staff-recurring-390.png"), full_page=True)
    finally:
        context.close()

"""An accountant's day in Chromium: create a donor, record a cash donation, reverse it,
and find the donor again by an unaccented search."""
from app.models import Role
from tests import factories
from tests.browser.helpers import sign_in


def test_create_donor_record_cash_reverse_and_search(page, live_server):
    factories.user(Role.ACCOUNTANT.value, email="ketoan.bo@example.org", name="Đỗ Minh Khoa")
    sign_in(page, live_server.url, "ketoan.bo@example.org")

    # 1. Create the donor, through the menu as an accountant would.
    page.goto(live_server.url + "/staff/donors")
    page.get_by_role("link", name="+ Thêm nhà hảo tâm").click()
    page.get_by_label("Tên nhà hảo tâm").fill("Trần Thị Thu Hà")
    page.get_by_label("Điện thoại").fill("+84 912 345 678")
    page.get_by_role("button", name="Lưu").click()
    page.get_by_role("heading", name="Trần Thị Thu Hà").wait_for()
    assert page.get_by_text("0912345678").is_visible()

    # 2. Record a cash donation from the donor's page.
    page.get_by_role("link", name="Ghi nhận khoản ủng hộ").click()
    assert page.get_by_test_id("picked-donor").inner_text().startswith("Trần Thị Thu Hà")
    page.get_by_label("Hình thức").select_option("cash")
    page.get_by_label("Số tiền (VNĐ)").fill("2.500.000")
    page.get_by_label("Mã tham chiếu").fill("PT-2024-001")
    page.get_by_role("button", name="Ghi nhận khoản ủng hộ").click()
    page.get_by_text("Đã ghi nhận khoản ủng hộ 2.500.000 ₫").wait_for()
    assert page.get_by_test_id("amount").inner_text() == "2.500.000\u00a0₫"

    # 3. Reverse it, with a reason.
    page.get_by_label("Lý do").fill("Nhập nhầm nhà hảo tâm")
    page.get_by_role("button", name="Ghi bút toán đảo").click()
    page.get_by_text("Đã ghi đảo bút toán").wait_for()
    assert page.get_by_test_id("status").inner_text() == "Đã đảo bút toán"
    page.goto(live_server.url + "/staff/donations?q=PT-2024")
    assert page.get_by_test_id("net-total").inner_text() == "0\u00a0₫"

    # 4. Find the donor by typing without diacritics.
    page.goto(live_server.url + "/staff/donors")
    page.get_by_label("Tìm theo tên, MST, điện thoại, email").fill("tran thi thu ha")
    page.get_by_role("button", name="Tìm").click()
    page.get_by_role("link", name="Trần Thị Thu Hà").click()
    assert page.get_by_test_id("lifetime-total").inner_text() == "0\u00a0₫"

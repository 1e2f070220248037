from app.models import Role
from tests import factories


def test_sign_in_through_chromium_and_see_the_back_office(page, live_server):
    user = factories.user(Role.ACCOUNTANT.value, email="ketoan@example.org", name="Đỗ Minh Khoa")
    page.goto(live_server.url + "/staff/")
    assert "/auth/login" in page.url  # sent to sign in first
    page.get_by_label("Email").fill("ketoan@example.org")
    page.get_by_label("Mật khẩu").fill("wrong password")
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.get_by_text("Email hoặc mật khẩu không đúng.").is_visible()
    page.get_by_label("Mật khẩu").fill(factories.PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/staff/")
    assert page.get_by_role("heading", name="Tổng quan năm").is_visible()
    assert page.get_by_text(user.name).first.is_visible()

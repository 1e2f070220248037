"""Steps the browser tests share."""
from tests import factories


def sign_in(page, url, email):
    """Sign a staff member in through the login form and wait for the dashboard."""
    page.goto(url + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(factories.PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(url + "/staff/")

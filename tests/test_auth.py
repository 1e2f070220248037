import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, LoginAttempt, Role
from tests import factories
from tests.conftest import make_app


def post_login(client, email, password, **extra):
    return client.post("/auth/login", data={"email": email, "password": password, **extra})


def test_sign_in_and_see_back_office(client):
    user = factories.user(Role.ACCOUNTANT.value, email="ketoan@example.org")
    response = post_login(client, "KeToan@example.org", factories.PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/")
    page = client.get("/staff/").get_data(as_text=True)
    assert "Tổng quan năm" in page and user.name in page


def test_wrong_password_and_unknown_email_get_the_same_message(client):
    factories.user(email="a@example.org")
    wrong = post_login(client, "a@example.org", "wrong password!")
    unknown = post_login(client, "nobody@example.org", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    message = "Email hoặc mật khẩu không đúng."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302  # still signed out


def test_inactive_user_cannot_sign_in(client):
    factories.user(email="old@example.org", active=False)
    response = post_login(client, "old@example.org", factories.PASSWORD)
    assert response.status_code == 403
    assert "vô hiệu hóa" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_repeated_failures_slow_down_then_lock(client, app):
    factories.user(email="target@example.org")
    statuses = [post_login(client, "target@example.org", f"guess-{i}").status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    # The third failure started a wait: even the right password is refused for now.
    response = post_login(client, "target@example.org", factories.PASSWORD)
    assert response.status_code == 429 and "giây" in response.get_data(as_text=True)
    # After the lock threshold the address is locked for minutes.
    attempt = db.session.get(LoginAttempt, "target@example.org")
    attempt.failures = app.config["LOGIN_LOCK_AFTER"] - 1
    attempt.locked_until = None
    db.session.commit()
    assert post_login(client, "target@example.org", "again wrong").status_code == 401
    response = post_login(client, "target@example.org", factories.PASSWORD)
    assert response.status_code == 429 and "phút" in response.get_data(as_text=True)


def test_unknown_email_is_throttled_exactly_like_a_known_one(client):
    for i in range(3):
        post_login(client, "ghost@example.org", f"x{i}")
    assert post_login(client, "ghost@example.org", "x").status_code == 429


def test_password_never_reaches_the_audit_log(client):
    factories.user(email="a@example.org")
    post_login(client, "a@example.org", "SuperSecretGuess123")
    post_login(client, "a@example.org", factories.PASSWORD)
    entries = db.session.scalars(sa.select(AuditEntry)).all()
    assert {e.action for e in entries} >= {"auth.login_failed", "auth.login"}
    dumped = " ".join(str(e.before) + str(e.after) for e in entries)
    assert "SuperSecretGuess123" not in dumped and factories.PASSWORD not in dumped


def test_login_redirect_only_to_own_site(client):
    factories.user(email="a@example.org")
    response = client.post("/auth/login?next=https://evil.example.com/x",
                           data={"email": "a@example.org", "password": factories.PASSWORD})
    assert response.headers["Location"].endswith("/staff/")


def test_empty_login_form_is_a_400_with_vietnamese_messages(client):
    response = post_login(client, "", "")
    assert response.status_code == 400
    assert "Vui lòng nhập email." in response.get_data(as_text=True)


def test_logout(client, login_as):
    login_as(Role.VIEWER)
    assert client.get("/staff/").status_code == 200
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_change_password(client, login_as):
    user = login_as(Role.DIRECTOR)
    bad = client.post("/auth/password", data={"current_password": "nope", "new_password": "another-long-one",
                                             "confirm": "another-long-one"})
    assert bad.status_code == 422 and "Mật khẩu hiện tại không đúng." in bad.get_data(as_text=True)
    short = client.post("/auth/password", data={"current_password": factories.PASSWORD,
                                               "new_password": "short", "confirm": "short"})
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.get_data(as_text=True)
    ok = client.post("/auth/password", data={"current_password": factories.PASSWORD,
                                            "new_password": "another-long-one", "confirm": "another-long-one"})
    assert ok.status_code == 302
    db.session.refresh(user)
    assert user.check_password("another-long-one")


def test_forms_require_csrf_token_when_enabled(database_uri):
    app = make_app(database_uri, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_login_is_rate_limited_per_client(database_uri):
    app = make_app(database_uri, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.post("/auth/login", data={"email": f"u{i}@example.org", "password": "x"}).status_code
             for i in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429


def test_an_admin_resets_a_forgotten_password(client, login_as):
    """Issue 12, item 33: a path for a staff member who forgot their password."""
    import re

    from app.models import AuditEntry

    staffer = factories.user("accountant", email="ke-toan@example.org")
    login_as(Role.ADMIN)
    assert "Đặt lại mật khẩu" in client.get("/staff/users").get_data(as_text=True)
    page = client.post(f"/staff/users/{staffer.id}/password-reset").get_data(as_text=True)
    temporary = re.search(r'data-testid="temporary-password">([^<]+)<', page).group(1)
    assert db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "user.password_reset")).one()
    client.post("/auth/logout")
    signed_in = client.post("/auth/login", data={"email": "ke-toan@example.org", "password": temporary})
    assert signed_in.status_code == 302 and "/staff" in signed_in.headers["Location"]

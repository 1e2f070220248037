"""Ending sessions (issue 12, item 7): sign-out, a password change and deactivation end
every session of the user, including saved session cookies and remember cookies."""
from __future__ import annotations

import pytest
from flask import g

from app.extensions import db
from app.models import Role, User
from app.services import users
from app.services.audit import Actor
from tests import factories


def sign_in(app, email):
    browser = app.test_client()
    g.pop("_login_user", None)
    response = browser.post("/auth/login", data={"email": email, "password": factories.PASSWORD,
                                                 "remember": "y"})
    assert response.status_code == 302
    return browser


def saved_cookies(browser) -> dict[str, str]:
    cookies = {c.key: c.value for c in browser._cookies.values()}
    assert {"session", "remember_token"} <= set(cookies)
    return cookies


def replay(app, cookies: dict[str, str], only: str | None = None):
    """A fresh browser holding copies of the saved cookies (or just one of them)."""
    thief = app.test_client()
    for key, value in cookies.items():
        if only is None or key == only:
            thief.set_cookie(key, value)
    g.pop("_login_user", None)
    db.session.commit()
    return thief.get("/staff/")


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_sign_out_ends_saved_session_and_remember_cookies(app, cookie):
    factories.user(Role.ACCOUNTANT.value, email="kt@example.org")
    browser = sign_in(app, "kt@example.org")
    cookies = saved_cookies(browser)
    assert replay(app, cookies, only=cookie).status_code == 200  # the copy works while signed in
    g.pop("_login_user", None)
    assert browser.post("/auth/logout").status_code == 302
    response = replay(app, cookies, only=cookie)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_password_change_ends_other_sessions_but_keeps_this_one(app):
    factories.user(Role.ACCOUNTANT.value, email="kt@example.org")
    other_device = saved_cookies(sign_in(app, "kt@example.org"))
    browser = sign_in(app, "kt@example.org")
    g.pop("_login_user", None)
    response = browser.post("/auth/password", data={
        "current_password": factories.PASSWORD, "new_password": "a-new-password-123",
        "confirm": "a-new-password-123", "new_password_confirm": "a-new-password-123"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert replay(app, other_device).status_code == 302
    assert replay(app, other_device, only="remember_token").status_code == 302
    g.pop("_login_user", None)
    assert browser.get("/staff/").status_code == 200


def test_deactivation_ends_every_session(app):
    user = factories.user(Role.ACCOUNTANT.value, email="kt@example.org")
    cookies = saved_cookies(sign_in(app, "kt@example.org"))
    users.set_active(user.id, False, Actor.system("test"))
    users.set_active(user.id, True, Actor.system("test"))  # re-activation does not revive them
    assert replay(app, cookies).status_code == 302
    assert replay(app, cookies, only="remember_token").status_code == 302


def test_remember_cookie_is_samesite_and_httponly(app):
    factories.user(Role.ACCOUNTANT.value, email="kt@example.org")
    browser = app.test_client()
    response = browser.post("/auth/login", data={"email": "kt@example.org",
                                                 "password": factories.PASSWORD, "remember": "y"})
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "SameSite=Lax" in header and "HttpOnly" in header


def test_production_remember_cookie_is_secure():
    from config import ProductionConfig

    assert ProductionConfig.REMEMBER_COOKIE_SECURE and ProductionConfig.SESSION_COOKIE_SECURE

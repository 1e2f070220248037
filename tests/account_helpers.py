"""Helpers for donor-account tests: sign a test client in through a real one-time link."""
from __future__ import annotations

import re

from app.extensions import db
from app.services.accounts import signin


def sign_in(client, email: str) -> None:
    """Sign the client in as the donor(s) of `email`, through the link's POST."""
    token = signin.new_token(signin.SIGN_IN, email, 15)
    db.session.commit()
    response = client.post(f"/tai-khoan/dang-nhap/{token}")
    assert response.status_code == 302, response.get_data(as_text=True)


def link_in(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    match = re.search(r"http://\S+" + re.escape(path) + r"\S+", body)
    assert match, body
    return match.group(0)

"""Public pages from the shared cache: served without rendering while nothing changed, fresh
right after a donation is confirmed; the donate form drawn once with a slot for each visitor's
own CSRF token;
static files under versioned URLs cached for a year. On the default cache types and on
Redis DB 5 when a Redis server answers."""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Appeal
from app.services import page_cache
from tests import factories
from tests.conftest import make_app

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture(params=["SimpleCache", "FileSystemCache", "RedisCache"])
def cached_app(request, database_uri, tmp_path, app):
    if request.param == "RedisCache":
        from tests.test_jobs import redis_available

        if not redis_available():
            pytest.skip(f"no Redis at {REDIS_URL}")
    other = make_app(database_uri, PUBLIC_PAGE_CACHE_SECONDS=60, CACHE_TYPE=request.param,
                     CACHE_DIR=str(tmp_path / "cache"), CACHE_REDIS_URL=REDIS_URL,
                     CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex[:8]}:")
    db.session.commit()
    with other.app_context():
        page_cache.invalidate()
        yield other
        db.session.remove()


def rename_behind_the_orms_back(appeal_id: int, title: str) -> None:
    """A change no commit hook sees: shows whether the page came from the cache."""
    db.session.execute(sa.update(Appeal.__table__).where(Appeal.__table__.c.id == appeal_id)
                       .values(title=title))
    db.session.commit()


def test_home_and_appeal_come_from_the_cache_until_a_donation_is_confirmed(cached_app):
    client = cached_app.test_client()
    appeal = factories.appeal("tet", title="Tết yêu thương", status="open", is_public=True,
                              goal_amount=10_000_000)
    factories.donation(factories.donor("Lê Văn Cường"), 1_000_000, appeal=appeal)
    db.session.commit()
    for url in ("/", "/appeals/tet"):
        assert "1.000.000" in client.get(url).get_data(as_text=True)
    rename_behind_the_orms_back(appeal.id, "Tên mới chưa công bố")
    for url in ("/", "/appeals/tet"):
        page = client.get(url).get_data(as_text=True)
        assert "Tết yêu thương" in page and "Tên mới chưa công bố" not in page  # cached
    # Another process (here: this one, with its memory of pages cleared) reads the shared cache.
    page_cache._pages.clear()
    assert "Tên mới chưa công bố" not in client.get("/appeals/tet").get_data(as_text=True)
    factories.donation(factories.donor("Phạm Thị Dung"), 2_500_000, appeal=appeal)  # confirmed: commit
    db.session.commit()
    for url in ("/", "/appeals/tet"):
        page = client.get(url).get_data(as_text=True)
        assert "3.500.000" in page and "Tên mới chưa công bố" in page  # fresh at once


def test_a_page_answered_before_flask_runs_keeps_the_security_headers(cached_app):
    appeal = factories.appeal("dong", title="Đông ấm", status="open", is_public=True)
    db.session.commit()
    rendered = cached_app.test_client().get("/appeals/dong")
    rename_behind_the_orms_back(appeal.id, "Đông mới")
    fast = cached_app.test_client().get("/appeals/dong")  # no cookie: the WSGI fast path
    assert "Đông ấm" in fast.get_data(as_text=True)
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                 "Cache-Control"):
        assert fast.headers.get(name) == rendered.headers.get(name), name


def test_other_processes_see_the_new_version_within_a_second(cached_app, monkeypatch):
    client = cached_app.test_client()
    appeal = factories.appeal("he", title="Hè vui", status="open", is_public=True)
    db.session.commit()
    client.get("/appeals/he")
    rename_behind_the_orms_back(appeal.id, "Hè an toàn")
    # Another process bumps the version in the shared cache (not in this process's memory).
    from app.extensions import cache

    cache.set(page_cache.VERSION_KEY, "from-another-process", timeout=0)
    assert "Hè vui" in client.get("/appeals/he").get_data(as_text=True)  # still within the second
    monkeypatch.setattr(page_cache, "VERSION_EVERY", 0.0)
    assert "Hè an toàn" in client.get("/appeals/he").get_data(as_text=True)


def csrf_token_of(page: str) -> str:
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def test_the_donate_form_is_drawn_once_and_each_visitor_gets_a_working_token_of_their_own(database_uri, app):
    other = make_app(database_uri, PUBLIC_PAGE_CACHE_SECONDS=60, WTF_CSRF_ENABLED=True)
    appeal = factories.appeal("xuan", title="Xuân sẻ chia", status="open", is_public=True)
    db.session.commit()
    with other.app_context():
        page_cache.invalidate()
    first, second = other.test_client(), other.test_client()
    page_one = first.get("/donate?appeal=xuan").get_data(as_text=True)
    rename_behind_the_orms_back(appeal.id, "Tên chưa công bố")
    page_two = second.get("/donate?appeal=xuan").get_data(as_text=True)
    token_one, token_two = csrf_token_of(page_one), csrf_token_of(page_two)
    assert token_one != token_two and page_cache.CSRF_SLOT not in page_two
    assert "Xuân sẻ chia" in page_two and "Tên chưa công bố" not in page_two  # the stored drawing
    assert page_two.replace(token_two, token_one) == page_one
    incomplete = {"method": "card", "kind": "individual", "name": "", "appeal": "xuan"}
    # Each token works in its own visitor's session (the form is checked: 422), and only there.
    assert first.post("/donate", data={**incomplete, "csrf_token": token_one}).status_code == 422
    assert second.post("/donate", data={**incomplete, "csrf_token": token_two}).status_code == 422
    assert second.post("/donate", data={**incomplete, "csrf_token": token_one}).status_code == 400
    assert other.test_client().post("/donate", data={**incomplete, "csrf_token": token_one}).status_code == 400
    # A commit that touches appeals draws the form again.
    factories.appeal("he-2", title="Hè", status="open", is_public=True)
    db.session.commit()
    assert "Tên chưa công bố" in other.test_client().get("/donate?appeal=xuan").get_data(as_text=True)


def test_a_flashed_message_on_the_donate_form_is_shown_once_and_never_stored(database_uri, app):
    other = make_app(database_uri, PUBLIC_PAGE_CACHE_SECONDS=60, WTF_CSRF_ENABLED=True)
    factories.appeal("cu", title="Chiến dịch cũ", status="closed", is_public=True)
    db.session.commit()
    client = other.test_client()
    for _ in range(2):  # a closed appeal: the warning each time, never a stored page without it
        assert "đã kết thúc" in client.get("/donate?appeal=cu").get_data(as_text=True)
    client.get("/donate")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Cảm ơn bạn đã ủng hộ!")]
    assert "Cảm ơn bạn đã ủng hộ!" in client.get("/donate").get_data(as_text=True)
    assert "Cảm ơn bạn đã ủng hộ!" not in client.get("/donate").get_data(as_text=True)


def test_signed_in_or_flashed_visitors_get_a_fresh_page(cached_app):
    client = cached_app.test_client()
    appeal = factories.appeal("thu", title="Thu ấm", status="open", is_public=True)
    db.session.commit()
    client.get("/")
    rename_behind_the_orms_back(appeal.id, "Thu vàng")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Cảm ơn bạn đã ủng hộ!")]
    page = client.get("/").get_data(as_text=True)
    assert "Thu vàng" in page and "Cảm ơn bạn đã ủng hộ!" in page


def test_static_files_have_versioned_urls_and_a_year_of_cache(client):
    page = client.get("/").get_data(as_text=True)
    href = page.split('rel="stylesheet" href="')[-1].split('"')[0]
    assert href.startswith("/static/css/app.css?v=") and len(href.split("v=")[1]) == 12
    response = client.get(href)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "immutable" not in client.get("/static/css/app.css").headers["Cache-Control"]

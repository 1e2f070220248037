"""Public pages from the shared cache: served without rendering while nothing changed, fresh
right after a donation is confirmed, never the donate form (its CSRF token is per visitor);
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


def test_the_donate_form_is_never_cached_and_each_visitor_gets_a_token(database_uri, app):
    other = make_app(database_uri, PUBLIC_PAGE_CACHE_SECONDS=60, WTF_CSRF_ENABLED=True)
    db.session.commit()
    tokens = set()
    for _ in range(2):  # two visitors, each request in an app context of its own
        page = other.test_client().get("/donate").get_data(as_text=True)
        tokens.add(page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0])
    assert len(tokens) == 2


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

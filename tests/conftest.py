"""Shared fixtures.

The schema comes from the Alembic migrations (never `create_all`), so a model that drifts
from its migration fails here. Each run gets a database of its own: an SQLite file in a
temporary folder, or, when TEST_DATABASE_URL points at a PostgreSQL server, a new database
created on that server and dropped at the end. Every test starts from empty tables plus the
reference data (programmes, settings, wards).

SQLite note: every transaction takes the write lock at BEGIN (see app/__init__.py), so a
test must not keep its own session's transaction open while a request or a CLI command
runs. The `client` and `runner` fixtures commit the test's session before each call.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from flask import g
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.models import Role
from app.services.setup import ensure_reference_data
from config import TestingConfig, database_url
from tests import factories


def pytest_sessionstart(session):
    """The English catalog compiled from its .po (as `make translations` does), so a run of
    plain `pytest` sees the translations of the checkout it runs on."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).resolve().parent.parent.glob("app/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url = make_url(database_url(raw, raw))
    with scratch_database(url, f"{url.database or 'quy'}_t{os.getpid()}_{uuid.uuid4().hex[:6]}") as uri:
        yield uri


@contextmanager
def scratch_database(url, name: str):
    """A new PostgreSQL database `name` on `url`'s server, dropped afterwards; yields its URL."""
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def make_app(database_uri: str, **overrides):
    """An app on the test database; `overrides` change config (e.g. WTF_CSRF_ENABLED=True)."""
    config = type("TestConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_uri, **overrides})
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_uri):
    app = make_app(database_uri)
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(request):
    """Each test runs in an app context, on empty tables plus reference data; modules
    marked `nodb` (pure functions: money words, renderers) skip the database."""
    if request.node.get_closest_marker("nodb"):
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _empty_tables()
        ensure_reference_data()
        factories.real_settings()
        yield
        db.session.remove()


class CommittingClient(FlaskClient):
    def open(self, *args, **kwargs):
        db.session.commit()
        return super().open(*args, **kwargs)


class CommittingCliRunner(FlaskCliRunner):
    def invoke(self, *args, **kwargs):
        db.session.commit()
        return super().invoke(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = CommittingClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return CommittingCliRunner(app)


@pytest.fixture
def stripe_stub():
    """A local Stripe API stand-in (tests/stripe_stub.py), one per test."""
    from tests.stripe_stub import stripe_stub_fixture

    yield from stripe_stub_fixture()


@pytest.fixture
def stripe_on(app, stripe_stub, monkeypatch):
    """The session app pointed at the stub, as a real deployment with STRIPE_* set
    (webhooks signed with tests.stripe_stub.TEST_WEBHOOK_SECRET)."""
    from tests.stripe_stub import TEST_SECRET_KEY, TEST_WEBHOOK_SECRET

    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", TEST_WEBHOOK_SECRET)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", stripe_stub.base_url)
    return stripe_stub


@pytest.fixture
def login_as(client):
    """Sign the test client in as a new user with the given role; returns the user."""

    def login(role: Role | str = Role.ADMIN, **fields):
        user = factories.user(role=Role(role).value, **fields)
        # Requests reuse the test's app context, where Flask-Login caches the current user
        # in `g`: drop it so the next request loads the user signed in here.
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return login

"""Browser tests: the real app served on 127.0.0.1 in a thread, driven by Playwright for
Python through Debian's Chromium (/usr/bin/chromium; `playwright install` cannot download
here). Run them with `make test-browser`.

When Chromium is missing the tests skip, unless REQUIRE_BROWSER=1 (set by .ci/run), in
which case they fail: CI must never pass by skipping them.

On SQLite, commit the test's own session (factories do) before driving the browser: the
server thread needs the write lock that an open transaction holds.
"""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from tests.conftest import make_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(database_uri, app):
    """The application with CSRF on, as a person would meet it, on a free local port."""
    server_app = make_app(database_uri, WTF_CSRF_ENABLED=True, TESTING=False)
    # LIVE_SERVER_PORT pins the port (on a shared machine each engineer has a range); 0 = free port.
    server = make_server("127.0.0.1", int(os.environ.get("LIVE_SERVER_PORT", "0")), server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.app = server_app
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    db.session.commit()
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()

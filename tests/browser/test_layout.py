"""Layout at the widths staff and donors really use (issue 12, item 26): the staff navbar
keeps every link and the sign-out button on screen for every role, and staff lists stay
usable on a phone. Screenshots go to $LAYOUT_SHOTS when it is set (for a person to look at)."""
from __future__ import annotations

import os

import pytest

from app.extensions import db
from app.models import Role
from tests import factories
from tests.browser.test_csp import sign_in

WIDTHS = (390, 768, 1024, 1200, 1366, 1536, 1920)
SHOTS = os.environ.get("LAYOUT_SHOTS")


def inside(page, locator) -> bool:
    """The element is shown and lies wholly inside the viewport's width."""
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return bool(box) and locator.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


def open_menu_if_collapsed(page):
    toggler = page.locator("nav .navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#staffnav.show").wait_for()
        page.wait_for_timeout(400)  # the collapse animation


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_nav_link_and_sign_out_on_screen(page, live_server, role):
    factories.user(role, email=f"nav.{role}@example.org", name="Nguyễn Thị Phương Thảo")
    db.session.commit()
    sign_in(page, live_server.url, f"nav.{role}@example.org")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + "/staff/")
        open_menu_if_collapsed(page)
        sign_out = page.get_by_role("button", name="Đăng xuất")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/nav-{role}-{width}.png")
        assert inside(page, sign_out), f"{role} at {width} px: sign-out off screen"
        top = page.locator("#staffnav > ul > li > .nav-link")
        for i in range(top.count()):
            link = top.nth(i)
            assert inside(page, link), f"{role} at {width} px: «{link.inner_text()}» off screen"
        toggles = page.locator("#staffnav .dropdown-toggle")
        for i in range(toggles.count()):
            toggles.nth(i).click()
            menu = page.locator("#staffnav .dropdown-menu.show")
            menu.wait_for()
            items = menu.locator(".dropdown-item")
            for j in range(items.count()):
                items.nth(j).scroll_into_view_if_needed()
                assert inside(page, items.nth(j)), f"{role} at {width} px: «{items.nth(j).inner_text()}»"
            page.keyboard.press("Escape")


def test_donation_list_on_a_phone(page, live_server):
    """At 390 px the list is stacked cards: the amount of every gift is on screen without
    scrolling sideways, each value carries its column heading, and a page of 50 gifts
    stays a page a person can scroll (it was 8,000 px of squeezed table)."""
    factories.user(Role.ACCOUNTANT.value, email="phone@example.org")
    donors = [factories.donor(f"Công ty Cổ phần Thương mại Dịch vụ Hải Phòng số {i}") for i in range(10)]
    for i in range(60):
        factories.donation(donors[i % 10], 1_250_000_000 + i * 1000, reference=f"PT-2026-{i:04d}")
    db.session.commit()
    sign_in(page, live_server.url, "phone@example.org")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/staff/donations")
    amounts = page.locator("table tbody td.amount")
    assert amounts.count() == 50
    for i in (0, 25, 49):
        assert inside(page, amounts.nth(i)), f"row {i}: amount off screen"
        assert "\u00a0₫" in amounts.nth(i).text_content()  # never split from its number
    assert amounts.first.get_attribute("data-label") == "Số tiền"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    height = page.evaluate("document.documentElement.scrollHeight")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/donations-390.png", full_page=False)
        page.locator("table").screenshot(path=f"{SHOTS}/donations-390-table.png")
    # Before: 12,430 px for these 50 rows, the amount column off screen to the right.
    rows = page.locator("table tbody tr")
    per_row = page.locator("table").bounding_box()["height"] / rows.count()
    assert per_row < 170 and height < 9_500, f"{height} px tall, {per_row:.0f} px a gift"

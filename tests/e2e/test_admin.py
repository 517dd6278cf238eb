"""The admin pages in a real browser: login, the dashboard grid, a preview; axe-core
finds no serious or critical accessibility problem on any of them.

With NEWSLETTER_SCREENSHOTS=<folder> the test saves the dashboard and the preview there.
"""

from __future__ import annotations

import pytest

from newsletter.app import accounts
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.e2e.browsing import ADMIN_PASSWORD as PASSWORD
from tests.e2e.browsing import blocking_violations, screenshot, sign_in


@pytest.mark.e2e
def test_login_dashboard_and_preview(browser, live):
    base, root = live
    accounts.add_user(load_workspace(root), "leyla", "officer", (), PASSWORD)
    context = browser.new_context(locale="de-DE", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(base + "admin/")
    assert page.url.startswith(base + "admin/login?next=")
    assert blocking_violations(page) == []
    sign_in(page, "leyla")
    page.wait_for_url(base + "admin/")
    grid = page.locator("table.grid")
    assert grid.is_visible()
    assert page.locator("html").get_attribute("lang") == "de"
    headers = grid.locator("thead th").all_inner_texts()
    assert len(headers) == 2 + 8  # release, the source, eight target languages
    assert "Fällt zurück auf" in grid.inner_text()
    assert blocking_violations(page) == []
    screenshot(page, "admin-dashboard")

    page.goto(base + f"admin/preview/{EXAMPLE_RELEASE}/fa")
    frame = page.frame_locator("iframe.mail")
    assert "Immigrant association" in frame.locator("h1").first.inner_text()
    width = page.locator("iframe.mail").bounding_box()["width"]
    page.click("text=Telefon")
    assert page.locator("iframe.mail").bounding_box()["width"] < width
    img = frame.locator("img.photo")
    assert img.evaluate("i => i.complete && i.naturalWidth > 0")  # signed link, no cookie
    assert blocking_violations(page) == []
    screenshot(page, "admin-preview")
    context.close()

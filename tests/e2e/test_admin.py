"""The admin pages in a real browser: login, the dashboard grid, a preview; axe-core
finds no serious or critical accessibility problem on any of them.

With NEWSLETTER_SCREENSHOTS=<folder> the test saves the dashboard and the preview there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsletter.app import accounts
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE

PASSWORD = "correct horse battery"  # noqa: S105 - a test account's


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}×)" for v in found
            if v["impact"] in ("serious", "critical")]


def _shot(page, name: str) -> None:
    folder = os.environ.get("NEWSLETTER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.e2e
def test_login_dashboard_and_preview(browser, live):
    base, root = live
    accounts.add_user(load_workspace(root), "leyla", "officer", (), PASSWORD)
    context = browser.new_context(locale="de-DE", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(base + "admin/")
    assert page.url.startswith(base + "admin/login?next=")
    assert _serious(page) == []
    page.fill("#username", "leyla")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(base + "admin/")
    grid = page.locator("table.grid")
    assert grid.is_visible()
    assert page.locator("html").get_attribute("lang") == "de"
    headers = grid.locator("thead th").all_inner_texts()
    assert len(headers) == 2 + 8  # release, the source, eight target languages
    assert "Fällt zurück auf" in grid.inner_text()
    assert _serious(page) == []
    _shot(page, "admin-dashboard")

    page.goto(base + f"admin/preview/{EXAMPLE_RELEASE}/fa")
    frame = page.frame_locator("iframe.mail")
    assert "Immigrant association" in frame.locator("h1").first.inner_text()
    width = page.locator("iframe.mail").bounding_box()["width"]
    page.click("text=Telefon")
    assert page.locator("iframe.mail").bounding_box()["width"] < width
    img = frame.locator("img.photo")
    assert img.evaluate("i => i.complete && i.naturalWidth > 0")  # signed link, no cookie
    assert _serious(page) == []
    _shot(page, "admin-preview")
    context.close()

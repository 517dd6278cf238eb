"""The review page in a real browser: a Farsi reviewer approves every entry of a release
with Ctrl+Enter until the Farsi edition replaces the English fallback in the send plan;
axe-core finds no serious or critical problem; the Arabic page is right to left.

With NEWSLETTER_SCREENSHOTS=<folder> the test saves the Farsi and Arabic review pages.
"""

from __future__ import annotations

import pytest

from newsletter.app import accounts, mailing
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.drafts import draft
from tests.e2e.test_admin import PASSWORD, _serious, _shot


def _farsi_readers_get(root) -> set[str]:
    plan = mailing.plan_release(load_workspace(root), EXAMPLE_RELEASE,
                                mailing.MailingOptions(lists=("members",))).planned.plan
    return {lang for reader, lang in zip(plan.readers, plan.languages, strict=True)
            if reader == "fa"}


def _login(browser, base: str, name: str):
    context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(base + "admin/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(base + "admin/")
    return context, page


@pytest.mark.e2e
def test_a_farsi_reviewer_approves_until_readers_get_the_farsi_edition(browser, live):
    base, root = live
    ws = load_workspace(root)
    draft(ws, EXAMPLE_RELEASE, "fa")
    accounts.add_user(ws, "farid", "reviewer", ("fa",), PASSWORD)
    assert _farsi_readers_get(root) == {"en"}
    context, page = _login(browser, base, "farid")
    page.goto(base + f"admin/review/{EXAMPLE_RELEASE}/fa")
    progress = page.locator("p.progress")
    assert "23 of 25 left" in progress.inner_text()
    assert "now they get English" in progress.inner_text()
    box = page.locator("textarea#translation")
    assert box.get_attribute("dir") == "rtl" and box.get_attribute("lang") == "fa"
    mark = page.frame_locator("iframe.mail").locator("mark#entry")
    assert mark.count() == 1
    assert _serious(page) == []
    _shot(page, "admin-review-fa")
    for left in range(23, 0, -1):
        heading = page.locator("#entry-heading").inner_text()
        box.press("Control+Enter")  # review.js: approve, and the server opens the next
        page.wait_for_function(
            "h => document.querySelector('#entry-heading') && "
            "(document.querySelector('p.flash') !== null)", arg=heading)
        assert "Approved and saved." in page.locator("p.flash").inner_text(), heading
        if left > 1:
            assert f"{left - 1} of 25 left" in progress.inner_text()
    assert "All 25 entries approved" in progress.inner_text()
    assert _farsi_readers_get(root) == {"fa"}
    context.close()


@pytest.mark.e2e
def test_the_arabic_review_page(browser, live):
    base, root = live
    accounts.add_user(load_workspace(root), "amina", "reviewer", ("ar",), PASSWORD)
    context, page = _login(browser, base, "amina")
    page.goto(base + f"admin/review/{EXAMPLE_RELEASE}/ar?entry=7")
    box = page.locator("textarea#translation")
    assert box.get_attribute("dir") == "rtl" and box.get_attribute("lang") == "ar"
    assert box.evaluate("e => getComputedStyle(e).direction") == "rtl"
    frame = page.frame_locator("iframe.mail")
    assert frame.locator("html").get_attribute("dir") == "rtl"
    assert frame.locator("mark#entry").count() == 1
    assert "Approved: it is sent" in page.locator("dl.facts").inner_text()
    assert _serious(page) == []
    _shot(page, "admin-review-ar")
    # without JavaScript the buttons do the work
    nojs = browser.new_context(java_script_enabled=False, storage_state=context.storage_state())
    plain = nojs.new_page()
    plain.goto(base + f"admin/review/{EXAMPLE_RELEASE}/ar?entry=7")
    plain.click("button[value=save]")
    assert "Saved as a draft" in plain.locator("p.flash").inner_text()
    nojs.close()
    context.close()

"""The review page in a real browser: a Farsi reviewer approves every entry of a release
with Ctrl+Enter until the Farsi edition replaces the English fallback in the send plan;
axe-core finds no serious or critical problem; the Arabic page is right to left.

With NEWSLETTER_SCREENSHOTS=<folder> the test saves the Farsi and Arabic review pages.
"""

from __future__ import annotations

import pytest

from newsletter.app import accounts, audit, mailing, review
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.drafts import draft
from tests.e2e.browsing import ADMIN_PASSWORD as PASSWORD
from tests.e2e.browsing import blocking_violations, press, screenshot, sign_in


def _farsi_readers_get(root) -> set[str]:
    plan = mailing.plan_release(load_workspace(root), EXAMPLE_RELEASE,
                                mailing.MailingOptions(lists=("members",))).planned.plan
    return {lang for reader, lang in zip(plan.readers, plan.languages, strict=True)
            if reader == "fa"}


def _login(browser, base: str, name: str):
    context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(base + "admin/login")
    sign_in(page, name)
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
    assert blocking_violations(page) == []
    screenshot(page, "admin-review-fa")
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
    assert blocking_violations(page) == []
    screenshot(page, "admin-review-ar")
    # without JavaScript the buttons do the work
    nojs = browser.new_context(java_script_enabled=False, storage_state=context.storage_state())
    plain = nojs.new_page()
    plain.goto(base + f"admin/review/{EXAMPLE_RELEASE}/ar?entry=7")
    plain.click("button[value=save]")
    assert "Saved as a draft" in plain.locator("p.flash").inner_text()
    nojs.close()
    context.close()


@pytest.mark.e2e
def test_two_reviewers_save_the_same_entry_and_the_second_is_refused(browser, live):
    base, root = live
    ws = load_workspace(root)
    draft(ws, EXAMPLE_RELEASE, "fa")
    farid = accounts.add_user(ws, "farid", "reviewer", ("fa",), PASSWORD)
    accounts.add_user(ws, "shirin", "reviewer", ("fa",), PASSWORD)
    entry = base + f"admin/review/{EXAMPLE_RELEASE}/fa?entry=9"
    first_context, first = _login(browser, base, "farid")
    second_context, second = _login(browser, base, "shirin")
    first.goto(entry)
    second.goto(entry)  # both pages carry the entry as it was before either save
    heading = first.locator("#entry-heading").inner_text()
    assert second.locator("#entry-heading").inner_text() == heading
    mine, theirs = "شریکی مطمئن از سال 2000", "یک شریک قابل اعتماد از سال 2000"
    first.fill("textarea#translation", mine)
    assert press(first, first.locator("button[value=approve]")).status == 303
    assert "Approved and saved." in first.locator("p.flash").inner_text()
    second.fill("textarea#translation", theirs)
    refused = press(second, second.locator("button[value=approve]"))
    assert refused.status == 409
    conflict = second.locator("div.conflict")
    assert "Nothing was saved" in conflict.inner_text()
    versions = conflict.locator("div.versions p.text")
    assert versions.all_inner_texts() == [theirs, mine]  # hers, then what the catalog holds
    assert "approved" in conflict.locator("div.versions h3").nth(1).inner_text()
    # her text stays in the box, so she can choose to overwrite deliberately
    assert second.locator("textarea#translation").input_value() == theirs
    assert blocking_violations(second) == []
    saved = review.review_page(ws, farid, EXAMPLE_RELEASE, "fa", 9).current
    assert saved is not None and saved.translation == mine and not saved.fuzzy
    assert [e.user for e in audit.entries(ws) if e.action == review.APPROVE] == ["farid"]
    second_context.close()
    first_context.close()

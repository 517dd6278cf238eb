"""The officer's send in a real browser: choose, the dry-run plan, the typed
confirmation, and the progress page reaching 100 % while a worker sends to the outbox
(the polling script updates it); axe-core finds no serious or critical problem.

With NEWSLETTER_SCREENSHOTS=<folder> the plan and the progress page are saved there.
"""

from __future__ import annotations

import re

import pytest

from newsletter.app import accounts, sending
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.e2e.browsing import blocking_violations, press, screenshot

PASSWORD = "correct horse battery"  # noqa: S105 - a test account's


@pytest.mark.e2e
def test_an_officer_plans_and_sends_to_the_outbox(browser, live):
    base, root = live
    ws = load_workspace(root)
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "admin/send")
    page.fill("#username", "leyla")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(base + "admin/send")
    assert blocking_violations(page) == []
    page.select_option("#release", EXAMPLE_RELEASE)
    page.check("#list-members")
    page.check("#list-press")
    page.click("form.send-choice button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/send/plan\?.*"))
    assert "Rehearsal (outbox):" in page.locator("p.kind").inner_text()
    total = int(page.locator("td.total").inner_text())
    plan = sending.dry_run(ws, sending.read_choice(
        ws, kind="release", ref=EXAMPLE_RELEASE, lists=["members", "press"], tags="",
        langs=[]))
    assert total == plan.total > 0
    assert blocking_violations(page) == []
    screenshot(page, "admin-send-plan")

    page.fill("#confirm", str(total - 1))  # a wrong number: refused, nothing sent
    answer = press(page, page.locator("button[name=when][value=now]"))
    assert answer.status == 422
    assert "nothing was sent" in page.locator(".errors").inner_text()
    assert sending.campaigns(ws) == []

    page.fill("#confirm", str(total))
    press(page, page.locator("button[name=when][value=now]"))
    assert f"/admin/send/campaigns/{plan.campaign}" in page.url
    # the script polls the ledger and reloads the page when the worker has finished
    page.locator('#state[data-state="done"]').wait_for(timeout=60_000)
    assert page.locator("#percent").inner_text() == "100 %"
    assert page.locator("progress#bar").get_attribute("value") == "100"
    assert page.locator('td[data-status="sent"]').inner_text() == str(total)
    done = sending.progress(ws, plan.campaign)
    assert done.counts["sent"] == total and done.open == 0
    folder = ws.config.delivery.outbox / plan.campaign
    assert len(list(folder.glob("*.eml"))) == total
    assert blocking_violations(page) == []
    screenshot(page, "admin-send-progress")
    context.close()

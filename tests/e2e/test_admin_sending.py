"""The officer's send in a real browser: choose, the dry-run plan, the typed
confirmation, and the progress page reaching 100 % while a worker sends to the outbox
(the polling script updates it), and a long send paused and resumed from that page;
axe-core finds no serious or critical problem.

With NEWSLETTER_SCREENSHOTS=<folder> the plan and the progress page are saved there.
"""

from __future__ import annotations

import csv
import re

import pytest

from newsletter.app import accounts, audit, sending
from newsletter.workspace.loading import load_workspace
from tests.admin import wait_for_progress as _wait
from tests.conftest import EXAMPLE_RELEASE
from tests.e2e.browsing import ADMIN_PASSWORD as PASSWORD
from tests.e2e.browsing import blocking_violations, press, screenshot, sign_in


@pytest.mark.e2e
def test_an_officer_plans_and_sends_to_the_outbox(browser, live):
    base, root = live
    ws = load_workspace(root)
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "admin/send")
    sign_in(page, "leyla")
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


def _many_recipients(root, n: int) -> None:
    """``n`` more members, so that a send lasts long enough to be paused in the middle."""
    with (root / "recipients/members.csv").open("a", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        langs = ["tr", "ar", "ru", "uk", "pl", "fa", "ku", "en", "de"]
        for i in range(n):
            out.writerow([f"person{i}@club{i % 40}.example.org", f"Person {i}", langs[i % 9],
                          "board", "Club", "membership form", "2017-03-14"])


@pytest.mark.e2e
def test_an_officer_pauses_and_resumes_a_send_from_its_progress_page(browser, live):
    base, root = live
    ws = load_workspace(root)
    _many_recipients(root, 3000)
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "admin/send/plan?kind=release&release=" + EXAMPLE_RELEASE
              + "&list=members")
    sign_in(page, "leyla")
    page.wait_for_url(re.compile(r".*/admin/send/plan\?.*"))
    total = int(page.locator("td.total").inner_text())
    campaign = page.locator("input[name=campaign]").first.input_value()
    assert total > 3000
    page.fill("#confirm", str(total))
    press(page, page.locator("button[name=when][value=now]"))
    assert f"/admin/send/campaigns/{campaign}" in page.url
    _wait(ws, campaign, lambda p: p.running and p.counts.get("sent", 0) > 0, "first batch")
    press(page, page.locator("form[action$='/pause'] button"))
    assert "Pause requested" in page.locator("p.notice").inner_text()
    # the script reloads the page once the batch in flight is done and the worker gone
    page.locator('#state[data-state="paused"]').wait_for(timeout=60_000)
    halted = sending.progress(ws, campaign)
    assert halted.state == "paused" and not halted.running
    assert 0 < halted.counts["sent"] < total and halted.unknown == 0
    assert page.locator('td[data-status="sent"]').inner_text() == str(halted.counts["sent"])
    assert page.locator("#percent").inner_text() == f"{halted.percent} %" != "100 %"
    assert blocking_violations(page) == []
    screenshot(page, "admin-send-paused")

    press(page, page.locator("form[action$='/resume'] button"))
    assert "goes on where it stopped" in page.locator("p.notice").inner_text()
    page.locator('#state[data-state="done"]').wait_for(timeout=60_000)
    assert page.locator("#percent").inner_text() == "100 %"
    assert page.locator('td[data-status="sent"]').inner_text() == str(total)
    done = sending.progress(ws, campaign)
    assert done.counts["sent"] == total and done.open == 0 and done.unknown == 0
    # every recipient got exactly one file: one per ledger row, none twice, none missing
    files = sorted((ws.config.delivery.outbox / campaign).glob("*.eml"))
    assert len(files) == total == len({f.name for f in files})
    log = [(e.user, e.action, e.object) for e in audit.entries(ws)]
    for action in ("send paused", "send resumed"):
        assert ("leyla", action, campaign) in log
    context.close()

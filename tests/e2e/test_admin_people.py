"""The officer's reports and people pages in a real browser: a campaign's report and
its CSV download, then finding a member and forgetting them with the typed address;
axe-core finds no serious or critical problem on any page.

With NEWSLETTER_SCREENSHOTS=<folder> the test saves the report and the person page.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from newsletter.app import accounts, audit, mailing, people
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE
from tests.e2e.browsing import ADMIN_PASSWORD as PASSWORD
from tests.e2e.browsing import blocking_violations, press, screenshot, sign_in

MEMBER = "vorstand@elternverein-katernberg.example.org"




@pytest.mark.e2e
def test_report_download_and_forget(browser, live):
    base, root = live
    ws = load_workspace(root)
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, mailing.MailingOptions(lists=("members",)))
    campaign = mailing.send(ws, plan).planned.campaign
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(base + "admin/reports")
    sign_in(page, "leyla")
    page.wait_for_url(base + "admin/reports")
    assert blocking_violations(page) == []
    page.click(f"text={campaign}")
    page.wait_for_url(base + f"admin/reports/{campaign}")
    total = page.locator("table.report tfoot td").last.inner_text()
    assert int(total) == sum(mailing.report(ws, campaign).counts.values())
    assert blocking_violations(page) == []
    screenshot(page, "admin-report")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    got = download.value
    assert got.suggested_filename == f"report-{campaign}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(got.path()).read_text("utf-8-sig"))))
    assert len(rows) == int(total) and any(r["email"] == MEMBER for r in rows)

    page.goto(base + "admin/people")
    page.fill("#email", MEMBER.upper().replace("VORSTAND", "vorstand"))
    press(page, page.locator("button", has_text="Find"))
    assert "recipients/members.csv" in page.inner_text("main")
    assert blocking_violations(page) == []
    screenshot(page, "admin-person")
    page.fill("#confirm", MEMBER)
    answer = press(page, page.locator("button", has_text="Forget this person"))
    assert answer.status == 200
    assert "Erased" in page.inner_text("h1")
    assert f"{campaign}.csv" in page.inner_text("main")  # the kept report is named
    assert blocking_violations(page) == []
    screenshot(page, "admin-forgotten")
    assert not any(r.email == MEMBER for r in mailing.report(ws, campaign).rows)
    assert [s.reason for s in people.suppressions(ws)] == ["erased"]
    assert not any(MEMBER in e.object + e.detail for e in audit.entries(ws))
    context.close()

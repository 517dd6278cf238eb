"""Small helpers of the reader's-page tests: the workspace the live app serves, its
links and mails, a button press that waits for its answer, and axe-core's verdict.

State is always read back through the application layer (newsletter.app), the way
the command line sees it, never from the page that claims it.
"""

from __future__ import annotations

import os
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from newsletter.app import mailing, subscriptions
from newsletter.app.workspace import Workspace
from newsletter.delivery.confirmations import CAMPAIGN
from newsletter.workspace.loading import load_workspace
from tests.conftest import EXAMPLE_RELEASE

if TYPE_CHECKING:  # names only: without Playwright the browser fixture skips the tests
    from playwright.sync_api import Locator, Page, Response

# axe-core's two worst impacts: a reader who depends on assistive technology is stuck
BLOCKING = ("serious", "critical")


def workspace(root: Path) -> Workspace:
    """The live app's workspace, loaded apart from the app: it shares only the disk."""
    return load_workspace(root)


def unsubscribe_url(base: str, ws: Workspace, email: str) -> str:
    """The List-Unsubscribe link a mail to ``email`` carries."""
    return f"{base}unsubscribe?t={subscriptions.signer(ws).unsubscribe_token(email)}"


def confirmation_mail(ws: Workspace, email: str) -> EmailMessage:
    """The confirmation mail the outbox holds for ``email`` (named by its recipient id,
    so a mail to anyone else is not taken for it). The page answers before the mail is
    written (the sign-up's slow part runs after the answer): it is waited for."""
    rid = subscriptions.signer(ws).recipient_id(email)
    path = ws.config.delivery.outbox / CAMPAIGN / f"{rid}.eml"
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def mail_links(message: EmailMessage) -> list[str]:
    """The links of the plain-text part, in order (each stands on a line of its own)."""
    body = message.get_body(("plain",))
    assert body is not None, "the confirmation mail has no text part"
    text = body.get_content()
    return [word for line in text.splitlines() for word in line.split()
            if word.startswith(("http://", "https://"))]


def press(page: Page, button: Locator) -> Response:
    """Press a form's button and wait for the page its POST answers with."""
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.request.is_navigation_request()) as answer:
        button.click()
    page.wait_for_load_state()
    return answer.value


def follow(page: Page, link: Locator) -> str:
    """The absolute address a link on the page points to (hrefs are paths)."""
    href = link.get_attribute("href")
    assert href, "the link has no href"
    return urljoin(page.url, href)


def html_lang_dir(page: Page) -> tuple[str | None, str | None]:
    root = page.locator("html")
    return root.get_attribute("lang"), root.get_attribute("dir")


def readers(ws: Workspace, *lists: str, tags: tuple[str, ...] = ()
            ) -> dict[str, tuple[str, str, str]]:
    """The dry-run plan of the next send of the example release to ``lists``: per
    address, (the language they read, the edition they get, why not their own)."""
    options = mailing.MailingOptions(lists=lists, tags=tags)
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, options).planned.plan
    return {a.recipient.email: (a.reader_lang, a.edition_lang, a.reason) for a in plan}


def blocking_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands, one line
    each: rule, impact, what it asks for, and the elements (CSS selectors)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [f"{v['id']} ({v['impact']}): {v['help']}: "
            + ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"])
            for v in results["violations"] if v["impact"] in BLOCKING]


def screenshot(page: Page, name: str) -> None:
    """With NEWSLETTER_SCREENSHOTS=<folder>, the whole page as <folder>/<name>.png (for
    a person to look at: right to left, glyphs, overflow); otherwise nothing."""
    folder = os.environ.get("NEWSLETTER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


ADMIN_PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts'


def sign_in(page: Page, name: str) -> None:
    """Fill the admin login form the page shows (a protected page redirects there) and
    send it; the caller waits for where it expects to land."""
    page.fill("#username", name)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("form.login button[type=submit]")

"""What the admin pages' TestClient tests share: the site they are reached at, the
headers of a post from our own pages and from another site, the test accounts'
password, and a client signed in as one of them."""

from __future__ import annotations

import time
import warnings

from starlette.exceptions import StarletteDeprecationWarning

from newsletter.app import sending

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SITE = "https://verbund.example.org"
ADMIN = "/newsletter/app/admin/"
SAME_ORIGIN = {"origin": SITE, "sec-fetch-site": "same-origin"}
EVIL = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts'

__all__ = ["ADMIN", "EVIL", "PASSWORD", "SAME_ORIGIN", "SITE", "TestClient", "browser",
           "signed_in", "wait_for_progress"]
DEADLINE = 60.0  # seconds a send worker may take (a loaded CI machine)


def browser(app) -> TestClient:
    """A client as a browser on the site: cookies kept, redirects not followed."""
    return TestClient(app, base_url=SITE, follow_redirects=False)


def signed_in(app, name: str) -> TestClient:
    client = browser(app)
    done = client.post(ADMIN + "login", data={"username": name, "password": PASSWORD},
                       headers=SAME_ORIGIN)
    assert done.status_code == 303
    return client


def wait_for_progress(ws, campaign: str, until, what: str) -> sending.Progress:
    """The send's progress once ``until(progress)`` holds; an error naming ``what`` and
    the last progress seen when it does not within DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        shown = sending.progress(ws, campaign)
        if until(shown):
            return shown
        time.sleep(0.02)
    raise AssertionError(f"{campaign}: {what} not reached in {DEADLINE:g} s: {shown}")

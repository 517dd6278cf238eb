"""The admin pages' URLs name releases: a name over the file-name limit, with a line
break or of a reserved id is one clear answer (the page for an unknown release), never
a traceback and never a 500."""

from __future__ import annotations

import pytest

from newsletter.app import accounts
from newsletter.app.sessions import Sessions
from newsletter.web import create_app
from tests.admin import ADMIN, PASSWORD, signed_in
from tests.conftest import EXAMPLE_RELEASE

pytestmark = pytest.mark.usefixtures("state_db")

NAMES = ("a" * 300, "b" * 5000, "x%0A", f"{EXAMPLE_RELEASE}%0A", "messages", "..%2F..%2Fetc")
PAGES = ("preview/{}/de", "preview/{}/de/frame", "review/{}/fa", "release/{}/edit")


@pytest.fixture
def officer(ws, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    return signed_in(create_app(ws, admin_sessions=Sessions(ws)), "leyla")


@pytest.mark.parametrize("page", PAGES)
def test_release_names_no_file_takes_are_one_clear_answer(officer, page):
    known = officer.get(ADMIN + page.format(EXAMPLE_RELEASE))
    assert known.status_code == 200, page
    for name in NAMES:
        answer = officer.get(ADMIN + page.format(name))
        assert answer.status_code == 404, (page, name, answer.status_code)
        assert "Traceback" not in answer.text

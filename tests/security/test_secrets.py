"""Secrets never shown: a database password in any form of URL (userinfo, ``?password=``,
``&password=``, a libpq keyword string) is printed as ``***`` by every command and
error, and readers' tokens never reach the server's access log."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.delivery.connection import database_url, safe
from newsletter.delivery.keys import load_signer
from newsletter.web.logs import mask_query
from newsletter.workspace.state import hide_passwords
from tests.security.server import request, serving

SECRET = "S3cr3t-Pa55"  # noqa: S105 - made up: what the output must never show
CLOSED = "127.0.0.1:1"  # nothing listens there: every connection is refused at once
URLS = (
    f"postgresql+psycopg://newsletter:{SECRET}@{CLOSED}/newsletter",
    f"postgresql+psycopg://newsletter@{CLOSED}/newsletter?password={SECRET}",
    f"postgresql+psycopg://newsletter@{CLOSED}/newsletter?sslmode=disable&password={SECRET}",
    f"postgresql+psycopg://newsletter@{CLOSED}/newsletter?PASSWORD={SECRET}&x=1",
    f"postgresql+psycopg://newsletter:{SECRET}@{CLOSED}/newsletter?sslpassword={SECRET}",
    f"postgresql://newsletter@{CLOSED}/?password={SECRET}",  # no database named
    f"postgresql+psycopg2://newsletter:{SECRET}@{CLOSED}/n?password={SECRET}",  # a driver
    f"mysql://newsletter:{SECRET}@{CLOSED}/n?password={SECRET}",  # another server
    f"host=127.0.0.1 port=1 dbname=newsletter password={SECRET}",  # libpq keywords
    f"host=127.0.0.1 port=1 password='{SECRET} x' dbname=newsletter",
    f"postgresql+psycopg://newsletter:{SECRET}@ss@{CLOSED}/newsletter",  # an unquoted @
)


def _run(*args: str, env: dict[str, str]):
    return CliRunner().invoke(cli, list(args), env={"NEWSLETTER_SECRET": "s" * 40, **env})


@pytest.mark.parametrize("url", URLS)
def test_no_command_prints_the_database_password(ws_root, url):
    outputs = [
        _run("db", "migrate", env={"NEWSLETTER_DATABASE_URL": url}),
        _run("--workspace", str(ws_root), "db", "copy", "--to", url, env={}),
        _run("--workspace", str(ws_root), "report", "c1",
             env={"NEWSLETTER_DATABASE_URL": url}),
    ]
    for result in outputs:
        assert result.exit_code == 1, result.output
        assert SECRET not in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert "***" in outputs[0].output or "not a database URL" in outputs[0].output


@pytest.mark.parametrize("url", [u for u in URLS if u.startswith("postgresql+psycopg:")])
def test_the_shown_url_hides_every_password(url):
    shown = safe(database_url(url))
    assert SECRET not in shown and "***" in shown


@pytest.mark.parametrize(("text", "shown"), [
    (f"x://u:{SECRET}@h/d", "x://u:***@h/d"),
    (f"host=h password={SECRET} user=u", "host=h password=*** user=u"),
    (f"host=h password = '{SECRET} x' user=u", "host=h password = *** user=u"),
    (f"?a=1&password={SECRET}&b=2", "?a=1&password=***&b=2"),
    ('password authentication failed for user "u"', 'password authentication failed for '
                                                    'user "u"'),
])
def test_driver_messages_are_cleaned_too(text, shown):
    assert hide_passwords(text) == shown


# --- the access log ------------------------------------------------------------------


def test_access_log_of_serve_holds_no_token(ws_root, tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own
    log = tmp_path / "serve.log"
    with serving(ws_root, log, env={"NEWSLETTER_SECRET": ""}) as served:
        signer = load_signer(ws_root / "state", allow_state_secret=True)
        token = signer.unsubscribe_token("jugend@elternverein-katernberg.example.org")
        rid = signer.recipient_id("jugend@elternverein-katernberg.example.org")
        preferences = signer.token("preferences", rid, time.time())
        base = "/newsletter/app/"
        for path in (f"{base}unsubscribe?t={token}", f"{base}preferences?t={preferences}",
                     f"{base}confirm?t={token}&lang=de", f"{base}unsubscribe?t={token}x"):
            status, _ = request(served, f"GET {path} HTTP/1.1\nHost: x\nConnection: close")
            assert status in (200, 400), path
    written = log.read_text(errors="replace")
    assert "GET /newsletter/app/unsubscribe?t=*** HTTP/1.1" in written, written
    assert "GET /newsletter/app/confirm?t=***&lang=*** HTTP/1.1" in written
    assert token not in written and preferences not in written


def test_mask_query_keeps_the_names_only():
    assert mask_query("/a/b") == "/a/b"
    assert mask_query("/u?t=abc") == "/u?t=***"
    assert mask_query("/u?t=abc&&lang=de&flag") == "/u?t=***&lang=***&flag=***"


def test_mask_query_hides_a_token_a_mail_client_moved():
    """A mangled link still logs no token: in a name's place or as a path segment."""
    from newsletter.audience.tokens import Signer
    token = Signer(b"s" * 32, b"k" * 32, "test").unsubscribe_token("a@example.org")
    for path in (f"/app/unsubscribe?{token}", f"/app/unsubscribe?t%3D{token}",
                 f"/app/unsubscribe/{token}", f"/app/unsubscribe/{token}?lang=de"):
        masked = mask_query(path)
        assert token not in masked and token[:12] not in masked, path
    # page names and release ids stay readable
    assert mask_query("/app/admin/release/2018-08-23-kooperationsvertrag/ar") == \
        "/app/admin/release/2018-08-23-kooperationsvertrag/ar"

"""The admin pages through Starlette's TestClient (no network): accounts and the users
command, login and sessions, every access rule, the audit log, the dashboard's numbers
and the previews."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from newsletter.app import accounts, audit, mailing
from newsletter.app.limits import LoginLimits, Window
from newsletter.app.sessions import Sessions
from newsletter.cli import cli
from newsletter.errors import AccountError
from newsletter.translation.adminstrings import admin_template
from newsletter.translation.catalog import po_path, read_catalog, write_catalog
from newsletter.translation.uicatalogs import ui_po_path, ui_pot_path
from newsletter.translation.uistrings import ADMIN_DOMAIN, reviewed_translations, ui_template
from newsletter.translation.webstrings import web_template
from newsletter.web import create_app
from newsletter.web.admin.access import COOKIE
from newsletter.workspace.state import DB_NAME
from tests.admin import ADMIN, EVIL, PASSWORD, SAME_ORIGIN, TestClient, signed_in
from tests.admin import browser as _client
from tests.conftest import EXAMPLE_RELEASE, require_msgfmt

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

OTHER = "a different passphrase"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _outbox_secret(monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def people(ws):
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    accounts.add_user(ws, "farid", "reviewer", ("fa",), PASSWORD)
    accounts.add_user(ws, "olena", "reviewer", ("uk", "ru"), PASSWORD)


@pytest.fixture
def app(ws, people, clock):
    return create_app(ws, admin_sessions=Sessions(ws, clock=clock))


def _login(client: TestClient, name: str, password: str = PASSWORD, headers=SAME_ORIGIN):
    return client.post(ADMIN + "login", data={"username": name, "password": password},
                       headers=headers)


def _actions(ws) -> list[tuple[str, str, str]]:
    return [(e.user, e.action, e.object) for e in audit.entries(ws)]


# --- accounts and the users command -------------------------------------------------------

def test_users_cli_adds_lists_changes_and_removes(ws_root, ws):
    runner = CliRunner()
    base = ["--workspace", str(ws_root), "users"]
    done = runner.invoke(cli, [*base, "add", "amina", "--role", "reviewer", "--lang", "ar"],
                         input=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert PASSWORD not in done.output
    assert "Added reviewer amina for ar" in done.output
    listed = runner.invoke(cli, [*base, "list"])
    assert "amina" in listed.output and "reviewer" in listed.output and "ar" in listed.output
    differ = runner.invoke(cli, [*base, "passwd", "amina"], input=f"{OTHER}\nsomething else\n")
    assert differ.exit_code == 1 and "differ" in differ.output
    short = runner.invoke(cli, [*base, "passwd", "amina"], input="short\nshort\n")
    assert short.exit_code == 1 and "too short" in short.output
    changed = runner.invoke(cli, [*base, "passwd", "amina"], input=f"{OTHER}\n{OTHER}\n")
    assert changed.exit_code == 0 and OTHER not in changed.output
    removed = runner.invoke(cli, [*base, "remove", "amina"])
    assert removed.exit_code == 0
    assert "removed" in runner.invoke(cli, [*base, "list"]).output
    log = runner.invoke(cli, ["--workspace", str(ws_root), "audit", "--limit", "2"])
    assert "password changed" in log.output and "user removed" in log.output
    assert "user added" not in log.output  # --limit shows the newest only
    assert _actions(ws) == [("(command line)", "user added", "amina"),
                            ("(command line)", "password changed", "amina"),
                            ("(command line)", "user removed", "amina")]


@pytest.mark.parametrize(("name", "role", "langs", "problem"), [
    ("x y", "officer", (), "not a usable account name"),
    ("amina", "reviewer", (), "needs at least one --lang"),
    ("amina", "officer", ("ar",), "every language"),
    ("amina", "reviewer", ("de",), "not a target language"),
    ("amina", "reviewer", ("xx",), "xx"),
])
def test_bad_accounts_are_refused(ws, name, role, langs, problem):
    with pytest.raises((AccountError, ValueError), match=problem):
        accounts.add_user(ws, name, role, langs, PASSWORD)


def test_an_account_name_is_taken_once_and_case_does_not_matter(ws, people):
    with pytest.raises(AccountError, match="already"):
        accounts.add_user(ws, "Leyla", "officer", (), PASSWORD)


@pytest.mark.sqlite_file
def test_the_ledger_keeps_hashes_and_an_append_only_audit_log(ws, people):
    db = sqlite3.connect(ws.state_dir / DB_NAME)
    stored = [h for (h,) in db.execute("SELECT password FROM users")]
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET action='x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")


# --- login, sessions, access rules ---------------------------------------------------------

def test_without_a_session_pages_go_to_the_login_and_posts_get_401(app):
    client = _client(app)
    page = client.get(ADMIN)
    assert page.status_code == 303
    assert page.headers["location"] == ADMIN + "login?next=%2Fnewsletter%2Fapp%2Fadmin%2F"
    preview = client.get(ADMIN + f"preview/{EXAMPLE_RELEASE}/fa/frame")
    assert preview.status_code == 303
    assert client.post(ADMIN + "logout", headers=SAME_ORIGIN).status_code == 401
    forged = _client(app)
    forged.cookies.set(COOKIE, "abc.def", domain="verbund.example.org")
    assert forged.get(ADMIN).status_code == 303


def test_login_sets_a_strict_cookie_and_comes_back(app, ws):
    client = _client(app)
    form = client.get(ADMIN + "login")
    assert form.status_code == 200 and 'name="username"' in form.text
    assert 'name="password"' in form.text
    assert form.headers["content-security-policy"].startswith("default-src 'self'")
    done = client.post(ADMIN + "login", headers=SAME_ORIGIN,
                       data={"username": "leyla", "password": PASSWORD,
                             "next": ADMIN + f"preview/{EXAMPLE_RELEASE}/tr"})
    assert done.status_code == 303
    assert done.headers["location"] == ADMIN + f"preview/{EXAMPLE_RELEASE}/tr"
    cookie = done.headers["set-cookie"]
    for part in ("HttpOnly", "Secure", "SameSite=lax", "Path=/newsletter/app/admin/"):
        assert part in cookie
    assert PASSWORD not in cookie
    assert client.get(ADMIN).status_code == 200
    # another site cannot be the target after login
    evil = _client(app).post(ADMIN + "login", headers=SAME_ORIGIN,
                             data={"username": "leyla", "password": PASSWORD,
                                   "next": "https://evil.example/"})
    assert evil.headers["location"] == ADMIN
    assert ("leyla", "login", "") in _actions(ws)


def test_wrong_password_and_unknown_name_get_the_same_answer(app, ws):
    wrong = _login(_client(app), "leyla", "not the password")
    unknown = _login(_client(app), "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers

    def main(text: str) -> str:
        return re.sub(r'value="[^"]*"', "", text[text.index("<main>"):])

    assert main(wrong.text) == main(unknown.text)
    log = _actions(ws)
    assert ("leyla", "login failed", "") in log
    assert ("(unknown name)", "login failed", "") in log  # a typed name may be a password
    assert all("not the password" not in str(entry) for entry in audit.entries(ws))


def test_logins_are_rate_limited_per_address_and_per_name(ws, people):
    limits = LoginLimits(per_ip=Window(3, 900), per_name=Window(2, 900))
    app = create_app(ws, admin_sessions=Sessions(ws, limits=limits))
    for _ in range(2):
        assert _login(_client(app), "leyla", "wrong password!").status_code == 401
    # two failures for the name: even the right password waits now
    blocked = _login(_client(app), "leyla")
    assert blocked.status_code == 429 and "set-cookie" not in blocked.headers
    # the per-address limit counts every attempt, for any name
    assert _login(_client(app), "farid").status_code == 429


def test_cross_site_posts_are_refused(app, ws):
    assert _login(_client(app), "leyla", headers=EVIL).status_code == 403
    client = signed_in(app, "leyla")
    for headers in (EVIL, {"origin": "https://evil.example"}, {"origin": "null"}):
        refused = client.post(ADMIN + "logout", headers=headers)
        assert refused.status_code == 403
        assert client.post(ADMIN + "ui", data={"ui": "de"}, headers=headers).status_code == 403
    assert client.get(ADMIN).status_code == 200  # still signed in: nothing happened
    assert client.post(ADMIN + "logout", headers=SAME_ORIGIN).status_code == 303
    assert client.get(ADMIN).status_code == 303
    assert ("leyla", "logout", "") in _actions(ws)


def test_sessions_end_when_idle_and_when_too_old(app, clock):
    client = signed_in(app, "leyla")
    clock.now += 29 * 60
    assert client.get(ADMIN).status_code == 200  # activity keeps it alive
    clock.now += 31 * 60
    idle = client.get(ADMIN)
    assert idle.status_code == 303 and "login" in idle.headers["location"]
    assert client.get(ADMIN).status_code == 303  # ended for good, not only this once

    client = signed_in(app, "leyla")
    for _ in range(12 * 4 + 1):  # busy all day, a request every 15 minutes
        clock.now += 15 * 60
        answer = client.get(ADMIN)
    assert answer.status_code == 303  # 12 hours after the login it is over anyway


@pytest.mark.parametrize("change", ["passwd", "remove"])
def test_a_new_password_or_removal_ends_the_sessions(app, ws, change):
    client = signed_in(app, "farid")
    assert client.get(ADMIN).status_code == 200
    if change == "passwd":
        assert accounts.change_password(ws, "farid", OTHER) == 1
        assert _login(_client(app), "farid", PASSWORD).status_code == 401
        assert _login(_client(app), "farid", OTHER).status_code == 303
    else:
        assert accounts.remove_user(ws, "farid") == 1
        assert _login(_client(app), "farid", PASSWORD).status_code == 401
    assert client.get(ADMIN).status_code == 303


def test_reviewers_see_only_their_languages(app):
    farid = signed_in(app, "farid")
    board = farid.get(ADMIN)
    assert board.status_code == 200
    assert f'preview/{EXAMPLE_RELEASE}/fa"' in board.text
    assert f"review/{EXAMPLE_RELEASE}/fa" in board.text
    for other in ("tr", "ar", "uk", "de"):
        assert f'preview/{EXAMPLE_RELEASE}/{other}"' not in board.text
    assert "Last campaign" not in board.text and "Not sent yet" not in board.text
    assert farid.get(ADMIN + f"preview/{EXAMPLE_RELEASE}/fa").status_code == 200
    for path in (f"preview/{EXAMPLE_RELEASE}/ar", f"preview/{EXAMPLE_RELEASE}/ar/frame",
                 f"preview/{EXAMPLE_RELEASE}/de"):
        refused = farid.get(ADMIN + path)
        assert refused.status_code == 403, path
        assert "Reviewers see the languages of their account only" in refused.text
    olena = signed_in(app, "olena")
    assert olena.get(ADMIN + f"preview/{EXAMPLE_RELEASE}/ru").status_code == 200
    assert olena.get(ADMIN + f"preview/{EXAMPLE_RELEASE}/fa").status_code == 403


def test_unknown_releases_and_languages_are_404(app):
    leyla = signed_in(app, "leyla")
    assert leyla.get(ADMIN + "preview/no-such-release/tr").status_code == 404
    assert leyla.get(ADMIN + f"preview/{EXAMPLE_RELEASE}/xx").status_code == 404


# --- the dashboard's numbers ---------------------------------------------------------------

def _doctor_turkish(ws) -> None:
    """Three Turkish entries back to draft, one broken (its number gone)."""
    path = po_path(ws, EXAMPLE_RELEASE, "tr")
    cat = read_catalog(path, locale="tr")
    msgs = [m for m in cat if m.id and m.string]
    for m in msgs[1:4]:
        m.flags.add("fuzzy")
    broken = next(m for m in msgs[4:] if re.search(r"\d", m.string))
    broken.string = re.sub(r"\d+", "", broken.string)
    write_catalog(path, cat)


def _count(path: Path) -> dict[str, int]:
    """Counted straight from the PO file: approved, fuzzy, empty."""
    with path.open("rb") as f:
        cat = read_po(f)
    msgs = [m for m in cat if m.id]
    return {"total": len(msgs), "fuzzy": sum(1 for m in msgs if m.string and m.fuzzy),
            "approved": sum(1 for m in msgs if m.string and not m.fuzzy),
            "empty": sum(1 for m in msgs if not m.string)}


def _cell(html: str, release: str, lang: str) -> str:
    row = html[html.index(f"<code>{release}</code>"):]
    row = row[:row.index("</tr>")]
    start = row.index(f'href="{ADMIN}review/{release}/{lang}"')
    cell_start = row.rindex("<td", 0, start)
    return " ".join(re.sub(r"<[^>]+>", " ", row[cell_start:row.index("</ul>", cell_start)]
                           ).split())


def test_the_dashboard_counts_what_the_catalogs_hold(app, ws):
    _doctor_turkish(ws)
    tr = _count(po_path(ws, EXAMPLE_RELEASE, "tr"))
    ar = _count(po_path(ws, EXAMPLE_RELEASE, "ar"))
    fa = _count(po_path(ws, EXAMPLE_RELEASE, "fa"))
    assert (tr["total"], tr["fuzzy"], tr["empty"]) == (25, 3, 0)
    assert (ar["approved"], fa["empty"]) == (25, 24)
    board = signed_in(app, "leyla").get(ADMIN + "?ui=en").text
    # one of the 21 non-fuzzy Turkish entries fails a check: 20 approved, 3 to review
    assert _cell(board, EXAMPLE_RELEASE, "tr") == (
        f"Falls back to Deutsch {tr['approved'] - 1} of 25 approved {tr['fuzzy']} to review "
        "1 fails a check")
    assert _cell(board, EXAMPLE_RELEASE, "ar") == "Ready 25 of 25 approved"
    assert _cell(board, EXAMPLE_RELEASE, "fa") == (
        "Falls back to English 1 of 25 approved 24 not translated")
    assert _cell(board, "2018-08-09-sprachcafe", "uk") == (
        "Falls back to Deutsch 0 of 7 approved 7 not translated")
    assert "25 entries" in board and "7 entries" in board and "15 entries" in board
    assert "Not sent yet" in board


def test_the_dashboard_shows_the_last_campaign_and_the_policy(app, ws):
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, mailing.MailingOptions(lists=("members",)))
    sent = mailing.send(ws, plan)
    board = signed_in(app, "leyla").get(ADMIN + "?ui=en").text
    rehearsal = re.search(r"Last rehearsal [\d-]+ [\d:]+: (\d+) messages \(sent (\d+)\)", board)
    assert rehearsal is not None, board
    assert int(rehearsal.group(1)) == int(rehearsal.group(2)) == sent.delivered > 0
    text = (ws.root / "newsletter.toml").read_text(encoding="utf-8")
    (ws.root / "newsletter.toml").write_text(text.replace('ku = "reviewed"', 'ku = "machine"'),
                                             encoding="utf-8")
    from newsletter.workspace.loading import load_workspace
    machine_ws = load_workspace(ws.root)
    board = signed_in(create_app(machine_ws), "leyla").get(ADMIN + "?ui=en").text
    assert "Policy: machine drafts allowed" in _cell(board, EXAMPLE_RELEASE, "ku")


def test_the_dashboard_speaks_german(app):
    leyla = signed_in(app, "leyla")
    german = leyla.get(ADMIN, headers={"accept-language": "de-DE,de;q=0.9"})
    assert '<html lang="de"' in german.text and "Übersicht" in german.text
    assert "Fällt zurück auf" in german.text
    english = leyla.get(ADMIN + "?ui=en", headers={"accept-language": "de"})
    assert '<html lang="en"' in english.text and "Overview" in english.text
    # the account's choice wins over the browser's
    assert leyla.post(ADMIN + "ui", data={"ui": "en", "next": ADMIN},
                      headers=SAME_ORIGIN).status_code == 303
    assert "Overview" in leyla.get(ADMIN, headers={"accept-language": "de"}).text


# --- previews ------------------------------------------------------------------------------

def test_the_preview_shows_the_fallback_and_the_edition(app):
    leyla = signed_in(app, "leyla")
    page = leyla.get(ADMIN + f"preview/{EXAMPLE_RELEASE}/fa?ui=en")
    assert page.status_code == 200
    assert "Fallback: readers of" in page.text and "get the" in page.text
    assert ">English</bdi> edition" in page.text
    assert '<bdi lang="fa" dir="rtl">فارسی</bdi>: 24 of 25 entries not translated' in page.text
    frame = re.search(r'<iframe[^>]*src="([^"]+)"[^>]*>', page.text)
    assert frame is not None and 'sandbox=""' in frame.group(0)
    assert 'width="700"' in frame.group(0)
    phone = leyla.get(ADMIN + f"preview/{EXAMPLE_RELEASE}/fa?width=phone")
    assert 'width="375"' in phone.text
    # the plain text part, in English (the fallback)
    assert "Immigrant association and City of Essen" in page.text
    html = leyla.get(frame.group(1))
    assert html.status_code == 200 and html.text.startswith("<!DOCTYPE html>")
    assert 'lang="en"' in html.text and "Immigrant association" in html.text
    policy = html.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'self'" in policy and html.headers["x-frame-options"] == "SAMEORIGIN"
    # the image comes through a signed link (the sandboxed frame sends no cookie)
    image = re.search(r'<img[^>]*src="([^"]+)"', html.text)
    assert image is not None
    assert _client(app).get(image.group(1).replace("&amp;", "&")).status_code == 200
    assert _client(app).get(image.group(1).split("?")[0] + "?t=forged").status_code == 404


def test_the_arabic_preview_is_arabic_and_right_to_left(app):
    page = signed_in(app, "leyla").get(ADMIN + f"preview/{EXAMPLE_RELEASE}/ar?ui=en")
    assert "get their own edition" in page.text
    assert '<pre class="plain" lang="ar" dir="rtl"' in page.text


# --- the interface strings and older ledgers -----------------------------------------------

def test_admin_pot_is_up_to_date_apart_and_german_is_complete(ws):
    fresh = {m.id for m in admin_template(ws) if m.id}
    committed = {m.id for m in read_catalog(ui_pot_path(ws, ADMIN_DOMAIN), prose=False) if m.id}
    assert fresh == committed, "run 'newsletter extract --ui' and translate the new strings"
    assert "Falls back to %(language)s" in fresh
    assert "Falls back to %(language)s" not in {m.id for m in ui_template(ws)}
    assert "Falls back to %(language)s" not in {m.id for m in web_template(ws)}
    german = reviewed_translations(ws, ADMIN_DOMAIN, "de")  # raises when incomplete
    assert german.gettext("Overview") == "Übersicht"
    done = subprocess.run([require_msgfmt(), "-c", "-o", os.devnull,
                           str(ui_po_path(ws, ADMIN_DOMAIN, "de"))], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.sqlite_file
def test_a_ledger_from_before_the_admin_pages_gets_its_tables(ws):
    from newsletter.delivery.ledger import open_ledger

    with open_ledger(ws.state_dir):
        pass
    db = sqlite3.connect(ws.state_dir / DB_NAME)
    for statement in ("DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete",
                      "DROP TABLE audit", "DROP TABLE sessions", "DROP TABLE users",
                      "PRAGMA user_version=0"):  # as ledgers set up before the schema stamp
        db.execute(statement)
    db.commit()
    db.close()
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    assert [u.account.name for u in accounts.list_users(ws)] == ["leyla"]
    assert _actions(ws) == [("(command line)", "user added", "leyla")]

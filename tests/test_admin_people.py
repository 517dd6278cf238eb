"""The officer's reports, people and upload pages through Starlette's TestClient: access
rules, the report's numbers against the command's, the CSV download, suppress,
unsuppress and forget as the ledger and the audit log see them, the consent record,
and importing an uploaded .docx or .txt with its front matter edited in the form."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner

from newsletter.app import accounts, audit, mailing, people, reports, subscriptions
from newsletter.app import uploads as upload_cases
from newsletter.app.sessions import Sessions
from newsletter.audience.tokens import address_id
from newsletter.cli import cli
from newsletter.delivery import subscribers
from newsletter.delivery.keys import load_address_key
from newsletter.delivery.ledger import open_ledger
from newsletter.web import create_app
from tests.admin import ADMIN, EVIL, PASSWORD, SAME_ORIGIN, TestClient, browser, signed_in
from tests.conftest import EXAMPLE_RELEASE

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

MEMBER = "vorstand@elternverein-katernberg.example.org"  # recipients/members.csv


@pytest.fixture(autouse=True)
def _outbox_secret(monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)


@pytest.fixture
def app(ws):
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    accounts.add_user(ws, "farid", "reviewer", ("fa",), PASSWORD)
    return create_app(ws, admin_sessions=Sessions(ws))


def _client(app, name: str | None = "leyla") -> TestClient:
    return signed_in(app, name) if name else browser(app)


@pytest.fixture
def officer(app):
    return _client(app)


@pytest.fixture
def sent(ws):
    """The members list sent to the outbox, as 'newsletter send' does."""
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, mailing.MailingOptions(lists=("members",)))
    return mailing.send(ws, plan).planned.campaign


def _main(text: str) -> str:
    return text[text.index("<main>"):]


def _audit(ws) -> list[tuple[str, str, str, str]]:
    return [(e.user, e.action, e.object, e.detail) for e in audit.entries(ws)]


# --- access ---------------------------------------------------------------------------------

GETS = ["reports", "people", "upload", f"release/{EXAMPLE_RELEASE}/edit"]
POSTS = ["people/find", "people/suppress", "people/unsuppress", "people/forget",
         "people/consent", "upload", f"release/{EXAMPLE_RELEASE}/edit"]


@pytest.mark.parametrize("page", GETS)
def test_pages_are_for_signed_in_officers(app, page):
    anonymous = _client(app, None).get(ADMIN + page)
    assert anonymous.status_code == 303 and "/admin/login?next=" in anonymous.headers["location"]
    assert _client(app, "farid").get(ADMIN + page).status_code == 403
    assert _client(app).get(ADMIN + page).status_code == 200


@pytest.mark.parametrize("page", POSTS)
def test_posts_need_an_officer_and_our_own_site(app, ws, page):
    form = {"email": MEMBER, "confirm": MEMBER, "reason": "manual"}
    assert _client(app, None).post(ADMIN + page, data=form, headers=SAME_ORIGIN).status_code == 401
    assert _client(app, "farid").post(ADMIN + page, data=form,
                                      headers=SAME_ORIGIN).status_code == 403
    assert _client(app).post(ADMIN + page, data=form, headers=EVIL).status_code == 403
    assert not people.suppressions(ws)  # none of them changed anything
    assert [a for _, a, _, _ in _audit(ws) if a not in ("user added", "login")] == []


def test_the_csv_download_needs_an_officer_and_our_site(app, sent):
    url = ADMIN + f"reports/{sent}/csv"
    assert _client(app, "farid").post(url, headers=SAME_ORIGIN).status_code == 403
    assert _client(app).post(url, headers=EVIL).status_code == 403
    assert _client(app).get(url).status_code == 405  # a download writes: POST only


def test_unknown_campaigns_are_404(officer):
    assert officer.get(ADMIN + "reports/no-such-campaign").status_code == 404
    assert officer.post(ADMIN + "reports/no-such-campaign/csv",
                        headers=SAME_ORIGIN).status_code == 404


# --- reports --------------------------------------------------------------------------------

def test_the_report_has_the_commands_numbers(officer, ws, ws_root, sent):
    shown = officer.get(ADMIN + f"reports/{sent}")
    assert shown.status_code == 200
    command = CliRunner().invoke(cli, ["--workspace", str(ws_root), "report", sent])
    assert command.exit_code == 0, command.output
    summary = command.output.strip().splitlines()[-1]  # "9 sent" or "8 sent, 1 rejected"
    counts = dict((s, int(n)) for n, s in (part.split() for part in summary.split(", ")))
    main = _main(shown.text)
    footer = main[main.index("<tfoot>"):main.index("</tfoot>")]
    cells = [int(n) for n in re.findall(r"<strong>(\d+)</strong>", footer)]
    assert cells == [*counts.values(), sum(counts.values())]
    report = reports.campaign_report(ws, sent)
    for lg in report.languages:  # a row per edition, its numbers as the ledger's
        rows = [r for r in mailing.report(ws, sent).rows if r.language == lg.code]
        assert sum(report.by_language[lg.code].values()) == len(rows)
        assert f'<span class="code">{lg.code}</span>' in main
    listing = officer.get(ADMIN + "reports")
    assert sent in listing.text and "Bounces, complaints and unsubscribes" in listing.text


def test_suppressions_are_counted_by_reason_and_route(officer, ws):
    people.suppress(ws, ("a@example.org", "b@example.org"), "bounce")
    people.unsubscribe_recipient(ws, "0" * 32, source="web")
    summary = reports.suppressions_by_route(ws)
    assert summary.count("bounce", "manual") == 2
    assert summary.count("unsubscribe", "web") == 1
    page = _main(officer.get(ADMIN + "reports").text)
    assert "<code>web</code>" in page and "<code>manual</code>" in page
    assert "a@example.org" not in page  # counts only


def test_the_csv_download_is_the_commands_file_and_recorded(officer, ws, ws_root, sent):
    evil = "=HYPERLINK(\"http://evil.example\")"
    with open_ledger(ws.state_dir) as ledger:  # a name or error a reader could shape
        ledger.db.execute("UPDATE deliveries SET last_error=? WHERE campaign=?", (evil, sent))
    got = officer.post(ADMIN + f"reports/{sent}/csv", headers=SAME_ORIGIN)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == f'attachment; filename="report-{sent}.csv"'
    assert got.headers["cache-control"] == "no-store"
    cli_file = ws_root / "cli.csv"
    command = CliRunner().invoke(cli, ["--workspace", str(ws_root), "report", sent,
                                       "--csv", str(cli_file)])
    assert command.exit_code == 0, command.output
    assert got.content == cli_file.read_bytes()
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows and all(r["last_error"] == "'" + evil for r in rows)
    assert any(r["email"] == MEMBER for r in rows)
    with open_ledger(ws.state_dir) as ledger:
        recorded = [path for path, campaign, _ in ledger.exports() if campaign == sent]
    assert str(ws.state_dir / "exports" / f"{sent}.csv") in recorded
    assert ("leyla", "report downloaded", sent) in [e[:3] for e in _audit(ws)]
    # erasure names the kept copy
    assert any(p.name == f"{sent}.csv" for p in people.forget(ws, MEMBER).exports)


# --- people ---------------------------------------------------------------------------------

def test_find_shows_lists_deliveries_and_suppression(officer, ws, sent):
    found = officer.post(ADMIN + "people/find", headers=SAME_ORIGIN,
                         data={"email": "  vorstand@Elternverein-Katernberg.EXAMPLE.org "})
    assert found.status_code == 200
    main = _main(found.text)
    assert MEMBER in main.lower()
    assert "recipients/members.csv" in main
    assert sent in main  # the delivery
    assert "Not suppressed" in main
    unknown = _main(officer.post(ADMIN + "people/find", headers=SAME_ORIGIN,
                                 data={"email": "nobody@example.org"}).text)
    assert "in no list" in unknown
    partial = officer.post(ADMIN + "people/find", headers=SAME_ORIGIN, data={"email": "vorstand"})
    assert partial.status_code == 400 and "not an email address" in partial.text
    assert officer.post(ADMIN + "people/find", headers=SAME_ORIGIN,
                        data={"email": "x" * 70_000}).status_code == 400


def test_suppress_and_unsuppress_are_in_the_ledger_and_the_audit_log(officer, ws):
    done = officer.post(ADMIN + "people/suppress", headers=SAME_ORIGIN,
                        data={"email": MEMBER, "reason": "complaint"})
    assert done.status_code == 200 and "Suppressed:" in done.text
    [entry] = people.suppressions(ws)
    assert (entry.email, entry.reason, entry.source) == (MEMBER, "complaint", "manual")
    again = officer.post(ADMIN + "people/suppress", headers=SAME_ORIGIN,
                         data={"email": MEMBER, "reason": "manual"})
    assert "already suppressed" in again.text
    bad = officer.post(ADMIN + "people/suppress", headers=SAME_ORIGIN,
                       data={"email": "b@example.org", "reason": "erased"})
    assert bad.status_code == 400 and len(people.suppressions(ws)) == 1
    undone = officer.post(ADMIN + "people/unsuppress", headers=SAME_ORIGIN,
                          data={"email": MEMBER})
    assert undone.status_code == 200 and "Taken off" in undone.text
    assert people.suppressions(ws) == []
    log = [e for e in _audit(ws) if e[1] in ("suppressed", "unsuppressed")]
    rid = subscriptions.consent(ws, MEMBER).recipient_id
    assert log == [("leyla", "suppressed", rid, "complaint"), ("leyla", "unsuppressed", rid, "")]
    assert not any("@" in part for e in _audit(ws) for part in e)


def test_forget_needs_the_address_typed_again(officer, ws, sent):
    refused = officer.post(ADMIN + "people/forget", headers=SAME_ORIGIN,
                           data={"email": MEMBER, "confirm": "someone@example.org"})
    assert refused.status_code == 400 and "Nothing was erased" in refused.text
    empty = officer.post(ADMIN + "people/forget", headers=SAME_ORIGIN, data={"email": MEMBER})
    assert empty.status_code == 400
    assert any(r.email == MEMBER for r in mailing.report(ws, sent).rows)
    log = ws.state_dir / "sends" / f"{sent}.log"  # a worker's traceback quoting them
    log.parent.mkdir(exist_ok=True)
    log.write_text(f"Traceback ...\nRecipientError: {MEMBER}: mailbox full\n", encoding="utf-8")
    done = officer.post(ADMIN + "people/forget", headers=SAME_ORIGIN,
                        data={"email": MEMBER, "confirm": MEMBER.upper()})
    assert done.status_code == 200 and "Erased" in done.text
    assert "removed from 1 record(s) of sends" in done.text
    assert MEMBER not in log.read_text(encoding="utf-8")
    assert "recipients/members.csv:" in done.text  # still in the list file: said
    assert not any(r.email == MEMBER for r in mailing.report(ws, sent).rows)
    rid = subscriptions.consent(ws, MEMBER).recipient_id
    erased = [s for s in people.suppressions(ws) if s.key == rid]
    assert erased and erased[0].reason == "erased" and erased[0].email is None
    log = [e for e in _audit(ws) if e[1] == "forgotten"]
    assert [e[:3] for e in log] == [("leyla", "forgotten", rid)]
    assert not any(MEMBER in part for e in _audit(ws) for part in e)
    after = _main(officer.post(ADMIN + "people/find", headers=SAME_ORIGIN,
                               data={"email": MEMBER}).text)
    assert "Erased on" in after and sent not in after


def test_the_consent_record_is_shown(officer, ws):
    visitor = subscriptions.Visitor("203.0.113.9", "Firefox/140")
    rid = address_id(load_address_key(ws.state_dir), "new@example.org")
    with open_ledger(ws.state_dir) as ledger:
        subscribers.add_pending(ledger, rid, "new@example.org", "", "fa", ("youth",))
        subscribers.record_consent(ledger, rid, "signup", ip=visitor.ip,
                                   user_agent=visitor.user_agent, consent_text="Ja, bitte")
    page = officer.post(ADMIN + "people/consent", headers=SAME_ORIGIN,
                        data={"email": "New@Example.org"})
    assert page.status_code == 200
    main = _main(page.text)
    assert "new@example.org" in main.lower()  # as typed, normalised
    assert "signup" in main
    assert "203.0.113.9" in main and "Firefox/140" in main and "Ja, bitte" in main
    person = _main(officer.post(ADMIN + "people/find", headers=SAME_ORIGIN,
                                data={"email": "new@example.org"}).text)
    assert "Signed up on the web" in person and "pending" in person


# --- upload ---------------------------------------------------------------------------------

def _docx(title: str) -> bytes:
    import docx

    doc = docx.Document()
    doc.add_paragraph("Pressemitteilung")
    doc.add_paragraph(title, style="Title")
    doc.add_paragraph("Essen, 4. September 2018 – Der Verbund lädt alle Vereine zu einem "
                      "Austausch über die Jugendarbeit ein.")
    doc.add_paragraph("Die Veranstaltung findet im Verbundhaus statt.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


TEXT = ("Sommerfest im Verbundhaus\n\nEssen, 10. September 2018\n\n"
        "Der Verbund feiert am Samstag sein Sommerfest mit Musik und Essen aus vielen "
        "Ländern.\n").encode()


def _upload(client, name: str, data: bytes, **fields: str):
    return client.post(ADMIN + "upload", headers=SAME_ORIGIN, data=fields,
                       files={"file": (name, data, "application/octet-stream")})


def test_a_docx_is_imported_and_its_guesses_shown(officer, ws):
    got = _upload(officer, "../../etc/Presse Mitteilung.docx",
                  _docx("Verbund lädt zum Austausch über Jugendarbeit ein"), id="jugend")
    assert got.status_code == 200, _main(got.text)
    written = ws.releases_dir / "jugend.md"
    assert written.is_file()
    text = written.read_text()
    assert "title: Verbund lädt zum Austausch über Jugendarbeit ein" in text
    assert "Presse-Mitteilung.docx" in text  # the client's name, made safe, in a comment
    main = _main(got.text)
    assert "What was guessed" in main and 'value="Verbund lädt zum Austausch' in main
    assert list((ws.state_dir / "uploads").iterdir()) == []  # the upload is gone
    assert ("leyla", "release imported", "jugend", "") in _audit(ws)


def test_a_txt_is_imported_and_never_replaced_without_confirmation(officer, ws):
    first = _upload(officer, "fest.txt", TEXT, id="fest")
    assert first.status_code == 200
    path = ws.releases_dir / "fest.md"
    before = path.read_bytes()
    second = _upload(officer, "fest.txt", TEXT.replace(b"Sommerfest", b"Herbstfest"), id="fest")
    assert second.status_code == 409 and 'name="replace"' in second.text
    assert path.read_bytes() == before
    third = _upload(officer, "fest.txt", TEXT.replace(b"Sommerfest", b"Herbstfest"), id="fest",
                    replace="yes")
    assert third.status_code == 200 and b"Herbstfest" in path.read_bytes()
    assert ("leyla", "release imported", "fest", "replaced") in _audit(ws)


@pytest.mark.parametrize(("name", "data", "fields", "status", "says"), [
    ("big.txt", b"x" * (upload_cases.MAX_UPLOAD + 1), {}, 413, "larger than 10 MB"),
    ("release.pdf", b"%PDF-1.4", {}, 400, "cannot import .pdf"),
    ("noext", b"text", {}, 400, "cannot import files without a suffix"),
    ("ok.txt", TEXT, {"id": "../evil"}, 400, "release id"),
    ("ok.txt", TEXT, {"kind": "poem"}, 400, "could not be read"),
    ("broken.docx", b"not a zip", {}, 422, "could not be imported"),  # damaged
])
def test_bad_uploads_are_refused(officer, ws, name, data, fields, status, says):
    before = sorted(p.name for p in ws.releases_dir.iterdir())
    got = _upload(officer, name, data, **fields)
    assert got.status_code == status
    assert says in got.text
    assert sorted(p.name for p in ws.releases_dir.iterdir()) == before


def test_an_upload_without_a_file_or_too_long_by_its_header_is_refused(officer):
    empty = officer.post(ADMIN + "upload", headers=SAME_ORIGIN, data={"id": "x"},
                         files={"other": ("a.txt", b"", "text/plain")})
    assert empty.status_code == 400
    lying = officer.post(ADMIN + "upload", content=b"x",
                         headers={**SAME_ORIGIN, "content-type": "multipart/form-data; boundary=x",
                                  "content-length": str(upload_cases.MAX_UPLOAD * 2)})
    assert lying.status_code == 413


def _edit_form(officer, release: str) -> dict[str, str]:
    page = officer.get(ADMIN + f"release/{release}/edit").text
    values = dict(re.findall(r'name="([a-z_]+)" type="text" value="([^"]*)"', page))
    values["version"] = re.search(r'name="version" value="(\w+)"', page).group(1)
    values["kind"] = re.search(r'<option value="(\w+)" selected', page).group(1)
    values["summary"] = re.search(r'name="summary"[^>]*>([^<]*)</textarea>', page).group(1)
    return {k: v.replace("&#34;", '"').replace("&amp;", "&") for k, v in values.items()}


def test_the_front_matter_form_saves_through_the_parser(officer, ws):
    form = _edit_form(officer, EXAMPLE_RELEASE)
    assert form["contact_name"] == "Leyla Demir" and form["date"] == "2018-08-23"
    form.update(title="Neuer Titel: Vertrag", location="Essen-Katernberg", summary="Kurz.")
    saved = officer.post(ADMIN + f"release/{EXAMPLE_RELEASE}/edit", headers=SAME_ORIGIN,
                         data=form)
    assert saved.status_code == 303
    assert officer.get(saved.headers["location"]).status_code == 200
    from newsletter.app.workspace import find_release
    release = find_release(ws, EXAMPLE_RELEASE)
    assert release.title.text == "Neuer Titel: Vertrag"
    assert release.location.text == "Essen-Katernberg"
    assert release.image is not None and release.contact.name == "Leyla Demir"  # kept
    assert "date: 2018-08-23\n" in (ws.releases_dir / f"{EXAMPLE_RELEASE}.md").read_text()
    assert ("leyla", "front matter saved", EXAMPLE_RELEASE, "") in _audit(ws)
    stale = officer.post(ADMIN + f"release/{EXAMPLE_RELEASE}/edit", headers=SAME_ORIGIN,
                         data=form)  # the old version: the file changed since
    assert stale.status_code == 400 and "changed since" in stale.text


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"title": ""}, "title", "missing front-matter key 'title'"),
    ({"date": "2018-02-30"}, "date", "bad date"),
    ({"kind": "poem"}, "kind", "kind must be one of"),
    ({"contact_email": "not an address"}, "contact_email", "contact.email"),
    ({"contact_name": "", "contact_role": "", "contact_phone": "", "contact_email": "x@y.org"},
     "contact_name", "missing front-matter key 'contact.name'"),
    ({"summary": "<1>"}, "summary", "reserved for markup placeholders"),
])
def test_bad_front_matter_is_refused_naming_the_field(officer, ws, change, field, says):
    path = ws.releases_dir / f"{EXAMPLE_RELEASE}.md"
    before = path.read_bytes()
    form = {**_edit_form(officer, EXAMPLE_RELEASE), **change}
    got = officer.post(ADMIN + f"release/{EXAMPLE_RELEASE}/edit", headers=SAME_ORIGIN, data=form)
    assert got.status_code == 400
    assert f"the field “{field}” is not right" in got.text
    assert says in got.text.replace("&#39;", "'")
    assert f'id="fm-{field}"' in got.text
    assert re.search(rf'id="fm-{field}"[^>]*aria-invalid="true"', got.text)
    assert path.read_bytes() == before


def test_unknown_or_unsafe_release_ids_are_404(officer):
    for ref in ("nope", "..%2Fnewsletter", ".hidden"):
        assert officer.get(ADMIN + f"release/{ref}/edit").status_code == 404

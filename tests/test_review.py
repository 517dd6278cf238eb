"""The review page through Starlette's TestClient: who may open and post it, approving
and saving (valid PO files, fuzzy cleared, the audit log), check errors blocking an
approval, and saves that find the entry changed since the page was loaded."""

from __future__ import annotations

import html
import os
import re
import subprocess
import threading
import warnings

import pytest
from babel.messages.pofile import read_po

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from newsletter.app import accounts, audit, mailing
from newsletter.app.sessions import Sessions
from newsletter.app.workspace import find_release
from newsletter.translation import catalog
from newsletter.translation.catalog import PREVIOUS, po_path, read_catalog, write_catalog
from newsletter.translation.drafting import draft_origin
from newsletter.translation.review import save_entry, word_diff
from newsletter.web import create_app
from tests.admin import EVIL, PASSWORD, SAME_ORIGIN, TestClient, browser, signed_in
from tests.conftest import EXAMPLE_RELEASE, require_msgfmt
from tests.drafts import PREFIX, draft

PAGE = f"/newsletter/app/admin/review/{EXAMPLE_RELEASE}/fa"


@pytest.fixture
def app(ws):
    draft(ws, EXAMPLE_RELEASE, "fa")
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    accounts.add_user(ws, "farid", "reviewer", ("fa",), PASSWORD)
    accounts.add_user(ws, "olena", "reviewer", ("uk",), PASSWORD)
    accounts.add_user(ws, "shirin", "reviewer", ("fa",), PASSWORD)
    return create_app(ws, admin_sessions=Sessions(ws))


def _client(app, name: str | None = None) -> TestClient:
    return signed_in(app, name) if name else browser(app)


def _form(page: str) -> dict[str, str]:
    """The hidden fields and the text of the review form in ``page``."""
    start = page.index('class="review-form"')
    form = page[start:page.index("</form>", start)]
    fields = {m[1]: html.unescape(m[2])
              for m in re.finditer(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)}
    fields["text"] = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S)[1])
    return fields


def _po(ws) -> bytes:
    return po_path(ws, EXAMPLE_RELEASE, "fa").read_bytes()


def _entries(ws):
    return [m for m in read_catalog(po_path(ws, EXAMPLE_RELEASE, "fa"), locale="fa") if m.id]


# --- who may open and post it ---------------------------------------------------------------

def test_without_a_session_the_page_asks_for_a_login_and_a_post_is_refused(app, ws):
    client = _client(app)
    shown = client.get(PAGE)
    assert shown.status_code == 303 and "/admin/login?next=" in shown.headers["location"]
    before = _po(ws)
    posted = client.post(PAGE, data={"action": "approve"}, headers=SAME_ORIGIN)
    assert posted.status_code == 401
    assert client.get(PAGE + "/frame").status_code == 303
    assert _po(ws) == before


def test_a_reviewer_of_another_language_gets_403_and_changes_nothing(app, ws):
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE).text)
    olena = _client(app, "olena")
    before = _po(ws)
    assert olena.get(PAGE).status_code == 403
    assert olena.get(PAGE + "/frame?entry=0").status_code == 403
    refused = olena.post(PAGE, data={**fields, "action": "approve"}, headers=SAME_ORIGIN)
    assert refused.status_code == 403
    assert _po(ws) == before
    assert olena.get(f"/newsletter/app/admin/review/{EXAMPLE_RELEASE}/uk").status_code == 200


def test_an_officer_reviews_every_language_and_a_reviewer_their_own(app):
    leyla = _client(app, "leyla")
    for lang in ("fa", "ar", "uk"):
        assert leyla.get(f"/newsletter/app/admin/review/{EXAMPLE_RELEASE}/{lang}"
                         ).status_code == 200
    assert _client(app, "farid").get(PAGE).status_code == 200


def test_a_cross_site_post_is_refused(app, ws):
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE).text)
    before = _po(ws)
    refused = farid.post(PAGE, data={**fields, "action": "approve"}, headers=EVIL)
    assert refused.status_code == 403
    assert _po(ws) == before
    assert "approve" not in [a.action for a in audit.entries(ws)]


@pytest.mark.parametrize("path", [
    f"/newsletter/app/admin/review/{EXAMPLE_RELEASE}/de",  # the source is not reviewed
    f"/newsletter/app/admin/review/{EXAMPLE_RELEASE}/xx",
    "/newsletter/app/admin/review/no-such-release/fa",
])
def test_unknown_releases_languages_and_the_source_are_404(app, path):
    assert _client(app, "leyla").get(path).status_code == 404


@pytest.mark.parametrize("change", [
    {"action": "publish"}, {"seen": ""}, {"source": ""}, {"entry": "x"},
    {"text": "a" * 20_001},
])
def test_bad_form_input_is_400_and_saves_nothing(app, ws, change):
    farid = _client(app, "farid")
    fields = {**_form(farid.get(PAGE).text), "action": "approve", **change}
    before = _po(ws)
    assert farid.post(PAGE, data=fields, headers=SAME_ORIGIN).status_code == 400
    assert _po(ws) == before


# --- what the page shows ----------------------------------------------------------------------

def test_the_page_shows_source_draft_role_origin_progress_and_an_rtl_text_area(app):
    page = _client(app, "farid").get(PAGE + "?entry=0").text
    assert "Title of the release" in page  # msgctxt "title" in plain words
    assert "Machine translation by fake on 2026-11-20" in page
    assert 'lang="fa" dir="rtl"' in page and "<textarea" in page
    assert PREFIX + "Immigrantenverbund" in page
    assert re.search(r"23 of 25 left — readers of .*فارسی.* get the .*فارسی.* edition when "
                     r"all are approved; now they get .*English", page)
    assert "frame?entry=0#entry" in page
    assert 'src="/newsletter/app/admin/review.js"' in page


def test_glossary_hits_and_their_warning(app):
    page = _client(app, "farid").get(PAGE + "?entry=2").text  # the summary names the Verbund
    assert "Names that stay as they are" in page
    assert "Essener Verbund der Immigrantenvereine" in page
    assert "All checks pass." in page  # the fake engine kept the name: no warning
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE + "?entry=2").text)
    fields["text"] = fields["text"].replace("Essener Verbund der Immigrantenvereine", "اتحادیه")
    done = farid.post(PAGE, data={**fields, "action": "save"}, headers=SAME_ORIGIN)
    assert done.status_code == 303
    shown = farid.get(done.headers["location"]).text
    assert "does not block approval" in shown and "stays as it is in every language" in shown


def test_a_changed_source_shows_the_previous_text_as_a_diff(app, ws):
    path = po_path(ws, EXAMPLE_RELEASE, "fa")
    cat = read_catalog(path, locale="fa")
    msg = next(m for m in cat if m.context == "location")
    msg.user_comments.append(PREVIOUS + "Essen-Steele")
    write_catalog(path, cat)
    page = _client(app, "farid").get(PAGE + "?entry=3").text
    assert "The source changed" in page
    assert "<del>" in page and "Steele" in page


def test_the_frame_marks_the_entry_and_keeps_its_own_policy(app):
    frame = _client(app, "farid").get(PAGE + "/frame?entry=7")
    assert frame.status_code == 200
    assert "script-src" not in frame.headers["content-security-policy"]
    assert frame.headers["content-security-policy"].startswith("default-src 'none'")
    assert frame.text.count('<mark id="entry"') == 1
    assert 'dir="rtl"' in frame.text


def test_review_script_and_stylesheet(app):
    client = _client(app)
    script = client.get("/newsletter/app/admin/review.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "requestSubmit" in script.text
    assert client.get("/newsletter/app/admin/review.css").status_code == 200


# --- saving -------------------------------------------------------------------------------------

def test_approving_clears_fuzzy_writes_a_valid_po_opens_the_next_entry_and_is_audited(app, ws):
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE + "?entry=0").text)
    fields["text"] = "اتحادیه مهاجران و شهر اسن شراکت خود را با قرارداد همکاری جدید تثبیت می‌کنند"
    done = farid.post(PAGE, data={**fields, "action": "approve"}, headers=SAME_ORIGIN)
    assert done.status_code == 303
    assert done.headers["location"].endswith("?entry=1&saved=approved")
    title = _entries(ws)[0]
    assert title.context == "title" and not title.fuzzy
    assert title.string == fields["text"]
    checked = subprocess.run([require_msgfmt(), "-c", "-o", os.devnull,
                              str(po_path(ws, EXAMPLE_RELEASE, "fa"))],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert read_po(po_path(ws, EXAMPLE_RELEASE, "fa").open("rb")).last_translator.startswith(
        "farid")
    last = audit.entries(ws)[-1]
    assert (last.user, last.action, last.object) == ("farid", "approve",
                                                     f"{EXAMPLE_RELEASE}/fa")
    nxt = farid.get(done.headers["location"]).text
    assert "Approved and saved." in nxt and "Entry 2 of 25" in nxt
    assert "22 of 25 left" in nxt


def test_save_without_approving_keeps_it_a_draft(app, ws):
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE + "?entry=1").text)
    done = farid.post(PAGE, data={**fields, "text": "اخبار اتحادیه", "action": "save"},
                      headers=SAME_ORIGIN)
    assert done.status_code == 303 and "entry=1&saved=saved" in done.headers["location"]
    entry = _entries(ws)[1]
    assert entry.string == "اخبار اتحادیه" and entry.fuzzy
    assert audit.entries(ws)[-1].action == "save translation"


def test_a_check_error_blocks_the_approval_and_saves_nothing(app, ws):
    farid = _client(app, "farid")
    page = farid.get(PAGE + "?entry=10").text  # "Seit seiner Gründung im Jahr 2000 ..."
    fields = _form(page)
    assert "2000" in fields["source"]
    before = _po(ws)
    wrong = "از زمان تأسیس، اتحادیه انجمن‌های مهاجران را به هم پیوند می‌دهد."
    refused = farid.post(PAGE, data={**fields, "text": wrong, "action": "approve"},
                         headers=SAME_ORIGIN)
    assert refused.status_code == 422
    assert "Not approved: please fix this first" in refused.text
    assert "Numbers of the source are missing: 70, 2000." in refused.text
    assert wrong in refused.text  # the reviewer's text is kept for fixing
    assert _po(ws) == before
    assert "approve" not in [a.action for a in audit.entries(ws)]


def test_check_results_and_the_draft_origin_are_said_in_the_interface_language(app, ws):
    german = {**SAME_ORIGIN, "accept-language": "de"}
    path = po_path(ws, EXAMPLE_RELEASE, "fa")
    cat = read_catalog(path, locale="fa")
    msg = next(m for m in cat if m.context == "contact role")
    msg.user_comments = ["tm: similar text (91%) in 2018-08-09-x; please review"]
    write_catalog(path, cat)
    farid = _client(app, "farid")
    page = farid.get(PAGE + "?entry=4", headers=german).text
    assert "Übersetzungsspeicher: ein ähnlicher Text (91 %) in der Meldung 2018-08-09-x" in page
    assert "similar text" not in page
    assert "a similar text (91 %)" in farid.get(PAGE + "?entry=4").text
    fields = _form(farid.get(PAGE + "?entry=10").text)
    wrong = "از زمان تأسیس، اتحادیه انجمن‌های مهاجران را به هم پیوند می‌دهد."
    refused = farid.post(PAGE, data={**fields, "text": wrong, "action": "approve"},
                         headers=german)
    assert refused.status_code == 422
    assert "Zahlen des Quelltexts fehlen: 70, 2000." in refused.text
    assert "missing" not in refused.text


def test_a_warning_does_not_block_the_approval(app, ws):
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE + "?entry=3").text)  # "Essen"
    done = farid.post(PAGE, data={**fields, "text": "Essen", "action": "approve"},
                      headers=SAME_ORIGIN)
    assert done.status_code == 303
    assert _entries(ws)[3].string == "Essen" and not _entries(ws)[3].fuzzy


def test_an_entry_changed_by_another_writer_since_loading_saves_nothing(app, ws):
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE + "?entry=4").text)
    # between loading and posting, translate or a git pull changed the entry
    path = po_path(ws, EXAMPLE_RELEASE, "fa")
    cat = read_catalog(path, locale="fa")
    msg = next(m for m in cat if m.context == "contact role")
    msg.string = "روابط عمومی (از گیت)"
    write_catalog(path, cat)
    after_other = _po(ws)
    refused = farid.post(PAGE, data={**fields, "text": "روابط عمومی", "action": "approve"},
                         headers=SAME_ORIGIN)
    assert refused.status_code == 409
    assert "Nothing was saved" in refused.text
    assert "روابط عمومی (از گیت)" in refused.text  # now in the catalog
    assert "Your version" in refused.text
    assert _po(ws) == after_other
    # the page now carries the new fingerprint: saving again is a deliberate overwrite
    again = _form(refused.text)
    assert again["seen"] != fields["seen"] and again["text"] == "روابط عمومی"
    done = farid.post(PAGE, data={**again, "action": "approve"}, headers=SAME_ORIGIN)
    assert done.status_code == 303
    assert _entries(ws)[4].string == "روابط عمومی"


def test_two_reviewers_saving_the_same_entry(app, ws):
    farid, shirin = _client(app, "farid"), _client(app, "shirin")
    first = _form(farid.get(PAGE + "?entry=9").text)
    second = _form(shirin.get(PAGE + "?entry=9").text)
    assert first == second
    ok = farid.post(PAGE, data={**first, "text": "شریکی مطمئن از سال 2000",
                                "action": "approve"}, headers=SAME_ORIGIN)
    assert ok.status_code == 303
    late = shirin.post(PAGE, data={**second, "text": "یک شریک قابل اعتماد از سال 2000",
                                   "action": "approve"}, headers=SAME_ORIGIN)
    assert late.status_code == 409
    assert "شریکی مطمئن از سال 2000" in late.text
    assert _entries(ws)[9].string == "شریکی مطمئن از سال 2000"
    assert [a.user for a in audit.entries(ws) if a.action == "approve"] == ["farid"]


def test_a_save_waits_for_the_catalog_lock_and_gives_up_politely(app, ws, monkeypatch):
    monkeypatch.setattr(catalog, "LOCK_WAIT", 0.2)
    farid = _client(app, "farid")
    fields = _form(farid.get(PAGE + "?entry=0").text)
    before = _po(ws)
    held, release = threading.Event(), threading.Event()

    def other_writer() -> None:  # e.g. translate, drafting this language
        with catalog.catalog_lock(ws, EXAMPLE_RELEASE, "fa"):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=other_writer)
    thread.start()
    held.wait(5)
    try:
        busy = farid.post(PAGE, data={**fields, "action": "approve"}, headers=SAME_ORIGIN)
    finally:
        release.set()
        thread.join()
    assert busy.status_code == 409 and "try again in a moment" in busy.text
    assert _po(ws) == before


def test_concurrent_saves_of_the_same_fingerprint_let_exactly_one_through(ws):
    draft(ws, EXAMPLE_RELEASE, "fa")
    rel = find_release(ws, EXAMPLE_RELEASE)
    msg = _entries(ws)[13]
    from newsletter.translation.review import fingerprint

    seen = fingerprint(msg)
    outcomes: list[str] = []

    def save(text: str) -> None:
        done = save_entry(rel, ws, "fa", context=msg.context, source=msg.id, seen=seen,
                          text=text, approve=True, translator="t")
        outcomes.append(done.outcome)

    threads = [threading.Thread(target=save, args=(f"مقر جدید در آلتن‌اسن {i}",))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["approved"] + ["changed"] * 5


# --- the pieces -----------------------------------------------------------------------------

def test_draft_origin_reads_what_drafting_writes():
    assert draft_origin(["tm: reviewed translation from 2018-08-09-x"]).reviewed
    hit = draft_origin(["old note", "tm: similar text (91%) in 2018-08-09-x; please review"])
    assert (hit.kind, hit.source, hit.detail) == ("memory", "2018-08-09-x",
                                                   "similar text (91%)")
    mt = draft_origin(["mt: libre 2026-11-02; machine draft, please review"])
    assert (mt.kind, mt.source, mt.detail) == ("machine", "libre", "2026-11-02")
    assert draft_origin(["mt failed 2026-11-02: number(s) missing: 5"]).kind == "failed"
    assert draft_origin(["a translator's own note"]).kind == ""


def test_word_diff():
    parts = word_diff("Treffen in Steele", "Treffen in Altenessen")
    assert [(p.op, p.text) for p in parts] == [("same", "Treffen in "), ("removed", "Steele"),
                                                ("added", "Altenessen")]


def _farsi_readers_get(ws) -> set[str]:
    """The editions the send plan gives the Farsi readers of the members' list."""
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE,
                                mailing.MailingOptions(lists=("members",))).planned.plan
    return {lang for reader, lang in zip(plan.readers, plan.languages, strict=True)
            if reader == "fa"}


def test_approving_everything_replaces_the_fallback_in_the_send_plan(ws):
    """The same use case the page calls, all the way to the send plan."""
    from newsletter.app import review

    draft(ws, EXAMPLE_RELEASE, "fa")
    farid = accounts.Account("farid", "reviewer", ("fa",))
    assert _farsi_readers_get(ws) == {"en"}
    page = review.review_page(ws, farid, EXAMPLE_RELEASE, "fa")
    while page.current is not None and page.current.state != "approved":
        entry = page.current
        done = review.save(ws, farid, EXAMPLE_RELEASE, "fa", context=entry.context,
                           source=entry.source, seen=entry.fingerprint,
                           text=entry.translation, approve=True)
        assert done.outcome == "approved"
        page = review.review_page(ws, farid, EXAMPLE_RELEASE, "fa")
    assert page.progress.left == 0 and not page.progress.fallback
    assert _farsi_readers_get(ws) == {"fa"}

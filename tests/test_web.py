"""The reader's pages through Starlette's TestClient (no network): RFC 8058 one-click
unsubscribe, double opt-in sign-up, confirmation, preferences, the consent trail,
security headers, cross-site posts, and every page in every language."""

from __future__ import annotations

import os
import re
import subprocess
import time
import warnings
from email import message_from_bytes, policy

import html5lib
import pytest
from click.testing import CliRunner
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():  # Starlette 1.x would rather see httpx2; httpx still works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from newsletter.app import mailing, people, subscriptions
from newsletter.app.limits import RateLimits, Window
from newsletter.cli import cli
from newsletter.delivery import subscribers
from newsletter.delivery.keys import load_signer
from newsletter.delivery.ledger import open_ledger
from newsletter.translation.catalog import read_catalog
from newsletter.translation.uicatalogs import package_po, package_pot, ui_po_path, ui_pot_path
from newsletter.translation.uistrings import reviewed_translations, ui_template
from newsletter.translation.webstrings import DOMAIN, web_template
from newsletter.web import create_app
from newsletter.workspace.defaults import package_templates
from tests.conftest import EXAMPLE_RELEASE, own_ui_catalog, require_msgfmt

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")

SITE = "https://verbund.example.org"
BASE = "/newsletter/app/"
MEMBER = "jugend@elternverein-katernberg.example.org"  # members.csv: tr, youth;sports
SAME_ORIGIN = {"origin": SITE, "sec-fetch-site": "same-origin"}
EVIL = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
LANGS = ("de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")


@pytest.fixture(autouse=True)
def _outbox_secret(monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)  # the outbox keeps its own


@pytest.fixture
def client(ws):
    return TestClient(create_app(ws), base_url=SITE)


def _signer(ws):
    return load_signer(ws.state_dir, allow_state_secret=True)


def _main(response) -> str:
    text = response.text
    return text[text.index("<main>"):text.index("</main>")]


def _suppressed(ws) -> dict[str, str]:
    """Suppressions by address (an id-only unsubscribe is shown by the address it names)."""
    signer = _signer(ws)
    known = {signer.recipient_id(e): e for e in (MEMBER, "nina@example.org")}
    return {s.email or known.get(s.key, s.key): s.reason for s in people.suppressions(ws)}


def _trail(ws, email):
    return [e.event for e in subscriptions.consent(ws, email).events]


def _sign_up(client, email="nina@example.org", language="uk", topics=("youth", "culture"),
             shown="de", **extra):
    data = {"email": email, "name": "Nina Koval", "language": language, "topics": list(topics),
            "consent": "yes", "lang": shown, "website": "", **extra}
    return client.post(BASE + "subscribe", data=data, headers=SAME_ORIGIN)


def _mail(ws, email):
    rid = _signer(ws).recipient_id(email)
    path = ws.config.delivery.outbox / "confirmations" / f"{rid}.eml"
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def _links(message) -> list[str]:
    text = message.get_body(("plain",)).get_content()
    return re.findall(r"https?://\S+", text)


def _confirm_path(ws, email) -> str:
    return _links(_mail(ws, email))[0].removeprefix(SITE)


# --- RFC 8058 one-click unsubscribe ---------------------------------------------------


def test_unsubscribe_get_shows_one_button_and_changes_nothing(ws, client):
    token = _signer(ws).unsubscribe_token(MEMBER)
    r = client.get(f"{BASE}unsubscribe?t={token}")
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in r.text
    assert _main(r).count("<button") == 1
    assert _suppressed(ws) == {} and _trail(ws, MEMBER) == []


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_suppresses_answers_200_and_repeats(ws, client, encoding):
    token = _signer(ws).unsubscribe_token(MEMBER)
    if encoding == "urlencoded":
        send = {"data": {"List-Unsubscribe": "One-Click"}}
    else:
        send = {"files": {"List-Unsubscribe": (None, b"One-Click")}}
    for _ in range(2):  # mail clients and people repeat it
        r = client.post(f"{BASE}unsubscribe?t={token}", follow_redirects=False, **send)
        assert r.status_code == 200 and not r.is_redirect
        assert "set-cookie" not in r.headers and "location" not in r.headers
        assert r.request.headers["content-type"].startswith(
            "application/x-www-form-urlencoded" if encoding == "urlencoded"
            else "multipart/form-data")
    assert _suppressed(ws) == {MEMBER: "unsubscribe"}
    assert _trail(ws, MEMBER) == ["unsubscribe"]  # once: the repeat changed nothing


def test_one_click_needs_no_browser_headers_and_ignores_cross_site(ws, client):
    token = _signer(ws).unsubscribe_token(MEMBER)
    r = client.post(f"{BASE}unsubscribe?t={token}", content=b"List-Unsubscribe=One-Click",
                    headers={"content-type": "application/x-www-form-urlencoded", **EVIL})
    assert r.status_code == 200 and _suppressed(ws) == {MEMBER: "unsubscribe"}


def test_forged_or_altered_tokens_get_400_and_reveal_nothing(ws, client):
    signer = _signer(ws)
    good = signer.unsubscribe_token(MEMBER)
    altered = good[:-1] + ("A" if good[-1] != "A" else "B")
    other_purpose = signer.token("preferences", signer.recipient_id(MEMBER), time.time())
    bodies = set()
    for bad in (altered, "x" * 28, other_purpose, ""):
        for method in ("get", "post"):
            r = getattr(client, method)(f"{BASE}unsubscribe?t={bad}")
            assert r.status_code == 400, (bad, method)
            assert "set-cookie" not in r.headers
            assert MEMBER not in r.text and (not bad or bad not in r.text)
            bodies.add(r.text)
    assert len(bodies) == 1  # every refusal looks the same
    assert _suppressed(ws) == {}


def test_after_unsubscribing_preferences_and_an_explicit_resubscribe(ws, client):
    token = _signer(ws).unsubscribe_token(MEMBER)
    r = client.post(f"{BASE}unsubscribe?t={token}", data={"List-Unsubscribe": "One-Click"})
    prefs = re.search(r'href="(/newsletter/app/preferences\?t=[^"]+)"', r.text).group(1)
    assert 'name="action" value="resubscribe"' in r.text
    assert 'value="resubscribe"' in client.get(prefs).text  # offered there too
    r = client.post(prefs, data={"action": "resubscribe"}, headers=SAME_ORIGIN)
    assert r.status_code == 200 and _suppressed(ws) == {}
    assert _trail(ws, MEMBER) == ["unsubscribe", "resubscribe"]
    people.suppress(ws, (MEMBER,), reason="complaint")  # only the office lifts that one
    r = client.post(prefs, data={"action": "resubscribe"}, headers=SAME_ORIGIN)
    assert r.status_code == 200 and _suppressed(ws) == {MEMBER: "complaint"}


# --- sign-up (double opt-in) ----------------------------------------------------------


def test_unticked_consent_is_refused_with_422_and_nothing_is_stored(ws, client):
    r = _sign_up(client, consent="")
    assert r.status_code == 422
    assert re.search(r'<input type="checkbox" id="consent"[^>]*>', r.text).group(0).find(
        "checked") == -1  # never ticked for the reader, not even now
    assert 'value="nina@example.org"' in r.text  # the rest of the form comes back
    assert not ws.state_dir.exists() and not ws.config.delivery.outbox.exists()
    r = _sign_up(client, email="not an address")
    assert r.status_code == 422 and not ws.state_dir.exists()


def test_the_trap_field_gets_the_same_answer_and_stores_nothing(ws, client):
    trapped = _sign_up(client, website="https://spam.example")
    assert not ws.state_dir.exists() and not ws.config.delivery.outbox.exists()
    real = _sign_up(client)
    assert trapped.status_code == real.status_code == 200 and trapped.text == real.text


def test_a_known_address_gets_the_same_answer_and_no_second_mail(ws, client):
    first = _sign_up(client)
    client.post(_confirm_path(ws, "nina@example.org"), headers=SAME_ORIGIN)
    again = _sign_up(client)
    assert first.status_code == again.status_code == 200 and first.text == again.text
    assert _trail(ws, "nina@example.org").count("confirmation sent") == 1


def test_a_flood_is_rate_limited(ws):
    client = TestClient(create_app(ws, limits=RateLimits(per_ip=Window(3, 3600))),
                        base_url=SITE)
    codes = [_sign_up(client, email=f"p{n}@example.org").status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    # one mailbox: at most a few mails, silently (the page is the same)
    client = TestClient(create_app(ws, limits=RateLimits(per_address=Window(2, 86400))),
                        base_url=SITE)
    pages = {_sign_up(client, email="target@example.org").text for _ in range(4)}
    assert len(pages) == 1 and _trail(ws, "target@example.org").count("confirmation sent") == 2


def test_the_confirmation_mail_is_in_the_chosen_language_with_nothing_but_links(ws, client):
    r = _sign_up(client, language="ar", shown="de")  # form read in German, news in Arabic
    assert r.status_code == 200 and 'lang="de"' in r.text
    msg = _mail(ws, "nina@example.org")
    assert msg["Content-Language"] == "ar" and msg["Subject"] == "يُرجى تأكيد اشتراككم"
    assert msg["To"].addresses[0].addr_spec == "nina@example.org"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "للتأكيد" in text and 'lang="ar" dir="rtl"' in html
    org = ws.config.organization
    confirm, cancel, *legal = _links(msg)
    assert confirm.startswith(f"{SITE}{BASE}confirm?t=")
    assert cancel.startswith(ws.config.web.unsubscribe_url + "?t=")
    assert legal == [org.privacy_url, org.imprint_url]
    assert set(re.findall(r'href="([^"]+)"', html)) == {
        confirm, cancel, org.privacy_url, org.imprint_url, f"mailto:{org.email}"}
    assert org.register_number in text and org.address.street in text  # the Impressum
    (signup, sent) = subscriptions.consent(ws, "nina@example.org").events
    assert (signup.event, signup.ip, signup.user_agent) == ("signup", "testclient",
                                                            "testclient")
    assert signup.details["language"] == "ar" and signup.details["topics"] == [
        "youth", "culture"]
    assert signup.details["form"] == "web-subscribe"
    assert signup.details["consent_language"] == "de"
    assert signup.details["consent_text"].startswith("Ich möchte den Newsletter von "
                                                     f"{org.full_name}")
    assert re.fullmatch(r"[0-9a-f]{12}", signup.details["consent_version"])
    assert sent.event == "confirmation sent" and sent.details["message_id"] == msg["Message-ID"]


def test_confirm_get_changes_nothing_post_confirms_repeatably(ws, client):
    _sign_up(client)
    path = _confirm_path(ws, "nina@example.org")
    rid = _signer(ws).recipient_id("nina@example.org")
    r = client.get(path)
    assert r.status_code == 200 and _main(r).count("<button") == 1

    def status():
        with open_ledger(ws.state_dir) as ledger:
            return subscribers.subscriber(ledger, rid).status

    assert status() == "pending"
    for _ in range(2):
        r = client.post(path, headers={**SAME_ORIGIN, "user-agent": "Browser/1.0"})
        assert r.status_code == 200 and status() == "confirmed"
    events = subscriptions.consent(ws, "nina@example.org").events
    assert [e.event for e in events][-2:] == ["confirmed", "confirmed again"]
    assert events[-1].ip == "testclient" and events[-1].user_agent == "Browser/1.0"
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, mailing.MailingOptions(lists=("web",)))
    assert [a.recipient.email for a in plan.planned.plan] == ["nina@example.org"]


def test_an_expired_confirmation_link_is_refused(ws, client):
    _sign_up(client)
    signer = _signer(ws)
    rid = signer.recipient_id("nina@example.org")
    old = signer.token("confirm", rid, time.time() - 8 * 86400)
    assert client.get(f"{BASE}confirm?t={old}").status_code == 400
    assert client.post(f"{BASE}confirm?t={old}", headers=SAME_ORIGIN).status_code == 400
    with open_ledger(ws.state_dir) as ledger:
        assert subscribers.subscriber(ledger, rid).status == "pending"


def test_a_confirmation_through_a_mime_transport(ws):
    from newsletter.app.pages import open_pages
    from newsletter.delivery.transports.memory import MemoryTransport

    memory = MemoryTransport()
    form = subscriptions.SignupForm("ali@example.org", "Ali", "fa", (), True, "", "fa")
    done = subscriptions.subscribe(ws, form, subscriptions.Visitor("198.51.100.7", "UA"),
                                   pages=open_pages(ws), limits=RateLimits(),
                                   transport=memory)
    msg = message_from_bytes(memory.messages()["ali@example.org"], policy=policy.default)
    assert done.outcome == "sent" and msg["Message-ID"] == done.sent.message_id
    assert msg["Content-Language"] == "fa" and msg["Subject"] == "لطفاً اشتراک خود را تأیید کنید"
    injected = subscriptions.SignupForm("b@example.org", "B\r\nBcc: x@example.org", "de", (),
                                        True)
    with pytest.raises(subscriptions.FormError) as info:
        subscriptions.subscribe(ws, injected, subscriptions.Visitor(), pages=open_pages(ws),
                                limits=RateLimits(), transport=memory)
    assert info.value.fields == ("name",) and len(memory.delivered) == 1


# --- preferences ------------------------------------------------------------------------


def _preferences_path(client, ws, email):
    r = client.get(f"{BASE}unsubscribe?t={_signer(ws).unsubscribe_token(email)}")
    return re.search(r'href="(/newsletter/app/preferences\?t=[^"]+)"', r.text).group(1)


def test_preferences_save_only_the_fields_that_were_shown(ws, client):
    _sign_up(client, topics=("youth", "culture"))
    client.post(_confirm_path(ws, "nina@example.org"), headers=SAME_ORIGIN)
    path = _preferences_path(client, ws, "nina@example.org")
    page = client.get(path).text
    assert page.count('name="shown_topic"') == 2 and 'value="youth" checked' in page
    # a page that offered only 'youth' (and no language): culture and uk must stay
    r = client.post(path, headers=SAME_ORIGIN, data={"shown_topic": "youth",
                                                     "language": "de"})
    assert r.status_code == 200
    view = subscriptions.preferences_view(ws, path.split("t=")[1])
    assert (view.language, view.topics) == ("uk", ("culture",))
    client.post(path, headers=SAME_ORIGIN, data={"shown": "language", "language": "ru",
                                                 "shown_topic": ["youth", "culture"],
                                                 "topics": ["youth"]})
    view = subscriptions.preferences_view(ws, path.split("t=")[1])
    assert (view.language, view.topics) == ("ru", ("youth",))
    assert _trail(ws, "nina@example.org")[-2:] == ["preferences", "preferences"]
    r = client.post(path, headers=SAME_ORIGIN, data={"shown": "language", "language": "xx"})
    assert r.status_code == 422


def test_a_preference_changes_the_next_send_plan(ws, client):
    options = mailing.MailingOptions(lists=("members",), tags=("youth",))

    def reader_of(plan):
        return {a.recipient.email: a.reader_lang for a in plan.planned.plan}.get(MEMBER)

    assert reader_of(mailing.plan_release(ws, EXAMPLE_RELEASE, options)) == "tr"
    path = _preferences_path(client, ws, MEMBER)
    assert 'value="youth" checked' in client.get(path).text  # from the list's tags
    client.post(path, headers=SAME_ORIGIN, data={"shown": "language", "language": "ru"})
    assert reader_of(mailing.plan_release(ws, EXAMPLE_RELEASE, options)) == "ru"
    client.post(path, headers=SAME_ORIGIN, data={"shown_topic": ["youth", "culture"],
                                                 "topics": ["culture"]})
    assert reader_of(mailing.plan_release(ws, EXAMPLE_RELEASE, options)) is None


# --- the consent trail, printed ---------------------------------------------------------


def test_newsletter_consent_prints_the_trail(ws, ws_root, client):
    _sign_up(client, shown="tr")
    client.post(_confirm_path(ws, "nina@example.org"),
                headers={**SAME_ORIGIN, "user-agent": "Firefox/140"})
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "consent",
                                      "Nina@Example.org"])
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in ("Address: Nina@example.org", "Web sign-up: confirmed, language uk",
                     "signup", "confirmation sent", "confirmed", "from testclient",
                     "Firefox/140", "consent_language: tr", "form: web-subscribe",
                     _mail(ws, "nina@example.org")["Message-ID"]):
        assert expected in out, expected
    assert "haber bültenini seçtiğim dilde" in out  # the consent text as it was shown
    check = CliRunner().invoke(cli, ["--workspace", str(ws_root), "recipients", "check"])
    assert re.search(r"web\s*│\s*state/ledger\.sqlite3\s*│\s*1\b", check.output), check.output


# --- headers and cross-site posts -------------------------------------------------------


def test_security_headers_on_every_response(ws, client):
    token = _signer(ws).unsubscribe_token(MEMBER)
    responses = [client.get(BASE + "subscribe"), client.get(f"{BASE}unsubscribe?t={token}"),
                 client.get(f"{BASE}unsubscribe?t=forged"), client.get(BASE + "nope"),
                 client.get(BASE + "style.css"), _sign_up(client, consent=""),
                 client.post(f"{BASE}unsubscribe?t={token}")]
    for r in responses:
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, r.url
        assert r.headers["x-robots-tag"] == "noindex"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"  # Origin stays on our forms
        assert "set-cookie" not in r.headers
    assert [r.status_code for r in responses] == [200, 200, 400, 404, 200, 422, 200]
    assert "<script" not in "".join(r.text for r in responses)  # works without JavaScript


def test_cross_site_form_posts_are_refused(ws, client):
    _sign_up(client)
    path = _confirm_path(ws, "nina@example.org")
    for headers in (EVIL, {"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"},
                    {"origin": "null"}):
        assert client.post(path, headers=headers).status_code == 403
        assert client.post(BASE + "subscribe", headers=headers,
                           data={"email": "z@example.org", "consent": "yes",
                                 "language": "de"}).status_code == 403
    assert _trail(ws, "nina@example.org") == ["signup", "confirmation sent"]
    assert _trail(ws, "z@example.org") == []
    assert client.post(path, headers=SAME_ORIGIN).status_code == 200


# --- every page in every language -------------------------------------------------------


def _all_pages(ws, client, lang):
    """Every page a reader can see, asked for in ``lang``."""
    email = f"reader-{lang}@example.org"
    q = f"lang={lang}"
    _sign_up(client, email=email, language=lang, shown=lang)
    confirm = _confirm_path(ws, email) + "&" + q
    token = _signer(ws).unsubscribe_token(email)
    pages = [client.get(f"{BASE}subscribe?{q}"), _sign_up(client, email=email, shown=lang),
             _sign_up(client, email="", shown=lang, consent=""), client.get(confirm),
             client.post(confirm, data={"lang": lang}, headers=SAME_ORIGIN),
             client.get(f"{BASE}unsubscribe?t={token}&{q}"),
             client.post(f"{BASE}unsubscribe?t={token}&{q}", data={"lang": lang})]
    prefs = re.search(r'href="(/newsletter/app/preferences\?t=[^"]+)"', pages[-1].text).group(1)
    pages += [client.get(f"{prefs}&{q}"),
              client.post(f"{prefs}&{q}", data={"shown": "language", "language": lang,
                                                 "lang": lang}, headers=SAME_ORIGIN),
              client.get(f"{BASE}unsubscribe?t=forged&{q}"), client.get(f"{BASE}nope?{q}")]
    return pages


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_renders_in_every_language(ws, client, lang):
    direction = "rtl" if lang in ("ar", "fa") else "ltr"
    english = _all_pages(ws, client, "en") if lang != "en" else None
    for n, r in enumerate(_all_pages(ws, client, lang)):
        assert r.status_code in (200, 400, 404, 422), (n, r.status_code)
        html5lib.HTMLParser(strict=True).parse(r.text)  # raises on any parse error
        assert f'<html lang="{lang}" dir="{direction}">' in r.text, n
        org = ws.config.organization
        for link in (org.imprint_url, org.privacy_url, ws.config.web.source_url):
            assert f'href="{link}"' in r.text
        assert 'lang="fa" dir="rtl"' in r.text and ">فارسی<" in r.text  # the switcher
        if english is not None:  # translated, not the English source strings
            assert _main(r) != _main(english[n]), n


def test_the_browser_language_is_taken_when_nothing_else_is_known(client):
    r = client.get(BASE + "subscribe", headers={"accept-language": "es, fa-IR;q=0.8, de;q=0.5"})
    assert '<html lang="fa" dir="rtl">' in r.text
    r = client.get(BASE + "subscribe?lang=pl", headers={"accept-language": "fa"})
    assert '<html lang="pl" dir="ltr">' in r.text


# --- the web catalogs -------------------------------------------------------------------


def test_web_pot_is_up_to_date_and_apart_from_the_mail_strings(ws):
    fresh = {m.id for m in web_template(ws) if m.id}
    assert ui_pot_path(ws, DOMAIN) == package_pot(DOMAIN)  # the package's, as shipped
    committed = {m.id for m in read_catalog(ui_pot_path(ws, DOMAIN), prose=False) if m.id}
    assert fresh == committed, "run 'newsletter extract --ui' and translate the new strings"
    assert "Subscribe again" in fresh
    assert "Subscribe again" not in {m.id for m in ui_template(ws)}  # not in messages.pot


def test_web_catalogs_are_complete_reviewed_and_pass_msgfmt(ws):
    msgfmt = require_msgfmt()
    for lang in ws.config.languages.all:
        tr = reviewed_translations(ws, DOMAIN, lang)  # raises when incomplete or fuzzy
        if lang != "en":
            assert tr.gettext("Subscribe again") != "Subscribe again", lang
        done = subprocess.run([msgfmt, "-c", "-o", os.devnull,
                               str(ui_po_path(ws, DOMAIN, lang))], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_an_incomplete_catalog_follows_the_fallback_chain(ws, client):
    path = own_ui_catalog(ws, DOMAIN, "fa")  # the workspace's own, a reviewer's edit
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('msgid "Save"', '#, fuzzy\nmsgid "Save"'), encoding="utf-8")
    r = TestClient(create_app(ws), base_url=SITE).get(BASE + "subscribe?lang=fa")
    assert '<html lang="en" dir="ltr">' in r.text  # fa → en, as newsletter.toml says
    assert client.get(BASE + "subscribe?lang=ku").text.count('<html lang="ku"') == 1


def test_extract_ui_writes_the_web_domain_where_the_workspace_needs_its_own(ws_root):
    own = ws_root / "templates" / "web" / "subscribe.html.j2"
    own.parent.mkdir(parents=True)
    shipped = package_templates() / "web" / "subscribe.html.j2"
    text = shipped.read_text(encoding="utf-8")
    end = text.rindex("{% endblock %}")  # of the main block
    own.write_text(text[:end] + '<p>{{ _("Our own words") }}</p>\n' + text[end:],
                   encoding="utf-8")
    result = CliRunner().invoke(cli, ["--workspace", str(ws_root), "extract", "--ui"])
    assert result.exit_code == 0, result.output
    assert "locales/web.pot" in result.output and (ws_root / "locales" / "web.pot").exists()
    assert "locales/de/LC_MESSAGES/web.po" in result.output
    de = read_catalog(ws_root / "locales" / "de" / "LC_MESSAGES" / "web.po", prose=False)
    assert de.get("Subscribe again").string == read_catalog(
        package_po(DOMAIN, "de"), prose=False).get("Subscribe again").string
    assert not de.get("Our own words").string
    # the mails' and the admin pages' strings stay the package's
    assert not (ws_root / "locales" / "messages.pot").exists()
    assert not (ws_root / "locales" / "de" / "LC_MESSAGES" / "admin.po").exists()


def test_forget_erases_a_web_sign_up_and_keeps_the_pseudonymous_proof(ws, client):
    _sign_up(client)
    client.post(_confirm_path(ws, "nina@example.org"), headers=SAME_ORIGIN)
    done = people.forget(ws, "nina@example.org")
    assert len(done.files) == 1  # the confirmation mail in the outbox went too
    rid = _signer(ws).recipient_id("nina@example.org")
    with open_ledger(ws.state_dir) as ledger:
        assert subscribers.subscriber(ledger, rid) is None
        assert subscribers.consent_trail(ledger, rid)[0].event == "signup"
        if ledger.db.postgres:  # no row holds the address any more
            assert ledger.db.execute("SELECT count(*) FROM subscribers t WHERE t::text"
                                     " LIKE '%nina@example.org%'").scalar() == 0
    if not (ws.state_dir / "ledger.sqlite3").exists():
        return
    assert b"nina@example.org" not in (ws.state_dir / "ledger.sqlite3").read_bytes()
    plan = mailing.plan_release(ws, EXAMPLE_RELEASE, mailing.MailingOptions(lists=("web",)))
    assert len(plan.planned.plan) == 0


def test_the_confirmation_mail_through_sendgrid(ws_root, monkeypatch):
    from tests.fake_sendgrid import FakeSendGrid
    from tests.test_sendgrid import configure

    monkeypatch.setenv("NEWSLETTER_SECRET", "web-secret-" + "s" * 30)  # real transports
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    path = ws_root / "newsletter.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'transport = "outbox"', 'transport = "sendgrid"'), encoding="utf-8")
    with FakeSendGrid() as fake:
        ws = configure(ws_root, fake.url)
        client = TestClient(create_app(ws), base_url=SITE)
        assert _sign_up(client, language="pl").status_code == 200
    (body,) = fake.bodies
    (person,) = body["personalizations"]
    assert person["to"] == [{"email": "nina@example.org", "name": "Nina Koval"}]
    assert body["subject"] == "Prosimy o potwierdzenie subskrypcji"
    assert body["custom_args"]["campaign"] == "confirmations"
    text = body["content"][0]["value"]
    cancel = person["headers"]["List-Unsubscribe"].split(">")[0].lstrip("<")
    assert f"{SITE}{BASE}confirm?t=" in text and cancel in text
    sent = subscriptions.consent(ws, "nina@example.org").events[-1]
    assert sent.event == "confirmation sent" and sent.details["transport"] == "sendgrid"

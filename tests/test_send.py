from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner

import newsletter.render.renderer as render_module
from newsletter.audience.selection import Selection, load_audience, make_plan
from newsletter.cli import cli
from newsletter.content.parser import load_release
from newsletter.delivery.sending import SendRequest, plan_send, send
from newsletter.errors import AudienceError, RecipientError
from tests.conftest import EXAMPLE_RELEASE

# every test here runs on the SQLite ledger and on PostgreSQL (tests/pg.py)
pytestmark = pytest.mark.usefixtures("state_db")


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-" + "x" * 32)


@pytest.fixture
def release(ws):
    return load_release(ws.releases_dir / f"{EXAMPLE_RELEASE}.md", ws.root)


def _emails(audience):
    return {r.email.casefold() for r in audience.recipients}


def test_selection_by_list_tag_and_duplicates(ws):
    members = load_audience(ws, Selection(lists=("members",)), skip_invalid=False)
    subs = load_audience(ws, Selection(lists=("subscribers",)), skip_invalid=False)
    both = load_audience(ws, Selection(lists=("members", "subscribers")), skip_invalid=False)
    assert len(both.recipients) == len(members.recipients) + len(subs.recipients) - 1
    assert _emails(both) == _emails(members) | _emails(subs)
    youth = load_audience(ws, Selection(lists=("members",), tags=("youth",)),
                          skip_invalid=False)
    youth_women = load_audience(ws, Selection(lists=("members",), tags=("youth", "Women")),
                                skip_invalid=False)
    assert youth.recipients and all("youth" in r.tags for r in youth.recipients)
    assert all({"youth", "women"} <= r.tags for r in youth_women.recipients)
    assert 0 < len(youth_women.recipients) < len(youth.recipients)
    assert youth.not_tagged == len(members.recipients) - len(youth.recipients)


def test_unknown_or_missing_list_is_an_error(ws):
    with pytest.raises(AudienceError, match="unknown list 'vip'"):
        load_audience(ws, Selection(lists=("vip",)), skip_invalid=False)
    with pytest.raises(AudienceError, match="choose at least one list"):
        load_audience(ws, Selection(lists=()), skip_invalid=False)


def test_invalid_rows_stop_the_send_unless_skipped(ws):
    path = ws.config.lists["members"]
    path.write_text(path.read_text(encoding="utf-8") + "not-an-address,X,de,,,,\n",
                    encoding="utf-8")
    with pytest.raises(RecipientError) as info:
        load_audience(ws, Selection(lists=("members",)), skip_invalid=False)
    assert f"{path}:27: invalid email address 'not-an-address'" in str(info.value)
    aud = load_audience(ws, Selection(lists=("members",)), skip_invalid=True)
    assert len(aud.recipients) == 25 and len(aud.skipped) == 1


def test_fallback_routing_and_language_filter(ws, release):
    aud = load_audience(ws, Selection(lists=("members", "press", "subscribers")),
                        skip_invalid=False)
    plan = make_plan(release, ws, aud.recipients)
    by_reader = {}
    for a in plan.assignments:
        by_reader.setdefault(a.reader_lang, set()).add(a.edition_lang)
    assert by_reader["fa"] == {"en"} and by_reader["ku"] == {"de"}
    assert by_reader["ar"] == {"ar"} and by_reader["tr"] == {"tr"}
    fa = next(a for a in plan.assignments if a.reader_lang == "fa")
    assert fa.reason.startswith("fa → en (fa: 24 of 25 entries not translated")
    rows = {lang: (n, fb) for lang, n, fb, _ in plan.summary()}
    assert rows["en"][1] == sum(1 for a in plan.assignments if a.reader_lang == "fa")
    only_ar = make_plan(release, ws, aud.recipients, ("ar",))
    assert {a.edition_lang for a in only_ar.assignments} == {"ar"}
    assert only_ar.left_out_by_lang == len(plan.assignments) - len(only_ar.assignments)


def test_outbox_send_twice_leaves_one_file_per_recipient(ws, release):
    request = SendRequest(Selection(lists=("members", "press")), transport="outbox")
    planned = plan_send(ws, release, request)
    first = send(ws, release, request, planned)
    folder = ws.root / "outbox" / planned.campaign
    files = sorted(folder.iterdir())
    assert first.delivered == len(planned.plan.assignments) == len(files) == 33
    again = plan_send(ws, release, request)
    assert again.campaign == planned.campaign
    send(ws, release, request, again)
    assert sorted(folder.iterdir()) == files
    assert not [p for p in folder.iterdir() if p.suffix != ".eml"]  # no temp files left
    languages = set()
    for path in files:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        languages.add(msg["Content-Language"])
        assert msg["To"].addresses[0].addr_spec
    assert languages == {"de", "en", "en, de", "tr", "ar", "ru", "uk", "pl"}


def test_campaign_id_depends_on_selection_and_content(ws, release):
    a = plan_send(ws, release, SendRequest(Selection(lists=("members",)), "outbox")).campaign
    b = plan_send(ws, release, SendRequest(Selection(lists=("members",), tags=("youth",)),
                                           "outbox")).campaign
    release.path.write_text(release.path.read_text(encoding="utf-8") + "\nNeu.\n",
                            encoding="utf-8")
    changed = load_release(release.path, ws.root)
    c = plan_send(ws, changed, SendRequest(Selection(lists=("members",)), "outbox")).campaign
    assert len({a, b, c}) == 3 and a.startswith(EXAMPLE_RELEASE + "-")


def test_per_recipient_work_does_not_render_or_inline(ws, release, monkeypatch):
    calls = {"inline": 0, "template": 0}
    real_inline = render_module.inline_css

    def counting_inline(html):
        calls["inline"] += 1
        return real_inline(html)

    import jinja2
    real_render = jinja2.Template.render

    def counting_render(self, *args, **kwargs):
        calls["template"] += 1
        return real_render(self, *args, **kwargs)

    monkeypatch.setattr(render_module, "inline_css", counting_inline)
    monkeypatch.setattr(jinja2.Template, "render", counting_render)
    request = SendRequest(Selection(lists=("members", "press", "subscribers")), "outbox")
    planned = plan_send(ws, release, request)
    editions = len(planned.plan.editions)
    result = send(ws, release, request, planned)
    assert result.delivered == 38 > editions
    assert calls["inline"] == editions
    # per edition: html, text and four greeting variants; once: the List-Id's phrase;
    # per edition and reason (member, press, several lists ...): the line "why", html
    # and text. Nothing per recipient.
    reasons = {(a.edition_lang, a.why) for a in planned.plan}
    assert len(reasons) < result.delivered
    assert calls["template"] == editions * 6 + 1 + 2 * len(reasons)


def test_other_transports_need_the_secret(ws, release, monkeypatch):
    from newsletter.errors import ConfigError, SecretError
    monkeypatch.delenv("NEWSLETTER_SECRET")
    request = SendRequest(Selection(lists=("press",)), "smtp")
    with pytest.raises(ConfigError, match="set SMTP_PASSWORD"):
        send(ws, release, request, plan_send(ws, release, request))
    monkeypatch.setenv("SMTP_PASSWORD", "pw")
    with pytest.raises(SecretError, match="set NEWSLETTER_SECRET"):
        send(ws, release, request, plan_send(ws, release, request))
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test")
    request = SendRequest(Selection(lists=("press",)), "sendgrid")
    with pytest.raises(SecretError, match="set NEWSLETTER_SECRET"):
        send(ws, release, request, plan_send(ws, release, request))


def _cli(ws_root, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws_root), *args])


def test_cli_dry_run_writes_nothing(ws_root, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET")
    before = sorted(p.relative_to(ws_root) for p in ws_root.rglob("*"))
    result = _cli(ws_root, "send", EXAMPLE_RELEASE, "--list", "members", "--list", "press",
                  "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Plan (dry run, nothing written)" in result.output
    assert "fa → en" in result.output and "own language" in result.output
    assert sorted(p.relative_to(ws_root) for p in ws_root.rglob("*")) == before


def test_cli_send_to_outbox(ws_root, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET")  # the outbox may keep its own secret
    result = _cli(ws_root, "send", f"releases/{EXAMPLE_RELEASE}.md", "--list", "press")
    assert result.exit_code == 0, result.output
    assert "8 message(s)" in result.output and "Messages written to outbox/" in result.output
    assert len(list((ws_root / "outbox").rglob("*.eml"))) == 8
    assert (ws_root / "state" / "secret").stat().st_mode & 0o077 == 0


def test_cli_send_user_errors(ws_root):
    assert _cli(ws_root, "send", EXAMPLE_RELEASE).exit_code == 1
    result = _cli(ws_root, "send", EXAMPLE_RELEASE, "--list", "vip")
    assert result.exit_code == 1 and "unknown list 'vip'" in result.output
    result = _cli(ws_root, "send", EXAMPLE_RELEASE, "--list", "press", "--transport", "pigeon")
    assert result.exit_code == 2


def test_cli_recipients_check(ws_root):
    result = _cli(ws_root, "recipients", "check")
    assert result.exit_code == 0, result.output
    assert "members" in result.output and "All lists are valid." in result.output
    (ws_root / "recipients" / "press.csv").write_text("email,name\nbroken,X\n")
    result = _cli(ws_root, "recipients", "check")
    assert result.exit_code == 1
    assert "press.csv:2: invalid email address 'broken'" in result.output


def test_where_narrows_the_press_list(ws):
    from newsletter.audience.selection import parse_where
    sel = Selection(lists=("press",), where=parse_where(("beat=integration",)))
    aud = load_audience(ws, sel, skip_invalid=False)
    assert aud.recipients and all(r.beat == "Integration" for r in aud.recipients)
    both = load_audience(ws, Selection(lists=("press",), where=parse_where(
        ("beat=Integration", f"outlet={aud.recipients[0].outlet}"))), skip_invalid=False)
    assert len(both.recipients) == 1
    with pytest.raises(AudienceError, match="FIELD=VALUE"):
        parse_where(("email=x",))
    assert Selection(lists=("press",)).key() != sel.key()


def test_embargo_refuses_an_early_send(ws, release):
    import datetime as dt

    from newsletter.errors import EmbargoError
    text = release.path.read_text(encoding="utf-8").replace(
        "kind: press\n", "kind: press\nembargo: 2018-08-23T10:00:00+02:00\n")
    release.path.write_text(text, encoding="utf-8")
    rel = load_release(release.path, ws.root)
    request = SendRequest(Selection(lists=("press",)), "outbox")
    planned = plan_send(ws, rel, request)
    early = dt.datetime(2018, 8, 23, 7, 59, tzinfo=dt.UTC)
    with pytest.raises(EmbargoError, match="under embargo until 2018-08-23 10:00"):
        send(ws, rel, request, planned, now=early)
    assert not (ws.root / "outbox").exists()
    later = dt.datetime(2018, 8, 23, 8, 0, tzinfo=dt.UTC)
    assert send(ws, rel, request, planned, now=later).delivered == 8


def test_journalists_get_the_original_and_english_readers_both(ws, release):
    aud = load_audience(ws, Selection(lists=("press", "members")), skip_invalid=False)
    plan = make_plan(release, ws, aud.recipients)
    by_email = {a.recipient.email: a for a in plan}
    press = [a for a in plan if a.recipient.outlet]
    members = [a for a in plan if not a.recipient.outlet]
    assert {a.edition_lang for a in press if a.recipient.language == "de"} == {"de"}
    assert {a.edition_lang for a in press if a.recipient.language == "en"} == {"en+de"}
    assert "tr" in {a.edition_lang for a in members}  # member clubs: their own language
    english = next(a for a in press if a.recipient.language == "en")
    assert english.edition.original is release and english.edition.content_languages == "en, de"
    assert by_email  # every planned person is addressable


def test_english_press_message_carries_the_original(ws, release):
    request = SendRequest(Selection(lists=("press",), where=(("beat", "Migration"),)),
                          "outbox")
    planned = plan_send(ws, release, request)
    send(ws, release, request, planned)
    messages = [message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in (ws.root / "outbox" / planned.campaign).glob("*.eml")]
    english = [m for m in messages if m["Content-Language"] == "en, de"]
    assert english
    html = english[0].get_body(("html",)).get_content()
    text = english[0].get_body(("plain",)).get_content()
    assert "Immigrant association and City of Essen" in html
    assert "Original text (Deutsch)" in html and 'lang="de"' in html
    assert "Immigrantenverbund und Stadt Essen besiegeln" in text
    assert "Photo in print quality" in html
    assert "releases/images/2018-08-23-unterzeichnung-druck.png" in html


def _ledger_with(ws, emails_languages_topics, prefs=()):
    """Confirmed web sign-ups and preferences, as the web pages leave them."""
    from newsletter.audience.tokens import address_id
    from newsletter.delivery import subscribers
    from newsletter.delivery.keys import load_address_key
    from newsletter.delivery.ledger import open_ledger

    key = load_address_key(ws.state_dir)
    with open_ledger(ws.state_dir) as ledger:
        for email, lang, topics in emails_languages_topics:
            rid = address_id(key, email)
            subscribers.add_pending(ledger, rid, email, "", lang, topics)
            subscribers.confirm(ledger, rid)
        for email, lang, topics in prefs:
            subscribers.save_preference(ledger, address_id(key, email), language=lang,
                                        topics=topics)


def test_the_list_web_is_the_confirmed_sign_ups(ws):
    from newsletter.delivery import audiences

    none = audiences.load(ws, Selection(lists=("web",)), skip_invalid=False)
    assert none.recipients == () and not ws.state_dir.exists()  # read only, never created
    _ledger_with(ws, [("new@example.org", "uk", ("culture",))])
    web = audiences.load(ws, Selection(lists=("web",), tags=("culture",)), skip_invalid=False)
    (r,) = web.recipients
    assert (r.email, r.language, r.lists) == ("new@example.org", "uk", ("web",))


def test_preferences_replace_language_and_public_topics_only(ws):
    from newsletter.delivery import audiences

    # the list says tr with tags youth;sports; the reader chose ru and culture
    _ledger_with(ws, [], prefs=[("jugend@elternverein-katernberg.example.org", "ru",
                                 ("culture",))])
    aud = audiences.load(ws, Selection(lists=("members",)), skip_invalid=False)
    (r,) = [r for r in aud.recipients if r.email.startswith("jugend@")]
    assert r.language == "ru" and r.tags == {"sports", "culture"}  # 'sports' is the office's
    youth = audiences.load(ws, Selection(lists=("members",), tags=("youth",)),
                           skip_invalid=False)
    assert "jugend@elternverein-katernberg.example.org" not in _emails(youth)


def test_a_list_may_not_be_called_web(ws_root):
    from newsletter.errors import ConfigError
    from newsletter.workspace.loading import load_workspace

    path = ws_root / "newsletter.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '[lists.press]', '[lists.web]').replace('[lists.press.names]', '[lists.web.names]'),
        encoding="utf-8")
    with pytest.raises(ConfigError, match="built-in list of the web sign-ups"):
        load_workspace(ws_root)
